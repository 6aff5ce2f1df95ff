import { describe, expect, it } from 'vitest';
import { fileObjectKey, isSafeFilename, parseFileObjectKey } from '../../../lambdas/contracts/files';
import { fileKindOf } from '../../../lambdas/files/kinds';
import { createdObjectKeys } from '../../../lambdas/files-ingest/s3-event';

const FILE_ID = 'file-0123456789abcdef0123456789abcdef';

describe('file object keys', () => {
  it('round-trip the owner and file id, whatever characters the owner id has', () => {
    for (const sub of ['dev-client-a', 'a1b2c3d4-0000-4000-8000-123456789abc', 'user+tag@example.com/ü']) {
      const key = fileObjectKey(sub, FILE_ID);
      expect(key).toMatch(/^files\/[A-Za-z0-9_-]+\/file-[0-9a-f]{32}$/);
      expect(parseFileObjectKey(key)).toEqual({ sub, fileId: FILE_ID });
    }
  });

  it('reject keys outside the layout', () => {
    expect(parseFileObjectKey('files/abc/../../etc')).toBeUndefined();
    expect(parseFileObjectKey(`other/${FILE_ID}`)).toBeUndefined();
  });
});

describe('S3 event notifications', () => {
  it('yield the decoded keys of created objects only', () => {
    const body = JSON.stringify({
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { object: { key: 'files/a%2Bb/x+y' } } },
        { eventName: 'ObjectRemoved:Delete', s3: { object: { key: 'files/gone' } } },
      ],
    });
    expect(createdObjectKeys(body)).toEqual(['files/a+b/x y']);
  });

  it('ignore the test event S3 sends and refuse what is not an event', () => {
    expect(createdObjectKeys(JSON.stringify({ Event: 's3:TestEvent' }))).toEqual([]);
    expect(createdObjectKeys('not json')).toBeUndefined();
    expect(createdObjectKeys(JSON.stringify({ Records: 'nope' }))).toBeUndefined();
  });
});

describe('file kinds', () => {
  it('come from the extension first, then the content type', () => {
    expect(fileKindOf('Report.PDF', undefined)).toBe('pdf');
    expect(fileKindOf('data', 'text/csv; charset=utf-8')).toBe('csv');
    expect(fileKindOf('notes', 'text/x-rst')).toBe('text');
    expect(fileKindOf('tool.exe', 'application/octet-stream')).toBeUndefined();
  });
});

describe('filenames', () => {
  it('may not hold path separators or control characters', () => {
    expect(isSafeFilename('Quarterly report (final).pdf')).toBe(true);
    for (const bad of ['', ' ', 'a/b.txt', 'a\\b.txt', 'a\u0000.txt', 'x'.repeat(256)]) {
      expect(isSafeFilename(bad)).toBe(false);
    }
  });
});
