/**
 * The active-job slot cleanup on the local table: a slot whose job item is not written yet belongs to a submission
 * still in progress and is kept (the limit is never exceeded); once that submission cannot be running any more,
 * its slot is freed so the user is not locked out.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createJobStore } from '../../../lambdas/jobs/store';
import { SLOT_WRITE_GRACE_MS, submitJob } from '../../../lambdas/jobs/submit';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { stack } from '../setup/context';

const LIMIT = 2;

function deps(nowMs: number) {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
  const now = () => new Date(nowMs);
  return {
    store: createJobStore({ dynamo, tableName: LOCAL_TABLE_NAME, now }),
    // Never reached: every submission here is refused before it enqueues.
    sqs: new SQSClient({ endpoint: stack().sqs, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    queueUrl: 'unused',
    maxActiveJobsPerUser: LIMIT,
    retentionDays: 0,
    now,
  };
}

const caller = (sub: string) => ({ sub, scopes: ['chat:write'], clientId: undefined });
const request = { model: 'chatstack-local', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('the active-job slot cleanup', () => {
  it('keeps the slots of submissions whose job items are still being written', async () => {
    const sub = `slots-${randomUUID()}`;
    const start = Date.parse('2026-12-01T10:00:00.000Z');
    const reserving = deps(start);
    // Two submissions have reserved their slots and not written their jobs yet.
    expect(await reserving.store.reserveSlot(sub, 'job_a', LIMIT)).toBe(true);
    expect(await reserving.store.reserveSlot(sub, 'job_b', LIMIT)).toBe(true);

    const third = deps(start + 1_000);
    await expect(submitJob(third, caller(sub), request, undefined)).rejects.toMatchObject({
      statusCode: 429,
    });
    expect((await third.store.activeSlots(sub)).sort()).toEqual(['job_a', 'job_b']);
  });

  it('frees them once those submissions cannot be running any more', async () => {
    const sub = `stale-${randomUUID()}`;
    const start = Date.parse('2026-12-01T10:00:00.000Z');
    const reserving = deps(start);
    await reserving.store.reserveSlot(sub, 'job_a', LIMIT);
    await reserving.store.reserveSlot(sub, 'job_b', LIMIT);

    const later = deps(start + SLOT_WRITE_GRACE_MS + 1);
    const held = await later.store.slotReservations(sub);
    expect(held.map((slot) => slot.reservedAtMs)).toEqual([start, start]);
    // The enqueue goes to a queue that does not exist: the job is abandoned and its slot given back, which shows
    // the stale slots were freed first (otherwise the refusal is a 429).
    const outcome = await submitJob(later, caller(sub), request, undefined).catch((error: unknown) => error);
    expect(outcome).not.toMatchObject({ statusCode: 429 });
    expect(await later.store.activeSlots(sub)).toEqual([]);
  });
});
