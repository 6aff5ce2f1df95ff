import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../../lambdas/contracts/api';
import type { RunningPollers } from '../../../scripts/local/event-sources';
import { type AsyncTestEnvironment, apiEvent, startAsyncEnvironment, testContext, until } from './harness';

/** The job API (`POST /v1/jobs`, `GET /v1/jobs/{id}`) and its worker, on the local emulators. */
const MAX_ACTIVE = 3;

let env: AsyncTestEnvironment;
let pollers: RunningPollers;
let jobsHandler: typeof import('../../../lambdas/jobs/handler')['handler'];
let releaseModel: () => void = () => undefined;
let modelGate = Promise.resolve();

const body = (content = 'Summarise the plot of Hamlet.') => ({ messages: [{ role: 'user', content }] });

async function call(
  options: Parameters<typeof apiEvent>[0],
): Promise<APIGatewayProxyResult & { json: unknown }> {
  const response = await jobsHandler(apiEvent(options), testContext());
  return { ...response, json: JSON.parse(response.body) };
}

const post = (sub: string, payload: unknown, headers: Record<string, string> = {}) =>
  call({ method: 'POST', path: '/v1/jobs', sub, body: payload, headers });
const get = (sub: string, id: string) => call({ method: 'GET', path: `/v1/jobs/${id}`, sub });

beforeAll(async () => {
  env = await startAsyncEnvironment({ visibilityTimeoutSeconds: 2 });
  Object.assign(process.env, env.handlerEnv, {
    JOBS_MAX_ACTIVE_PER_USER: String(MAX_ACTIVE),
    JOB_LEASE_SECONDS: '1',
  });
  jobsHandler = (await import('../../../lambdas/jobs/handler')).handler;
  const { createJobStore } = await import('../../../lambdas/jobs/store');
  const { createJobsWorker } = await import('../../../lambdas/jobs-worker/worker');
  const { startPollers } = await import('../../../scripts/local/event-sources');
  const worker = createJobsWorker({
    store: createJobStore({ dynamo: env.dynamo, tableName: env.tableName }),
    emitter: undefined,
    leaseMs: 1000,
    region: 'us-east-1',
    runCompletion: async (_caller, request, job): Promise<ChatCompletion> => {
      await modelGate;
      const content = `answer to ${request.messages.length} message(s)`;
      return {
        id: `chatcmpl-${job.jobId}`,
        object: 'chat.completion',
        created: 1,
        model: 'chatstack-local',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 },
        conversation_id: 'conv_0123456789abcdef0123456789abcdef',
      };
    },
  });
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
        handler: (event, context) => worker(event, context),
      },
    ],
    streams: [],
  });
}, 60_000);

afterAll(async () => {
  releaseModel();
  await pollers?.close();
  await env?.close();
});

describe('POST /v1/jobs and GET /v1/jobs/{id}', () => {
  it('accepts a job with 202 and later shows its completed result', async () => {
    const accepted = await post('alice', body());

    expect(accepted.statusCode).toBe(202);
    expect(accepted.json).toMatchObject({ object: 'job', status: 'queued' });
    const { id } = accepted.json as { id: string };
    expect(id).toMatch(/^job_[0-9a-f]{32}$/);
    expect(accepted.headers?.location).toBe(`/v1/jobs/${id}`);

    await until(async () => ((await get('alice', id)).json as { status: string }).status === 'completed');
    const finished = await get('alice', id);
    expect(finished.statusCode).toBe(200);
    expect(finished.json).toMatchObject({
      id,
      status: 'completed',
      attempts: 1,
      result: { object: 'chat.completion', choices: [{ message: { content: 'answer to 1 message(s)' } }] },
    });
  });

  it('returns the same job for a repeated Idempotency-Key', async () => {
    const first = await post('alice', body('once'), { 'Idempotency-Key': 'order-42' });
    const again = await post('alice', body('once'), { 'Idempotency-Key': 'order-42' });

    expect(again.statusCode).toBe(202);
    expect((again.json as { id: string }).id).toBe((first.json as { id: string }).id);
    expect(again.headers?.['idempotent-replayed']).toBe('true');
  });

  it('refuses an Idempotency-Key reused with a different body', async () => {
    await post('alice', body('first'), { 'Idempotency-Key': 'order-43' });

    const reused = await post('alice', body('second'), { 'Idempotency-Key': 'order-43' });

    // The same answer as POST /v1/chat/completions gives: one idempotency mechanism, one error.
    expect(reused.statusCode).toBe(400);
    expect(reused.json).toMatchObject({
      error: { code: 'idempotency_key_reused', param: 'Idempotency-Key' },
    });
  });

  it("answers 404 for someone else's job, as for a job that does not exist", async () => {
    const { id } = (await post('alice', body())).json as { id: string };

    const asBob = await get('bob', id);
    const missing = await get('bob', 'job_00000000000000000000000000000000');

    expect(asBob.statusCode).toBe(404);
    expect(asBob.json).toEqual(missing.json);
    expect(asBob.json).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('rejects an invalid body with a 400 naming the field', async () => {
    const response = await post('alice', { messages: [] });

    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({ error: { type: 'invalid_request_error', param: 'messages' } });
  });

  it('refuses a job for a model the deployment does not serve with 404 model_not_found, and queues nothing', async () => {
    const sub = `nobody-${crypto.randomUUID()}`;
    const response = await post(sub, { ...body(), model: 'gpt-4o' });

    expect(response.statusCode).toBe(404);
    expect(response.json).toMatchObject({ error: { param: 'model', code: 'model_not_found' } });
    // Nothing was reserved: the user's first real job is accepted as usual.
    expect((await post(sub, body())).statusCode).toBe(202);
  });

  it('limits how many jobs one user may have queued or processing, and frees the slot when one finishes', async () => {
    modelGate = new Promise((resolve) => {
      releaseModel = resolve;
    });
    const held = await Promise.all(Array.from({ length: MAX_ACTIVE }, () => post('carol', body())));
    expect(held.map((response) => response.statusCode)).toEqual(Array(MAX_ACTIVE).fill(202));

    const refused = await post('carol', body());
    const otherUser = await post('dave', body());

    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBeDefined();
    expect(otherUser.statusCode).toBe(202);

    releaseModel();
    const ids = held.map((response) => (response.json as { id: string }).id);
    await until(async () => {
      const statuses = await Promise.all(
        ids.map(async (id) => ((await get('carol', id)).json as { status: string }).status),
      );
      return statuses.every((status) => status === 'completed');
    });
    expect((await post('carol', body())).statusCode).toBe(202);
  });
});
