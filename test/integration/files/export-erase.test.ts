/**
 * What `/v1/me` will call: export lists a user's files with working download links; erasure removes every file
 * record, passage, object and the storage counter. Also: an announced upload whose bytes never came ends as
 * `error` once its URL expired. Users of their own, so no other test's files are touched.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  announceUpload,
  deleteFile,
  eraseFiles,
  exportFiles,
  listFiles,
  readFile,
  uploadInline,
} from '../../../lambdas/files/service';
import { until } from '../async/harness';
import { filesDeps } from './support';

const sub = `erase-${randomUUID()}`;
const deps = () => filesDeps();
let fileIds: string[] = [];

beforeAll(async () => {
  const uploads = await Promise.all(
    ['alpha', 'beta'].map((name) =>
      uploadInline(deps(), sub, {
        filename: `${name}.md`,
        contentType: 'text/markdown',
        purpose: 'assistants',
        body: new TextEncoder().encode(`# ${name}\n\nThe ${name} file says hello.`),
      }),
    ),
  );
  fileIds = uploads.map((file) => file.id);
  // Ingestion runs through the stack's real S3 event path; its settling is the event we wait for.
  await until(async () => {
    const files = await deps().store.listFiles(sub);
    return files.length === 2 && files.every((file) => file.status === 'processed');
  }, 60_000);
});

describe('export', () => {
  it('lists every file with a download link that serves its bytes', async () => {
    const exported = await exportFiles(deps(), sub);
    expect(exported.map((file) => file.id).sort()).toEqual([...fileIds].sort());
    for (const file of exported) {
      const response = await fetch(file.download_url);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(`The ${file.filename.replace('.md', '')} file says hello.`);
    }
  });
});

describe('erasure', () => {
  it('removes records, passages, objects and the stored bytes', async () => {
    const before = await deps().store.storedBytes(sub);
    expect(before).toBeGreaterThan(0);
    const keysBefore = (await deps().store.listFiles(sub)).map((file) => file.objectKey);

    expect(await eraseFiles(deps(), sub)).toEqual({ files: 2 });

    expect(await deps().store.listFiles(sub)).toEqual([]);
    for (const fileId of fileIds) expect(await deps().store.listChunks(sub, fileId)).toEqual([]);
    for (const key of keysBefore) expect(await deps().objects.size(key)).toBeUndefined();
    expect(await deps().store.storedBytes(sub)).toBe(0);
    expect(await eraseFiles(deps(), sub)).toEqual({ files: 0 });
  });
});

describe('an announced upload whose bytes never came', () => {
  it('ends as error once its upload URL expired, and deleting it frees its reservation', async () => {
    const owner = `abandoned-${randomUUID()}`;
    const twoHoursAgo = () => new Date(Date.now() - 2 * 3600 * 1000);
    const announced = await announceUpload({ ...deps(), now: twoHoursAgo }, owner, {
      filename: 'never.pdf',
      bytes: 1000,
      purpose: 'assistants',
    });
    expect(await deps().store.storedBytes(owner)).toBe(1000);

    expect(await readFile(deps(), owner, announced.id)).toMatchObject({
      status: 'error',
      status_details: expect.stringMatching(/upload URL expired/),
    });
    expect((await listFiles(deps(), owner, { limit: 10, order: 'desc' })).data[0]?.status).toBe('error');

    await deleteFile(deps(), owner, announced.id);
    expect(await deps().store.storedBytes(owner)).toBe(0);
  });

  it('stays uploaded while its URL is still valid', async () => {
    const owner = `pending-${randomUUID()}`;
    const announced = await announceUpload(deps(), owner, {
      filename: 'soon.pdf',
      bytes: 1000,
      purpose: 'assistants',
    });
    expect((await readFile(deps(), owner, announced.id)).status).toBe('uploaded');
    await deleteFile(deps(), owner, announced.id);
  });
});
