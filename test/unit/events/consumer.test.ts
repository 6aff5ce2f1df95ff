import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AnalyticsEvent, buildEvent } from '../../../lambdas/contracts/events';
import { createEventConsumer, sortableSequence } from '../../../lambdas/events/consumer';

const record = (data: unknown, sequenceNumber: string): KinesisStreamRecord => ({
  kinesis: {
    kinesisSchemaVersion: '1.0',
    partitionKey: 'user-1',
    sequenceNumber,
    data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'),
    approximateArrivalTimestamp: 1,
  },
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: `shardId-000000000001:${sequenceNumber}`,
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
  awsRegion: 'us-east-1',
  eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/events',
});

const turn = () => buildEvent({ type: 'chat.turn', sub: 'user-1', status: 'ok', tokensIn: 1, tokensOut: 2 });

describe('createEventConsumer', () => {
  it('hands each event to the handler in order, with its shard and sequence number', async () => {
    const seen: [AnalyticsEvent, string, string][] = [];
    const consumer = createEventConsumer(async (event, position) => {
      seen.push([event, position.shardId, position.sequenceNumber]);
    });
    const events = [turn(), turn()];
    const batch: KinesisStreamEvent = { Records: [record(events[0], '10'), record(events[1], '11')] };

    const response = await consumer(batch);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([
      [events[0], 'shardId-000000000001', '10'],
      [events[1], 'shardId-000000000001', '11'],
    ]);
  });

  it('after a failed record, reports the rest of the batch failed without attempting it', async () => {
    const attempted: string[] = [];
    const consumer = createEventConsumer(async (_event, position) => {
      attempted.push(position.sequenceNumber);
      if (position.sequenceNumber === '2') throw new Error('write failed');
    });
    const batch: KinesisStreamEvent = {
      Records: ['1', '2', '3', '4'].map((sequence) => record(turn(), sequence)),
    };

    const response = await consumer(batch);

    expect(attempted).toEqual(['1', '2']);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['2', '3', '4']);
  });

  it('skips a record no retry could parse instead of blocking the shard', async () => {
    const handled: string[] = [];
    const consumer = createEventConsumer(async (event) => {
      handled.push(event.eventId);
    });
    const good = turn();
    const batch: KinesisStreamEvent = {
      Records: [record('not json', '1'), record({ ...good, content: 'hello' }, '2'), record(good, '3')],
    };

    const response = await consumer(batch);

    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toEqual([good.eventId]);
  });
});

describe('sortableSequence', () => {
  it('orders sequence numbers of different lengths numerically', () => {
    const sequences = ['9', '10', '49590338271490256608559692538361571095921575989136588898', '100'];

    const sorted = [...sequences].sort((a, b) => (sortableSequence(a) < sortableSequence(b) ? -1 : 1));

    expect(sorted).toEqual(['9', '10', '100', '49590338271490256608559692538361571095921575989136588898']);
  });
});
