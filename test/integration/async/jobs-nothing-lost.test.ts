import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../../lambdas/contracts/api';
import type { JobItem, JobStore } from '../../../lambdas/jobs/store';
import type { RunCompletion } from '../../../lambdas/jobs-worker/process';
import type { RunningPollers } from '../../../scripts/local/event-sources';
import {
  type AsyncTestEnvironment,
  apiEvent,
  seededRandom,
  startAsyncEnvironment,
  testContext,
} from './harness';

/**
 * 500 jobs submitted concurrently through the job API while the worker fails at random — thrown errors,
 * invocations that crash halfway through a batch, duplicate deliveries — on fauxqs with the real redrive policy
 * and the local poller's event source mapping semantics.
 */
const JOBS = 500;
const USERS = 25;
/** Jobs submitted with an Idempotency-Key and then submitted again. */
const RETRIED = 50;
const VISIBILITY_TIMEOUT_SECONDS = 4;
const LEASE_SECONDS = 3;

let env: AsyncTestEnvironment;
let pollers: RunningPollers;
let store: JobStore;
const random = seededRandom(20261123);

/** Observations of the model calls and of the completions, in one process-wide order. */
let clock = 0;
const modelCallsAt = new Map<string, number[]>();
const completedAt = new Map<string, number>();
const deadLettered = new Set<string>();

const completion = (jobId: string): ChatCompletion => ({
  id: `chatcmpl-${jobId}`,
  object: 'chat.completion',
  created: 1,
  model: 'counting-model',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'done', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  conversation_id: 'conv_0123456789abcdef0123456789abcdef',
});

beforeAll(async () => {
  env = await startAsyncEnvironment({ visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS });
  Object.assign(process.env, env.handlerEnv, {
    JOBS_MAX_ACTIVE_PER_USER: String(JOBS / USERS),
    JOB_LEASE_SECONDS: String(LEASE_SECONDS),
  });
  const { createJobStore } = await import('../../../lambdas/jobs/store');
  const { createJobsWorker } = await import('../../../lambdas/jobs-worker/worker');
  const { createDeadLetterHandler } = await import('../../../lambdas/jobs-dlq/handler');
  const { ValidationError } = await import('../../../lambdas/shared/errors');
  const { startPollers } = await import('../../../scripts/local/event-sources');

  const realStore = createJobStore({ dynamo: env.dynamo, tableName: env.tableName });
  store = {
    ...realStore,
    finishJob: async (job, outcome) => {
      const won = await realStore.finishJob(job, outcome);
      if (won !== undefined && outcome.status === 'completed') completedAt.set(job.jobId, ++clock);
      return won;
    },
  };

  // The counting model: every call is recorded; some fail the way a model endpoint fails.
  const runCompletion: RunCompletion = async (_caller, _request, job) => {
    modelCallsAt.set(job.jobId, [...(modelCallsAt.get(job.jobId) ?? []), ++clock]);
    const roll = random();
    if (roll < 0.15) throw new Error('injected: model endpoint error');
    if (roll < 0.17) throw new ValidationError('injected: request refused', 'messages');
    return completion(job.jobId);
  };
  const worker = createJobsWorker({
    store,
    runCompletion,
    emitter: undefined,
    leaseMs: LEASE_SECONDS * 1000,
    region: 'us-east-1',
  });

  // The Lambda around the worker: sometimes it crashes halfway through a batch, sometimes SQS delivers twice.
  const flakyWorker = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const roll = random();
    if (roll < 0.1) {
      const survivors = event.Records.slice(0, Math.floor(random() * event.Records.length));
      if (survivors.length > 0) await worker({ Records: survivors }, testContext('jobs-worker'));
      throw new Error('injected: the invocation crashed mid-batch');
    }
    if (roll < 0.2) {
      // The same messages delivered to two invocations at once.
      const duplicated = event.Records.filter(() => random() < 0.5);
      const [, response] = await Promise.all([
        worker({ Records: duplicated }, testContext('jobs-worker')).catch(() => undefined),
        worker(event, testContext('jobs-worker')),
      ]);
      return response;
    }
    return worker(event, testContext('jobs-worker'));
  };

  const deadLetters = createDeadLetterHandler({ store, emitter: undefined, region: 'us-east-1' });
  pollers = startPollers({
    sqs: env.sqs,
    kinesis: env.kinesis,
    waitTimeSeconds: 1,
    pollIntervalMs: 50,
    queues: [
      {
        functionName: 'jobs-worker',
        queueUrl: env.resources.queueUrls.jobs,
        queueArn: env.resources.queueArns.jobs,
        handler: flakyWorker,
        concurrency: 4,
      },
      {
        functionName: 'jobs-dlq',
        queueUrl: env.resources.queueUrls.jobsDeadLetter,
        queueArn: env.resources.queueArns.jobsDeadLetter,
        handler: async (event, context) => {
          for (const record of event.Records)
            deadLettered.add((JSON.parse(record.body) as { jobId: string }).jobId);
          return deadLetters(event, context);
        },
        concurrency: 1,
      },
    ],
    streams: [],
  });
}, 60_000);

/** Runs `task(0…count-1)` with at most `size` in flight; results in index order. */
async function inPool<T>(size: number, count: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < count; index = next++) results[index] = await task(index);
  };
  await Promise.all(Array.from({ length: size }, lane));
  return results;
}

afterAll(async () => {
  await pollers?.close();
  await env?.close();
});

describe('the job queue under random worker failures', () => {
  it('settles every submitted job exactly once, losing none and never re-running a completed one', async () => {
    const { handler } = await import('../../../lambdas/jobs/handler');
    const submit = async (index: number) => {
      const sub = `user-${index % USERS}`;
      const response = await handler(
        apiEvent({
          method: 'POST',
          path: '/v1/jobs',
          sub,
          body: { messages: [{ role: 'user', content: `job ${index}` }], max_completion_tokens: 8 },
          headers: index < RETRIED ? { 'Idempotency-Key': `key-${index}` } : {},
        }),
        testContext(),
      );
      expect(response.statusCode).toBe(202);
      return { sub, id: (JSON.parse(response.body) as { id: string }).id };
    };

    const started = Date.now();
    // Clients submit concurrently, 10 requests in flight at a time.
    const submitted = await inPool(10, JOBS, submit);
    const submittedAfterMs = Date.now() - started;
    // A client retrying a submission with the same Idempotency-Key gets the same job, not a new one.
    const retried = await inPool(10, RETRIED, submit);
    expect(retried.map((job) => job.id)).toEqual(submitted.slice(0, RETRIED).map((job) => job.id));

    // A bound against a hang, not a speed check: at a load of 20 on 2 cores the crashes and redeliveries took 59 s.
    await pollers.settled({ timeoutMs: 180_000 });
    const settledAfterMs = Date.now() - started;

    const jobs = await Promise.all(submitted.map(({ sub, id }) => store.getJob(sub, id)));
    const settled = jobs.filter((job): job is JobItem => job !== undefined);
    const ids = (status: string) =>
      new Set(settled.filter((job) => job.status === status).map((job) => job.jobId));
    const completed = ids('completed');
    const failed = ids('failed');

    console.log(
      JSON.stringify({
        submittedAfterMs,
        settledAfterMs,
        completed: completed.size,
        failed: failed.size,
        deadLettered: deadLettered.size,
        modelCalls: [...modelCallsAt.values()].flat().length,
        ...pollers.stats,
      }),
    );
    expect(settled).toHaveLength(JOBS);
    expect(completed.size + failed.size).toBe(JOBS);
    expect(new Set([...completed, ...failed, ...deadLettered])).toEqual(
      new Set(submitted.map((job) => job.id)),
    );
    for (const id of deadLettered) expect(completed.has(id) || failed.has(id)).toBe(true);

    const reRunAfterCompletion = [...completedAt].filter(([id, at]) =>
      (modelCallsAt.get(id) ?? []).some((call) => call > at),
    );
    expect(reRunAfterCompletion).toEqual([]);
    for (const job of settled.filter((candidate) => candidate.status === 'completed')) {
      expect(job.result?.id).toBe(`chatcmpl-${job.jobId}`);
    }
    for (const job of settled.filter((candidate) => candidate.status === 'failed')) {
      expect(job.error?.code).toMatch(/^(invalid_value|retries_exhausted)$/);
    }

    // Every user's concurrency slots were given back.
    const slots = await Promise.all(
      Array.from({ length: USERS }, (_, index) => store.activeSlots(`user-${index}`)),
    );
    expect(slots.flat()).toEqual([]);
    // The failures were really injected.
    expect(pollers.stats.crashedInvocations).toBeGreaterThan(0);
    expect(pollers.stats.failedRecords).toBeGreaterThan(0);
  }, 300_000);
});
