import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsEvent, EventType } from '../../../lambdas/contracts/events';
import { createLocalAsyncResources } from '../../../scripts/local/async-resources';
import type { RunningPollers } from '../../../scripts/local/event-sources';
import { type AsyncTestEnvironment, seededRandom, startAsyncEnvironment, testContext } from './harness';

/**
 * Analytics events emitted to kinesalite while the consumers fail at random (records that throw, records that
 * throw after their write went through, invocations that crash halfway through a batch) and the producer
 * re-sends some events: the usage totals equal the sums of the distinct events exactly, and the audit log holds
 * each security event once.
 */
const EVENTS = 600;
const USERS = 12;
const DAYS = ['2026-11-22', '2026-11-23'];

let env: AsyncTestEnvironment;
let modules: {
  events: typeof import('../../../lambdas/contracts/events');
  keys: typeof import('../../../lambdas/contracts/keys');
  emitter: typeof import('../../../lambdas/events/emitter');
  consumer: typeof import('../../../lambdas/events/consumer');
  usage: typeof import('../../../lambdas/usage-aggregator/aggregate');
  audit: typeof import('../../../lambdas/audit/record');
  pollers: typeof import('../../../scripts/local/event-sources');
};

beforeAll(async () => {
  env = await startAsyncEnvironment({});
  Object.assign(process.env, env.handlerEnv);
  modules = {
    events: await import('../../../lambdas/contracts/events'),
    keys: await import('../../../lambdas/contracts/keys'),
    emitter: await import('../../../lambdas/events/emitter'),
    consumer: await import('../../../lambdas/events/consumer'),
    usage: await import('../../../lambdas/usage-aggregator/aggregate'),
    audit: await import('../../../lambdas/audit/record'),
    pollers: await import('../../../scripts/local/event-sources'),
  };
}, 60_000);

afterAll(async () => {
  await env?.close();
});

function generateEvents(random: () => number): AnalyticsEvent[] {
  const types: [EventType, number][] = [
    ['chat.turn', 0.6],
    ['job.completed', 0.2],
    ['job.failed', 0.05],
    ['moderation.blocked', 0.05],
    ['auth.failed', 0.04],
    ['data.exported', 0.03],
    ['data.erased', 0.03],
  ];
  const pick = () => {
    let roll = random();
    for (const [type, weight] of types) {
      roll -= weight;
      if (roll < 0) return type;
    }
    return 'chat.turn';
  };
  return Array.from({ length: EVENTS }, (_, index) => {
    const day = DAYS[index % DAYS.length] ?? '2026-11-23';
    const type = pick();
    const usesTokens = type === 'chat.turn' || type === 'job.completed';
    return modules.events.buildEvent({
      type,
      sub: `user-${Math.floor(random() * USERS)}`,
      occurredAt: `${day}T${String(index % 24).padStart(2, '0')}:00:00.000Z`,
      status: type === 'moderation.blocked' ? 'blocked' : type.endsWith('failed') ? 'error' : 'ok',
      model: 'chatstack-local',
      region: 'us-east-1',
      ...(usesTokens
        ? { tokensIn: 1 + Math.floor(random() * 500), tokensOut: Math.floor(random() * 900) }
        : {}),
      ...(type === 'moderation.blocked'
        ? { moderation: { verdict: 'blocked', direction: 'input', category: 'S1' } }
        : {}),
    });
  });
}

type Consumer = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/** A Lambda around a consumer that sometimes crashes halfway through its batch. */
function crashingMidBatch(consumer: Consumer, random: () => number): Consumer {
  return async (event) => {
    if (random() < 0.1) {
      const survivors = event.Records.slice(0, Math.floor(random() * event.Records.length));
      if (survivors.length > 0) await consumer({ Records: survivors }).catch(() => undefined);
      throw new Error('injected: the invocation crashed mid-batch');
    }
    return consumer(event);
  };
}

describe('the analytics consumers under random failures', () => {
  it('count every event exactly once: usage totals equal the sums of the emitted events', async () => {
    const { createEventConsumer } = modules.consumer;
    const random = seededRandom(7);
    const deps = { dynamo: env.dynamo, tableName: env.tableName };
    const auditDeps = { ...deps, retentionDays: 365 };

    const usageConsumer = createEventConsumer(async (event, position) => {
      const roll = random();
      if (roll < 0.02) throw new Error('injected: usage write failed');
      await modules.usage.aggregateUsage(deps, event, position);
      if (roll < 0.04) throw new Error('injected: crashed after the usage write');
    });
    const auditConsumer = createEventConsumer(async (event) => {
      const roll = random();
      if (roll < 0.02) throw new Error('injected: audit write failed');
      await modules.audit.recordAuditEvent(auditDeps, event);
      if (roll < 0.04) throw new Error('injected: crashed after the audit write');
    });

    const stream = env.resources.streams.events;
    const pollers: RunningPollers = modules.pollers.startPollers({
      sqs: env.sqs,
      kinesis: env.kinesis,
      pollIntervalMs: 50,
      queues: [],
      streams: [
        {
          functionName: 'usage-aggregator',
          streamName: stream.name,
          streamArn: stream.arn,
          handler: crashingMidBatch((event) => usageConsumer(event, testContext('usage-aggregator')), random),
          // Injected failures must never exhaust the retries here: this test is about counting, not giving up.
          maxRetryAttempts: 10_000,
          onFailureQueueUrl: env.resources.queueUrls.eventsFailures,
        },
        {
          functionName: 'audit',
          streamName: stream.name,
          streamArn: stream.arn,
          handler: crashingMidBatch((event) => auditConsumer(event, testContext('audit')), random),
          maxRetryAttempts: 10_000,
          onFailureQueueUrl: env.resources.queueUrls.eventsFailures,
        },
      ],
    });

    try {
      const events = generateEvents(seededRandom(11));
      const emitter = modules.emitter.createEventEmitter({ kinesis: env.kinesis, streamName: stream.name });
      // Several producers at once, and a producer that re-sends events it already sent (same event ids).
      const chunks = Array.from({ length: 6 }, (_, index) => events.slice(index * 100, (index + 1) * 100));
      const resent = events.filter((_, index) => index % 15 === 0);
      const results = await Promise.all([...chunks, resent].map((chunk) => emitter.emitEvents(chunk)));
      expect(results.reduce((sum, result) => sum + result.emitted, 0)).toBe(EVENTS + resent.length);

      // A bound against a hang, not a speed check: at a load of 23 on 2 cores 60 s was not always enough.
      await pollers.settled({ timeoutMs: 180_000 });

      const expected = new Map<string, { requests: number; tokensIn: number; tokensOut: number }>();
      for (const event of events.filter((candidate) =>
        modules.events.USAGE_EVENT_TYPES.has(candidate.type),
      )) {
        const key = `${event.sub} ${modules.events.eventDay(event)}`;
        const totals = expected.get(key) ?? { requests: 0, tokensIn: 0, tokensOut: 0 };
        expected.set(key, {
          requests: totals.requests + 1,
          tokensIn: totals.tokensIn + (event.tokensIn ?? 0),
          tokensOut: totals.tokensOut + (event.tokensOut ?? 0),
        });
      }
      const actual = new Map<string, { requests: number; tokensIn: number; tokensOut: number }>();
      for (let user = 0; user < USERS; user += 1) {
        for (const day of DAYS) {
          const { Item: item } = await env.dynamo.send(
            new GetCommand({ TableName: env.tableName, Key: modules.keys.keys.usage(`user-${user}`, day) }),
          );
          if (item !== undefined) {
            actual.set(`user-${user} ${day}`, {
              requests: Number(item.requests),
              tokensIn: Number(item.tokensIn),
              tokensOut: Number(item.tokensOut),
            });
          }
        }
      }
      expect(actual).toEqual(expected);

      const auditEvents = events.filter((event) => modules.events.AUDIT_EVENT_TYPES.has(event.type));
      const audited = [];
      for (const day of DAYS) {
        const { Items: items = [] } = await env.dynamo.send(
          new QueryCommand({
            TableName: env.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `AUDIT#${day}` },
          }),
        );
        audited.push(...items);
      }
      expect(audited.map((record) => record.eventId).sort()).toEqual(
        auditEvents.map((event) => event.eventId).sort(),
      );
      for (const record of audited) expect(JSON.stringify(record)).not.toMatch(/user-\d+/);

      // The failures were really injected, and none of them cost an event.
      expect(pollers.stats.crashedInvocations).toBeGreaterThan(0);
      expect(pollers.stats.failedRecords).toBeGreaterThan(0);
      expect(pollers.stats.recordsToOnFailure).toBe(0);
    } finally {
      await pollers.close();
    }
  }, 240_000);

  it('sends the position of records that exhaust their retries to the on-failure destination', async () => {
    const resources = await createLocalAsyncResources(env, { suffix: '-poison' });
    const stream = resources.streams.events;
    const poison = modules.events.buildEvent({ type: 'chat.turn', sub: 'poison', status: 'ok' });
    const consumer = modules.consumer.createEventConsumer(async (event) => {
      if (event.eventId === poison.eventId) throw new Error('this record can never be processed');
    });
    const pollers = modules.pollers.startPollers({
      sqs: env.sqs,
      kinesis: env.kinesis,
      pollIntervalMs: 20,
      queues: [],
      streams: [
        {
          functionName: 'usage-aggregator',
          streamName: stream.name,
          streamArn: stream.arn,
          handler: (event) => consumer(event, testContext('usage-aggregator')),
          maxRetryAttempts: 2,
          onFailureQueueUrl: resources.queueUrls.eventsFailures,
        },
      ],
    });
    try {
      const emitter = modules.emitter.createEventEmitter({ kinesis: env.kinesis, streamName: stream.name });
      await emitter.emitEvents([poison]);
      await pollers.settled({ timeoutMs: 30_000 });

      const { Messages: messages = [] } = await env.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: resources.queueUrls.eventsFailures, WaitTimeSeconds: 1 }),
      );
      expect(messages).toHaveLength(1);
      const failure = JSON.parse(messages[0]?.Body ?? '{}') as {
        requestContext: { condition: string };
        KinesisBatchInfo: { batchSize: number; streamArn: string };
      };
      expect(failure.requestContext.condition).toBe('RetryAttemptsExhausted');
      expect(failure.KinesisBatchInfo).toMatchObject({ batchSize: 1, streamArn: stream.arn });
    } finally {
      await pollers.close();
    }
  }, 60_000);
});
