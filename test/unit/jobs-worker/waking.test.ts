import { describe, expect, it } from 'vitest';
import type { JobItem, JobStore } from '../../../lambdas/jobs/store';
import { JobAttemptError, processJobMessage, type WorkerDeps } from '../../../lambdas/jobs-worker/process';
import { InferenceUnavailableError } from '../../../lambdas/shared/errors';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const LEASE_MS = 300_000;

/** The job store at its boundary: one claimable job, and what the worker did with it. */
function fakeStore(createdAt: string) {
  const released: string[] = [];
  const job = {
    pk: 'USER#alice',
    sk: 'JOB#job_1',
    entity: 'job',
    jobId: 'job_1',
    sub: 'alice',
    status: 'processing',
    request: { messages: [{ role: 'user', content: 'Hi' }] },
    requestHash: 'h',
    createdAt,
    updatedAt: createdAt,
    attempts: 1,
    claimToken: 't',
    leaseExpiresAt: NOW.getTime() + LEASE_MS,
  } as unknown as JobItem;
  const store = {
    claimJob: async () => job,
    releaseJob: async (_job: JobItem, reason: { code: string }) => {
      released.push(reason.code);
    },
    finishJob: async () => {
      throw new Error('a waking model must not settle the job');
    },
  } as unknown as JobStore;
  return { store, released };
}

const body = JSON.stringify({ jobId: 'job_1', sub: 'alice', enqueuedAt: NOW.toISOString() });
const waking = () => Promise.reject(new InferenceUnavailableError('waking', 10, 'model_waking'));

function deps(store: JobStore, requeued: [string, number][]): WorkerDeps {
  return {
    store,
    runCompletion: waking,
    emitter: undefined,
    leaseMs: LEASE_MS,
    region: 'us-east-1',
    now: () => NOW,
    requeue: async (message, delaySeconds) => {
      requeued.push([message, delaySeconds]);
    },
  };
}

describe('a job whose model is waking', () => {
  it('is handed back and put on the queue again after retry-after, not failed', async () => {
    const { store, released } = fakeStore(new Date(NOW.getTime() - 60_000).toISOString());
    const requeued: [string, number][] = [];

    const outcome = await processJobMessage(deps(store, requeued), body);

    expect(outcome).toBe('waiting');
    expect(released).toEqual(['model_waking']);
    expect(requeued).toEqual([[body, 10]]);
  });

  it('is retried like any failure once it has waited longer than the wake limit', async () => {
    const { store, released } = fakeStore(new Date(NOW.getTime() - 31 * 60_000).toISOString());
    const requeued: [string, number][] = [];

    await expect(processJobMessage(deps(store, requeued), body)).rejects.toBeInstanceOf(JobAttemptError);
    expect(released).toEqual(['model_waking']);
    expect(requeued).toEqual([]);
  });
});
