/**
 * Bad uploads get OpenAI error objects naming the field (never a 5xx), and the per-user storage quota holds.
 */
import { toFile } from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiBase, machineToken } from '../setup/context';
import { FILES_TEST_QUOTA_BYTES } from '../setup/global';
import { openaiFor } from './support';

let token: string;

async function post(body: BodyInit, contentType?: string) {
  const response = await fetch(`${apiBase()}/files`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
    },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as { error?: Record<string, unknown> } & Record<string, unknown>,
  };
}

function form(parts: Record<string, string | Blob>, filename = 'notes.txt'): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') data.append(name, value);
    else data.append(name, value, filename);
  }
  return data;
}

beforeAll(async () => {
  token = await machineToken('a');
});

describe('POST /v1/files refuses', () => {
  it('a multipart body without a file, naming `file`', async () => {
    const { status, body } = await post(form({ purpose: 'assistants' }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'file',
      code: 'missing_required_parameter',
    });
  });

  it('a missing purpose, naming `purpose`', async () => {
    const { status, body } = await post(form({ file: new Blob(['hello']) }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'purpose', code: 'missing_required_parameter' });
  });

  it('an unknown purpose, naming `purpose`', async () => {
    const { status, body } = await post(form({ file: new Blob(['hello']), purpose: 'homework' }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'purpose', code: 'invalid_value' });
  });

  it('a type it cannot read, naming `file`', async () => {
    const { status, body } = await post(
      form({ file: new Blob([new Uint8Array([0, 1, 2])]), purpose: 'assistants' }, 'tool.exe'),
    );
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'file', code: 'unsupported_file' });
  });

  it('an empty file, naming `file`', async () => {
    const { status, body } = await post(form({ file: new Blob([]), purpose: 'assistants' }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'file', code: 'empty_file' });
  });

  it('an announced file over the size limit, naming `bytes`', async () => {
    const { status, body } = await post(
      JSON.stringify({ filename: 'big.pdf', bytes: 60 * 1024 * 1024 }),
      'application/json',
    );
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'bytes', code: 'file_too_large' });
  });

  it('an announced file with a path in its name, naming `filename`', async () => {
    const { status, body } = await post(
      JSON.stringify({ filename: '../etc/passwd.txt', bytes: 10 }),
      'application/json',
    );
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'filename' });
  });

  it('malformed JSON', async () => {
    const { status, body } = await post('{"filename": ', 'application/json');
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('a body that is neither multipart nor JSON', async () => {
    const { status, body } = await post('hello', 'text/plain');
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ param: 'file', code: 'unsupported_content_type' });
  });
});

describe('the storage quota', () => {
  it('refuses a file that would pass it with a 429, and frees the room when a file is deleted', async () => {
    const client = await openaiFor('a');
    const half = Math.floor(FILES_TEST_QUOTA_BYTES * 0.6);
    const first = await client.post<{ id: string }>('/files', { body: { filename: 'one.txt', bytes: half } });
    await expect(client.post('/files', { body: { filename: 'two.txt', bytes: half } })).rejects.toMatchObject(
      {
        status: 429,
        error: expect.objectContaining({ type: 'rate_limit_error' }),
      },
    );
    await client.files.delete(first.id);
    const second = await client.post<{ id: string }>('/files', {
      body: { filename: 'two.txt', bytes: half },
    });
    await client.files.delete(second.id);
  });

  it('is per user: another user is unaffected', async () => {
    const b = await openaiFor('b');
    const created = await b.files.create({
      file: await toFile(Buffer.from('mine'), 'b.txt'),
      purpose: 'assistants',
    });
    expect(created.status).toBe('uploaded');
  });
});
