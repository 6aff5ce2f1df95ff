import type { FileKind } from '../contracts/files';

/**
 * What kind of document a file is, from its name and content type (and, where the bytes are at hand, their
 * signature): the ingest function extracts text by kind. `undefined` means we cannot read it.
 */
const BY_EXTENSION: Readonly<Record<string, FileKind>> = {
  pdf: 'pdf',
  docx: 'docx',
  csv: 'csv',
  json: 'json',
  txt: 'text',
  text: 'text',
  log: 'text',
  md: 'markdown',
  markdown: 'markdown',
};

const BY_CONTENT_TYPE: Readonly<Record<string, FileKind>> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/csv': 'csv',
  'application/json': 'json',
  'text/plain': 'text',
  'text/markdown': 'markdown',
};

export const CONTENT_TYPE_OF: Readonly<Record<FileKind, string>> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  csv: 'text/csv',
  json: 'application/json',
  text: 'text/plain',
  markdown: 'text/markdown',
};

export const SUPPORTED_EXTENSIONS = Object.keys(BY_EXTENSION).map((extension) => `.${extension}`);

export function fileKindOf(filename: string, contentType: string | undefined): FileKind | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  const byName = extension === undefined ? undefined : BY_EXTENSION[extension];
  if (byName !== undefined) return byName;
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return BY_CONTENT_TYPE[type] ?? (type.startsWith('text/') ? 'text' : undefined);
}
