import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../../lambdas/contracts/api';
import type { JobItem, JobStore } from '../../../lambdas/jobs/store';
import { type AsyncTestEnvironment, startAsyncEnvironment } from './harness';

/**
 * Property: however concurrent redeliveries of one job's message interleave (with model calls that succeed,
 * fail for a while, are refused, or stall past the lease) and whether the dead-letter consumer also steps in,
 * the job's status as seen by a reader never moves backwards, a settled job never changes again, and the model
 * never runs for a job after its completion was recorded.
 */
let env: AsyncTestEnvironment;
let modules: {
  store: typeof import('../../../lambdas/jobs/store');
  process: typeof import('../../../lambdas/jobs-worker/process');
  deadLetters: typeof import('../../../lambdas/jobs-dlq/handler');
  errors: typeof import('../../../lambdas/shared/errors');
};

beforeAll(async () => {
  env = await startAsyncEnvironment({});
  Object.assign(process.env, env.handlerEnv);
  modules = {
    store: await import('../../../lambdas/jobs/store'),
    process: await import('../../../lambdas/jobs-worker/process'),
    deadLetters: await import('../../../lambdas/jobs-dlq/handler'),
    errors: await import('../../../lambdas/shared/errors'),
  };
}, 60_000);

afterAll(async () => {
  await env?.close();
});

type Behaviour = 'ok' | 'transient' | 'refused' | 'stall';
const LEASE_MS = 1000;

const completion: ChatCompletion = {
  id: 'chatcmpl-property',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  conversation_id: 'conv_0123456789abcdef0123456789abcdef',
};

/**
 * Serialises the deliveries at their steps (each store write, each model call) and lets fast-check choose which
 * waiting step runs next: every step's real DynamoDB call finishes before the next one starts, so the chosen
 * order is the order the writes reach the table, and a failing order shrinks to a short one.
 */
class Interleaving {
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private picks = 0;

  constructor(private readonly choices: readonly number[]) {}

  /** Runs one delivery; it may only proceed past `step()` when chosen. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.running += 1;
    return task().finally(() => {
      this.running -= 1;
      this.next();
    });
  }

  step(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.running -= 1;
      this.next();
    });
  }

  private next(): void {
    if (this.running > 0 || this.waiting.length === 0) return;
    const choice = this.choices[this.picks % Math.max(1, this.choices.length)] ?? 0;
    this.picks += 1;
    const [release] = this.waiting.splice(choice % this.waiting.length, 1);
    this.running += 1;
    release?.();
  }
}

function steppedStore(store: JobStore, interleaving: Interleaving): JobStore {
  const gate = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => {
    return async (...args: A): Promise<R> => {
      await interleaving.step();
      return call(...args);
    };
  };
  return {
    ...store,
    claimJob: gate(store.claimJob),
    finishJob: gate(store.finishJob),
    releaseJob: gate(store.releaseJob),
    abandonJob: gate(store.abandonJob),
    getJob: gate(store.getJob),
    releaseSlots: gate(store.releaseSlots),
  };
}

let runCount = 0;

describe('job status under concurrent redeliveries', () => {
  it('never moves backwards, never changes once settled, and never re-runs the model after completion', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 7 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.constantFrom<Behaviour>('ok', 'transient', 'refused', 'stall'), {
          minLength: 2,
          maxLength: 5,
        }),
        fc.boolean(),
        async (choices, deliveries, deadLettered) => {
          const interleaving = new Interleaving(choices);
          let nowMs = 1_700_000_000_000;
          const now = () => new Date(nowMs);
          const realStore = modules.store.createJobStore({
            dynamo: env.dynamo,
            tableName: env.tableName,
            now,
          });
          const sub = 'property-user';
          const jobId = `job_${(++runCount).toString(16).padStart(32, '0')}`;
          const createdAt = now().toISOString();
          const job: JobItem = {
            ...{ pk: `USER#${sub}`, sk: `JOB#${jobId}` },
            entity: 'job',
            jobId,
            sub,
            status: 'queued',
            request: { messages: [{ role: 'user', content: 'hi' }] },
            requestHash: 'h',
            createdAt,
            updatedAt: createdAt,
            attempts: 0,
          };
          await realStore.createJob(job);

          let order = 0;
          const modelCalls: number[] = [];
          let completedAt: number | undefined;
          const store = steppedStore(
            {
              ...realStore,
              finishJob: async (claimed, outcome) => {
                const settled = await realStore.finishJob(claimed, outcome);
                if (settled !== undefined && outcome.status === 'completed') completedAt = ++order;
                return settled;
              },
            },
            interleaving,
          );

          const body = JSON.stringify({ jobId, sub, enqueuedAt: createdAt });
          const runs = deliveries.map((behaviour) =>
            interleaving.run(() =>
              modules.process
                .processJobMessage(
                  {
                    store,
                    emitter: undefined,
                    leaseMs: LEASE_MS,
                    region: 'us-east-1',
                    now,
                    runCompletion: async () => {
                      modelCalls.push(++order);
                      await interleaving.step();
                      if (behaviour === 'transient') throw new Error('model endpoint error');
                      if (behaviour === 'refused')
                        throw new modules.errors.ValidationError('refused', 'messages');
                      // A stalled worker: time passes beyond its lease while the model runs.
                      if (behaviour === 'stall') nowMs += LEASE_MS * 2;
                      return completion;
                    },
                  },
                  body,
                )
                .catch(() => 'retry later'),
            ),
          );
          if (deadLettered) {
            runs.push(
              interleaving.run(() =>
                modules.deadLetters
                  .failDeadLetteredJob({ store, emitter: undefined, region: 'us-east-1' }, body)
                  .then(String),
              ),
            );
          }

          // One reader, reading again and again while the deliveries run: its observations are in time order.
          const observed: JobItem[] = [];
          let done = false;
          const reader = (async () => {
            while (!done) {
              const item = await realStore.getJob(sub, jobId);
              if (item !== undefined) observed.push(item);
            }
          })();
          await Promise.all(runs);
          done = true;
          await reader;
          const final = await realStore.getJob(sub, jobId);
          if (final !== undefined) observed.push(final);

          const ranks = observed.map((item) => modules.store.JOB_STATUS_RANK[item.status]);
          expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
          const firstSettled = observed.findIndex(
            (item) => item.status === 'completed' || item.status === 'failed',
          );
          if (firstSettled >= 0) {
            const settled = observed[firstSettled];
            for (const later of observed.slice(firstSettled)) {
              expect(later.status).toBe(settled?.status);
              expect(later.result).toEqual(settled?.result);
              expect(later.error).toEqual(settled?.error);
            }
          }
          if (completedAt !== undefined) {
            const at = completedAt;
            expect(modelCalls.filter((call) => call > at)).toEqual([]);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
