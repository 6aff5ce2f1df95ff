import { describe, expect, it } from 'vitest';
import { extract, UnreadableFileError } from '../../../lambdas/files-ingest/extract';
import { makeDocx } from '../../helpers/docx';
import { makePasswordProtectedPdf, makePdf } from '../../helpers/pdf';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('extract', () => {
  it('reads each PDF page as its own segment', async () => {
    const pdf = await makePdf(['First page text.', 'Second page text.']);
    const extracted = await extract('pdf', pdf);
    expect(extracted.pages).toBe(2);
    expect(extracted.segments).toEqual([
      { text: expect.stringContaining('First page text.'), page: 1 },
      { text: expect.stringContaining('Second page text.'), page: 2 },
    ]);
  });

  it('refuses a malformed PDF as unreadable', async () => {
    await expect(extract('pdf', bytes('%PDF-1.4 nothing here'))).rejects.toMatchObject({
      name: 'UnreadableFileError',
      code: 'malformed',
    });
  });

  it('refuses a password-protected PDF, saying so', async () => {
    await expect(extract('pdf', await makePasswordProtectedPdf())).rejects.toMatchObject({
      code: 'encrypted',
      message: expect.stringMatching(/password-protected/),
    });
  });

  it('refuses a PDF with no text', async () => {
    const pdf = await makePdf(['']);
    await expect(extract('pdf', pdf)).rejects.toMatchObject({ code: 'no_text' });
  });

  it('keeps CSV headers with every row', async () => {
    const extracted = await extract('csv', bytes('city,population\nOslo,709000\nBergen,291000\n'));
    expect(extracted.segments.map((segment) => segment.text)).toEqual([
      'city: Oslo; population: 709000',
      'city: Bergen; population: 291000',
    ]);
  });

  it('keeps the path of every JSON value', async () => {
    const extracted = await extract('json', bytes('{"team":{"lead":"Ada","members":["Bo","Cy"]}}'));
    expect(extracted.segments.map((segment) => segment.text)).toEqual([
      'team.lead: Ada',
      'team.members[0]: Bo',
      'team.members[1]: Cy',
    ]);
  });

  it('refuses invalid JSON and non-UTF-8 text as unreadable', async () => {
    await expect(extract('json', bytes('{"a":'))).rejects.toBeInstanceOf(UnreadableFileError);
    await expect(extract('text', new Uint8Array([0xff, 0xfe, 0x00, 0xd8]))).rejects.toMatchObject({
      code: 'not_text',
    });
  });

  it('reads the paragraphs of a Word document', async () => {
    const extracted = await extract(
      'docx',
      makeDocx(['Quarterly plan', 'Ship the <Heron> release in May & June.']),
    );
    expect(extracted.segments[0]?.text).toContain('Quarterly plan');
    expect(extracted.segments[0]?.text).toContain('Ship the <Heron> release in May & June.');
  });

  it('refuses a DOCX that is not a zip', async () => {
    await expect(extract('docx', bytes('not a zip'))).rejects.toMatchObject({ code: 'malformed' });
  });
});
