import {
  KinesisClient,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { type AnalyticsEvent, buildEvent, MAX_EVENT_BYTES } from '../../../lambdas/contracts/events';
import { createEventEmitter } from '../../../lambdas/events/emitter';

type PutRecordsResponder = (input: PutRecordsCommandInput, call: number) => PutRecordsCommandOutput | Error;

/** A real Kinesis client whose PutRecords calls are answered in process, at the SDK boundary. */
function fakeKinesis(respond: PutRecordsResponder) {
  const calls: PutRecordsCommandInput[] = [];
  const client = new KinesisClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      const input = args.input as PutRecordsCommandInput;
      calls.push(input);
      const answer = respond(input, calls.length);
      if (answer instanceof Error) throw answer;
      return { output: answer, response: {} };
    },
    { step: 'initialize', name: 'fakePutRecords' },
  );
  return { client, calls };
}

const accepted = (input: PutRecordsCommandInput): PutRecordsCommandOutput => ({
  $metadata: {},
  FailedRecordCount: 0,
  Records: (input.Records ?? []).map((_, index) => ({ SequenceNumber: String(index), ShardId: 'shardId-0' })),
});

const turn = (sub = 'user-1'): AnalyticsEvent =>
  buildEvent({ type: 'chat.turn', sub, status: 'ok', tokensIn: 12, tokensOut: 34, model: 'tiny' });

const decode = (data: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(data)) as AnalyticsEvent;
const noSleep = async () => {};

describe('createEventEmitter', () => {
  it('sends events as JSON records keyed by the user sub', async () => {
    const kinesis = fakeKinesis(accepted);
    const emitter = createEventEmitter({ kinesis: kinesis.client, streamName: 'events', sleep: noSleep });
    const events = [turn('alice'), turn('bob')];

    const result = await emitter.emitEvents(events);

    expect(result).toEqual({ emitted: 2, failed: [], invalid: 0 });
    const records = kinesis.calls[0]?.Records ?? [];
    expect(records.map((record) => record.PartitionKey)).toEqual(['alice', 'bob']);
    expect(records.map((record) => decode(record.Data))).toEqual(events);
  });

  it('splits more than 500 events into several PutRecords calls', async () => {
    const kinesis = fakeKinesis(accepted);
    const emitter = createEventEmitter({ kinesis: kinesis.client, streamName: 'events', sleep: noSleep });

    const result = await emitter.emitEvents(Array.from({ length: 1201 }, () => turn()));

    expect(result.emitted).toBe(1201);
    expect(kinesis.calls.map((call) => call.Records?.length)).toEqual([500, 500, 201]);
  });

  it('retries only the records Kinesis rejected', async () => {
    const kinesis = fakeKinesis((input, call) => {
      const records = input.Records ?? [];
      if (call > 1) return accepted(input);
      return {
        $metadata: {},
        FailedRecordCount: 1,
        Records: records.map((_, index) =>
          index === 1
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
            : { SequenceNumber: String(index), ShardId: 'shardId-0' },
        ),
      };
    });
    const emitter = createEventEmitter({ kinesis: kinesis.client, streamName: 'events', sleep: noSleep });
    const events = [turn('a'), turn('b'), turn('c')];

    const result = await emitter.emitEvents(events);

    expect(result).toEqual({ emitted: 3, failed: [], invalid: 0 });
    expect(kinesis.calls).toHaveLength(2);
    expect((kinesis.calls[1]?.Records ?? []).map((record) => decode(record.Data))).toEqual([events[1]]);
  });

  it('backs off between attempts and reports what is still rejected at the end without throwing', async () => {
    const delays: number[] = [];
    const kinesis = fakeKinesis(() => new Error('stream unavailable'));
    const emitter = createEventEmitter({
      kinesis: kinesis.client,
      streamName: 'events',
      maxAttempts: 3,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const events = [turn()];

    const result = await emitter.emitEvents(events);

    expect(result).toEqual({ emitted: 0, failed: events, invalid: 0 });
    expect(kinesis.calls).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('drops events that break the schema instead of sending them', async () => {
    const kinesis = fakeKinesis(accepted);
    const emitter = createEventEmitter({ kinesis: kinesis.client, streamName: 'events', sleep: noSleep });
    const withText = { ...turn(), content: 'the user said hello' } as AnalyticsEvent;

    const result = await emitter.emitEvents([withText, turn()]);

    expect(result).toEqual({ emitted: 1, failed: [], invalid: 1 });
    expect(kinesis.calls[0]?.Records).toHaveLength(1);
  });
});

describe('the analytics event', () => {
  it('stays under 1 KB even with every field at its longest', () => {
    const long = (length: number) => 'x'.repeat(length);
    const event = buildEvent({
      type: 'moderation.blocked',
      sub: long(128),
      clientId: long(64),
      requestId: long(64),
      conversationId: long(64),
      jobId: long(64),
      model: long(64),
      region: long(32),
      queueMs: 86_400_000,
      timeToFirstTokenMs: 86_400_000,
      totalMs: 86_400_000,
      tokensIn: 10_000_000,
      tokensOut: 10_000_000,
      moderation: { verdict: 'not_checked', direction: 'output', category: long(48) },
      status: 'cancelled',
      errorCode: long(48),
    });

    expect(new TextEncoder().encode(JSON.stringify(event)).byteLength).toBeLessThan(MAX_EVENT_BYTES);
  });
});
