/**
 * Files and knowledge on the local stack: uploads with the `openai` SDK reach `processed` through the real event
 * path (s3rver → SQS → ingest), retrieval finds each file's facts, another user can neither read nor use them, a
 * corrupt PDF ends as `error`, and deleting a file removes it and its passages.
 */
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileObject } from '../../../lambdas/contracts/files';
import { NotFoundError } from '../../../lambdas/shared/errors';
import { makeDocx } from '../../helpers/docx';
import { fillerText, makePasswordProtectedPdf, makePdf } from '../../helpers/pdf';
import { apiBase, machineToken } from '../setup/context';
import { filesDeps, openaiFor, retrievalDeps, search, settled, subOf } from './support';

let a: OpenAI;
let b: OpenAI;
let subA: string;
let subB: string;
let textFile: FileObject;
let pdfFile: FileObject;

const TEXT_FACT = 'The Heron project launch code is 7419-ALPHA.';
const PDF_FACT = 'The Kestrel warehouse stands in Tromsø beside the ferry terminal.';

beforeAll(async () => {
  [a, b, subA, subB] = await Promise.all([openaiFor('a'), openaiFor('b'), subOf('a'), subOf('b')]);
  const text = [fillerText(1, 40), TEXT_FACT, fillerText(2, 40)].join('\n\n');
  const pdf = await makePdf([
    fillerText(3, 20),
    fillerText(4, 20),
    `${fillerText(5, 6)} ${PDF_FACT}`,
    fillerText(6, 20),
  ]);
  const [uploadedText, uploadedPdf] = await Promise.all([
    a.files.create({ file: await toFile(Buffer.from(text), 'heron-notes.txt'), purpose: 'assistants' }),
    a.files.create({ file: await toFile(Buffer.from(pdf), 'kestrel.pdf'), purpose: 'user_data' }),
  ]);
  [textFile, pdfFile] = await Promise.all([settled(a, uploadedText.id), settled(a, uploadedPdf.id)]);
});

describe('uploading with the openai SDK', () => {
  it('answers with an OpenAI file object in status uploaded', async () => {
    const created = await a.files.create({
      file: await toFile(Buffer.from('short note'), 'note.md'),
      purpose: 'assistants',
    });
    expect(created).toMatchObject({ object: 'file', filename: 'note.md', bytes: 10, purpose: 'assistants' });
    expect(created.id).toMatch(/^file-[0-9a-f]{32}$/);
    expect(created.status).toBe('uploaded');
  });

  it('processes a text file and a PDF', () => {
    expect(textFile).toMatchObject({ status: 'processed', status_details: null });
    expect(pdfFile).toMatchObject({ status: 'processed', pages: 4 });
    expect(textFile.chunks).toBeGreaterThan(1);
  });

  it('lists the caller’s files and serves their bytes back', async () => {
    const listed = await a.files.list();
    expect(listed.data.map((file) => file.id)).toEqual(expect.arrayContaining([textFile.id, pdfFile.id]));
    const content = await a.files.content(pdfFile.id);
    const bytes = new Uint8Array(await content.arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');
    expect(bytes.byteLength).toBe(pdfFile.bytes);
  });

  it('gives a browser (asking for JSON) the download link instead of a redirect', async () => {
    const response = await fetch(`${apiBase()}/files/${textFile.id}/content`, {
      headers: { authorization: `Bearer ${await machineToken('a')}`, accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    const link = (await response.json()) as { object: string; url: string };
    expect(link.object).toBe('file.content_url');
    expect(await (await fetch(link.url)).text()).toContain(TEXT_FACT);
  });
});

describe('retrieval', () => {
  it('finds the fact in the text file first', async () => {
    const result = await search({
      ownerId: subA,
      fileIds: [textFile.id, pdfFile.id],
      query: 'What is the launch code of the Heron project?',
      tokenBudget: 1000,
    });
    expect(result.passages[0]).toMatchObject({ file_id: textFile.id, filename: 'heron-notes.txt' });
    expect(result.passages[0]?.text).toContain(TEXT_FACT);
    expect(result.tokens).toBeLessThanOrEqual(1000);
  });

  it('finds the fact in the PDF, on its page', async () => {
    const result = await search({
      ownerId: subA,
      fileIds: [textFile.id, pdfFile.id],
      query: 'Where is the Kestrel warehouse?',
      tokenBudget: 1000,
    });
    expect(result.passages[0]).toMatchObject({ file_id: pdfFile.id, filename: 'kestrel.pdf', page: 3 });
    expect(result.passages[0]?.text).toContain('Tromsø');
  });

  it('stays within the token budget', async () => {
    const result = await search({
      ownerId: subA,
      fileIds: [textFile.id],
      query: 'river market stone',
      tokenBudget: 300,
    });
    expect(result.passages.length).toBeGreaterThan(0);
    expect(result.tokens).toBeLessThanOrEqual(300);
  });
});

describe('other kinds', () => {
  it('processes a Word document, a CSV and a JSON file, and finds a fact in each', async () => {
    const uploads = await Promise.all([
      a.files.create({
        file: await toFile(
          makeDocx([fillerText(11, 10), 'The Merlin budget is 42 million crowns.']),
          'merlin.docx',
        ),
        purpose: 'assistants',
      }),
      a.files.create({
        file: await toFile(Buffer.from('city,warehouse\nBergen,Gannet\nOslo,Puffin\n'), 'sites.csv'),
        purpose: 'assistants',
      }),
      a.files.create({
        file: await toFile(Buffer.from('{"team":{"lead":"Ada Lovelace","codename":"Skua"}}'), 'team.json'),
        purpose: 'assistants',
      }),
    ]);
    const files = await Promise.all(uploads.map((upload) => settled(a, upload.id)));
    expect(files.map((file) => file.status)).toEqual(['processed', 'processed', 'processed']);
    const ids = files.map((file) => file.id);
    const top = async (query: string) =>
      (await search({ ownerId: subA, fileIds: ids, query, tokenBudget: 800 })).passages[0]?.text;
    expect(await top('What is the Merlin budget?')).toContain('42 million crowns');
    expect(await top('Which warehouse is in Oslo?')).toContain('city: Oslo; warehouse: Puffin');
    expect(await top('Who is the team lead?')).toContain('team.lead: Ada Lovelace');
  });
});

describe('another user', () => {
  it('gets a 404 reading, downloading or deleting the file', async () => {
    await expect(b.files.retrieve(textFile.id)).rejects.toMatchObject({ status: 404 });
    await expect(b.files.content(textFile.id)).rejects.toMatchObject({ status: 404 });
    await expect(b.files.delete(textFile.id)).rejects.toMatchObject({ status: 404 });
    expect((await a.files.retrieve(textFile.id)).id).toBe(textFile.id);
  });

  it('does not see it in their list', async () => {
    const listed = await b.files.list();
    expect(listed.data.map((file) => file.id)).not.toContain(textFile.id);
  });

  it('cannot retrieve from it (a 404 naming the file_ids entry)', async () => {
    const attempt = search({
      ownerId: subB,
      fileIds: [textFile.id],
      query: 'launch code',
      tokenBudget: 1000,
    });
    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    await expect(attempt).rejects.toMatchObject({ statusCode: 404, param: 'file_ids[0]' });
  });
});

describe('a corrupt PDF', () => {
  it('ends as error with a reason', async () => {
    const corrupt = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a real pdf\n%%EOF');
    const created = await a.files.create({
      file: await toFile(corrupt, 'broken.pdf'),
      purpose: 'assistants',
    });
    const file = await settled(a, created.id);
    expect(file.status).toBe('error');
    expect(file.status_details).toMatch(/PDF could not be read/);
    const attempt = search({ ownerId: subA, fileIds: [created.id], query: 'anything', tokenBudget: 100 });
    await expect(attempt).rejects.toMatchObject({ statusCode: 400, code: 'file_not_ready' });
  });
});

describe('a password-protected PDF', () => {
  it('ends as error saying it is protected', async () => {
    const created = await a.files.create({
      file: await toFile(Buffer.from(await makePasswordProtectedPdf()), 'locked.pdf'),
      purpose: 'assistants',
    });
    expect(await settled(a, created.id)).toMatchObject({
      status: 'error',
      status_details: expect.stringMatching(/password-protected/),
    });
  });
});

describe('a presigned upload larger than announced', () => {
  it('is signed for exactly the announced size and type, so S3 refuses any other body', async () => {
    const announced = (await a.post('/files', { body: { filename: 'small.txt', bytes: 10 } })) as FileObject;
    const url = new URL(announced.upload?.url ?? 'http://missing');
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host']),
    );
    expect(announced.upload?.headers).toEqual({ 'content-type': 'text/plain' });
    await a.files.delete(announced.id);
  });

  // The local S3 emulator does not verify signatures: the ingest function checks the size again in any case.
  it('ends as error, its bytes removed, if such bytes reach the bucket anyway', async () => {
    const announced = (await a.post('/files', { body: { filename: 'small.txt', bytes: 10 } })) as FileObject;
    const record = await retrievalDeps().store.getFile(subA, announced.id);
    if (record === undefined) throw new Error('no file record');
    // Written straight to the bucket, as a client holding bucket credentials could.
    await filesDeps().objects.put(record.objectKey, new TextEncoder().encode('x'.repeat(5000)), 'text/plain');
    expect(await settled(a, announced.id)).toMatchObject({
      status: 'error',
      status_details: expect.stringMatching(/more than the 10 bytes announced/),
    });
    await expect(a.files.content(announced.id)).rejects.toMatchObject({ status: 404 });
  });
});

describe('a large file', () => {
  it('is announced as JSON, uploaded to the presigned URL and processed', async () => {
    const text = `${fillerText(7, 30)} The Osprey vault opens at dawn. ${fillerText(8, 30)}`;
    const announced = (await a.post('/files', {
      body: { filename: 'osprey.txt', bytes: Buffer.byteLength(text), content_type: 'text/plain' },
    })) as FileObject;
    expect(announced.status).toBe('uploaded');
    const upload = announced.upload;
    if (upload === undefined) throw new Error('no upload URL in the answer');
    const put = await fetch(upload.url, { method: upload.method, headers: upload.headers, body: text });
    expect(put.status).toBe(200);
    expect(await settled(a, announced.id)).toMatchObject({ status: 'processed' });
    const result = await search({
      ownerId: subA,
      fileIds: [announced.id],
      query: 'When does the Osprey vault open?',
      tokenBudget: 500,
    });
    expect(result.passages[0]?.text).toContain('Osprey vault opens at dawn');
  });
});

describe('deleting a file', () => {
  it('removes the file, its bytes and its passages', async () => {
    const created = await a.files.create({
      file: await toFile(Buffer.from(`${fillerText(9, 10)} The Plover key is under the mat.`), 'plover.txt'),
      purpose: 'assistants',
    });
    await settled(a, created.id);
    const before = await search({
      ownerId: subA,
      fileIds: [created.id],
      query: 'Plover key',
      tokenBudget: 500,
    });
    expect(before.passages.length).toBeGreaterThan(0);

    expect(await a.files.delete(created.id)).toEqual({ id: created.id, object: 'file', deleted: true });

    await expect(a.files.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(a.files.content(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      search({ ownerId: subA, fileIds: [created.id], query: 'Plover key', tokenBudget: 500 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await retrievalDeps().store.listChunks(subA, created.id)).toEqual([]);
  });
});
