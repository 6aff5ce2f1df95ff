import { describe, expect, it } from 'vitest';
import {
  type DataExportClient,
  type DataExportStatus,
  EXPORT_WAIT_MS,
  ExportFailedError,
  waitForExport,
} from '../../../web/src/data-export';

const status = (overrides: Partial<DataExportStatus>): DataExportStatus => ({
  id: 'exp_1',
  status: 'queued',
  url: null,
  error: null,
  ...overrides,
});

/** A client answering `answers` in turn (start first), counting the polls. */
function client(answers: readonly DataExportStatus[]): DataExportClient & { polls: number } {
  const queue = [...answers];
  const next = async () => queue.shift() ?? status({ status: 'running' });
  const fake = {
    polls: 0,
    startExport: next,
    exportStatus: async (id: string) => {
      expect(id).toBe('exp_1');
      fake.polls++;
      return next();
    },
  };
  return fake;
}

describe('waitForExport', () => {
  it('polls until the export is written and resolves with its download link', async () => {
    const api = client([
      status({}),
      status({ status: 'running' }),
      status({ status: 'completed', url: 'https://exports.example/exp_1' }),
    ]);
    const waits: number[] = [];

    const url = await waitForExport(api, { sleep: async (ms) => void waits.push(ms) });

    expect(url).toBe('https://exports.example/exp_1');
    expect(api.polls).toBe(2);
    expect(waits).toEqual([1000, 1500]);
  });

  it('fails with the server’s reason when the export failed', async () => {
    const api = client([status({}), status({ status: 'failed', error: { message: 'Please ask again.' } })]);

    await expect(waitForExport(api, { sleep: async () => undefined })).rejects.toEqual(
      new ExportFailedError('Please ask again.'),
    );
  });

  it('gives up after EXPORT_WAIT_MS', async () => {
    let clock = 0;
    const api = client([status({})]);

    const sleep = async (ms: number) => {
      clock += ms;
    };

    await expect(waitForExport(api, { now: () => clock, sleep })).rejects.toBeInstanceOf(ExportFailedError);
    expect(clock).toBeGreaterThanOrEqual(EXPORT_WAIT_MS);
  });
});
