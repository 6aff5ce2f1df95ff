import { describe, expect, it } from 'vitest';
import { describeFile, type FileInfo, formatBytes, pendingFiles } from '../../../web/src/files';

const file = (overrides: Partial<FileInfo>): FileInfo => ({
  id: 'file-1',
  filename: 'a.pdf',
  bytes: 10,
  created_at: 1,
  status: 'processed',
  status_details: null,
  ...overrides,
});

describe('the files list', () => {
  it('shows sizes in the unit a person reads', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50.0 MB');
  });

  it('says why a file could not be read, and that one is still processing', () => {
    expect(describeFile(file({ status: 'error', status_details: 'The PDF is password-protected.' }))).toBe(
      'The PDF is password-protected.',
    );
    expect(describeFile(file({ status: 'uploaded' }))).toBe('Processing…');
    expect(describeFile(file({ pages: 12 }))).toBe('12 pages · ready');
  });

  it('keeps polling only for files still processing', () => {
    const files = [
      file({ id: 'a', status: 'uploaded' }),
      file({ id: 'b' }),
      file({ id: 'c', status: 'error' }),
    ];
    expect(pendingFiles(files).map((each) => each.id)).toEqual(['a']);
  });
});
