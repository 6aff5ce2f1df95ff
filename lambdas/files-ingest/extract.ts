import mammoth from 'mammoth';
import Papa from 'papaparse';
import { extractText, getDocumentProxy } from 'unpdf';
import { FILE_LIMITS, type FileKind } from '../contracts/files';

/**
 * Text extraction by kind, with maintained libraries: PDF.js (through unpdf) for PDF, mammoth for DOCX, papaparse
 * for CSV, the platform for JSON and text. A file we cannot read throws `UnreadableFileError` with a reason the
 * user sees in `status_details`; anything else thrown is a transient failure and is retried.
 */
export class UnreadableFileError extends Error {
  constructor(
    readonly code: 'malformed' | 'encrypted' | 'too_large' | 'no_text' | 'not_text',
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableFileError';
  }
}

export interface Segment {
  readonly text: string;
  /** 1-based page (PDF). */
  readonly page?: number;
}

export interface Extracted {
  readonly segments: readonly Segment[];
  /** Pages (PDF) or 1 for other kinds. */
  readonly pages: number;
}

function boundedText(segments: readonly Segment[], pages: number): Extracted {
  const chars = segments.reduce((sum, segment) => sum + segment.text.length, 0);
  if (chars > FILE_LIMITS.maxExtractedChars) {
    throw new UnreadableFileError(
      'too_large',
      `The file holds ${chars} characters of text; at most ${FILE_LIMITS.maxExtractedChars} are indexed.`,
    );
  }
  const kept = segments.filter((segment) => segment.text.trim() !== '');
  if (kept.length === 0) {
    throw new UnreadableFileError('no_text', 'The file contains no extractable text (images are not read).');
  }
  return { segments: kept, pages };
}

async function extractPdf(bytes: Uint8Array): Promise<Extracted> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'PasswordException') {
      throw new UnreadableFileError(
        'encrypted',
        'The PDF is password-protected; upload an unprotected copy.',
      );
    }
    throw new UnreadableFileError('malformed', `The PDF could not be read (${(error as Error).message}).`);
  }
  try {
    if (pdf.numPages > FILE_LIMITS.maxPages) {
      throw new UnreadableFileError(
        'too_large',
        `The PDF has ${pdf.numPages} pages; at most ${FILE_LIMITS.maxPages} are indexed.`,
      );
    }
    const { text } = await extractText(pdf, { mergePages: false });
    return boundedText(
      text.map((page, index) => ({ text: page, page: index + 1 })),
      pdf.numPages,
    );
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    throw new UnreadableFileError('malformed', `The PDF could not be read (${(error as Error).message}).`);
  } finally {
    await pdf.destroy();
  }
}

async function extractDocx(bytes: Uint8Array): Promise<Extracted> {
  let value: string;
  try {
    ({ value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes) }));
  } catch (error) {
    throw new UnreadableFileError(
      'malformed',
      `The DOCX file could not be read (${(error as Error).message}).`,
    );
  }
  return boundedText([{ text: value }], 1);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UnreadableFileError('not_text', 'The file is not UTF-8 text.');
  }
}

/** Each row as `column: value` pairs, so a passage keeps its headers. */
function extractCsv(bytes: Uint8Array): Extracted {
  const parsed = Papa.parse<Record<string, unknown>>(decodeUtf8(bytes), {
    header: true,
    skipEmptyLines: true,
  });
  const rows = parsed.data.map((row) =>
    Object.entries(row)
      .filter(([, value]) => value !== undefined && value !== '')
      .map(([column, value]) => `${column}: ${String(value)}`)
      .join('; '),
  );
  return boundedText(
    rows.map((text) => ({ text })),
    1,
  );
}

/** `path: value` lines, so a passage keeps where each value sits. */
function extractJson(bytes: Uint8Array): Extracted {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(bytes));
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    throw new UnreadableFileError(
      'malformed',
      `The JSON file could not be parsed (${(error as Error).message}).`,
    );
  }
  const lines: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (lines.length > FILE_LIMITS.maxExtractedChars / 8) return;
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, item] of Object.entries(node)) walk(item, path === '' ? key : `${path}.${key}`);
    } else lines.push(`${path === '' ? '(value)' : path}: ${String(node)}`);
  };
  walk(value, '');
  return boundedText(
    lines.map((text) => ({ text })),
    1,
  );
}

export async function extract(kind: FileKind, bytes: Uint8Array): Promise<Extracted> {
  switch (kind) {
    case 'pdf':
      return extractPdf(bytes);
    case 'docx':
      return extractDocx(bytes);
    case 'csv':
      return extractCsv(bytes);
    case 'json':
      return extractJson(bytes);
    case 'text':
    case 'markdown':
      return boundedText([{ text: decodeUtf8(bytes) }], 1);
  }
}
