/**
 * Lambda's Kinesis event source mapping, emulated on kinesalite: batches of up to 100 per shard, one at a time, in
 * order. A partial failure retries from the lowest failed sequence number; a thrown error bisects the batch and
 * retries each half; after `maxRetryAttempts` the records' metadata goes to the on-failure destination (an SQS
 * queue) and the shard moves on.
 */
import { randomUUID } from 'node:crypto';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { ASYNC_EVENT_SOURCES } from '../../../lambdas/contracts/events';
import { LOCAL_REGION } from '../emulators';
import { delay, failedIds, functionArn, type Invocations, LOCAL_ACCOUNT, lambdaContext } from './invocation';

export type KinesisHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

export interface StreamPoller {
  readonly functionName: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly handler: KinesisHandler;
  /** @default ASYNC_EVENT_SOURCES.events.batchSize */
  readonly batchSize?: number;
  /** @default ASYNC_EVENT_SOURCES.events.bisectBatchOnFunctionError */
  readonly bisectBatchOnFunctionError?: boolean;
  /** @default ASYNC_EVENT_SOURCES.events.maxRetryAttempts */
  readonly maxRetryAttempts?: number;
  /** SQS queue receiving the metadata of records that exhausted their retries. */
  readonly onFailureQueueUrl?: string;
  readonly timeoutSeconds?: number;
}

export interface KinesisMappingOptions {
  readonly kinesis: KinesisClient;
  /** For the on-failure destination. */
  readonly sqs: SQSClient;
  readonly invocations: Invocations;
  readonly signal: AbortSignal;
  /** Pause between reads of a shard with no new records, and before a retry. */
  readonly pollIntervalMs: number;
  readonly onError: (functionName: string, error: unknown) => void;
}

function toKinesisRecord(record: KinesisRecord, shardId: string, streamArn: string): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-event-source-mapping`,
    awsRegion: LOCAL_REGION,
    eventSourceARN: streamArn,
  };
}

/** One consumer of a stream: a loop per shard, reading in order, one batch at a time. */
export class StreamMapping {
  /** Per shard: time of the last read that found no new records. */
  private readonly lastEmptyRead = new Map<string, number>();

  constructor(
    private readonly options: KinesisMappingOptions,
    readonly poller: StreamPoller,
  ) {}

  /** Polls every shard until the signal aborts. */
  async run(): Promise<void> {
    const { Shards: shards = [] } = await this.options.kinesis.send(
      new ListShardsCommand({ StreamName: this.poller.streamName }),
    );
    await Promise.all(
      shards.flatMap((shard) => (shard.ShardId === undefined ? [] : [this.pollShard(shard.ShardId)])),
    );
  }

  /** Every shard was read to its end (a read that found nothing) after `since`. */
  async readSince(since: number): Promise<boolean> {
    const { Shards: shards = [] } = await this.options.kinesis.send(
      new ListShardsCommand({ StreamName: this.poller.streamName }),
    );
    return shards.every((shard) => (this.lastEmptyRead.get(shard.ShardId ?? '') ?? 0) > since);
  }

  private async pollShard(shardId: string): Promise<void> {
    const { kinesis, signal, invocations } = this.options;
    const batchSize = this.poller.batchSize ?? ASYNC_EVENT_SOURCES.events.batchSize;
    let iterator: string | undefined;
    while (!signal.aborted) {
      try {
        iterator ??= (
          await kinesis.send(
            new GetShardIteratorCommand({
              StreamName: this.poller.streamName,
              ShardId: shardId,
              ShardIteratorType: ASYNC_EVENT_SOURCES.events.startingPosition,
            }),
          )
        ).ShardIterator;
        if (iterator === undefined) return; // closed shard
        const readAt = Date.now();
        const output = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }),
          {
            abortSignal: signal,
          },
        );
        const records = (output.Records ?? []).map((record) =>
          toKinesisRecord(record, shardId, this.poller.streamArn),
        );
        if (records.length > 0) await invocations.track(() => this.deliver(shardId, records, 0));
        iterator = output.NextShardIterator;
        if (iterator === undefined) return;
        if (records.length === 0) {
          this.lastEmptyRead.set(shardId, readAt);
          await delay(this.options.pollIntervalMs, signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        this.options.onError(this.poller.functionName, error);
        await delay(this.options.pollIntervalMs, signal);
      }
    }
  }

  /** One batch of one shard, with Lambda's retry semantics; returns once every record succeeded or was given up. */
  private async deliver(shardId: string, records: KinesisStreamRecord[], retries: number): Promise<void> {
    const { invocations, signal } = this.options;
    const { poller } = this;
    if (records.length === 0 || signal.aborted) return;
    const result = await invocations.invoke(() =>
      poller.handler({ Records: records }, lambdaContext(poller.functionName, poller.timeoutSeconds ?? 60)),
    );
    let retry: KinesisStreamRecord[][];
    if (result.ok) {
      const failed = failedIds(result.value, new Set(records.map((record) => record.kinesis.sequenceNumber)));
      if (failed !== undefined && failed.size === 0) return;
      // Lambda resumes from the lowest failed sequence number; everything before it is checkpointed.
      const firstFailed =
        failed === undefined ? 0 : records.findIndex((record) => failed.has(record.kinesis.sequenceNumber));
      invocations.stats.failedRecords += records.length - firstFailed;
      retry = [records.slice(firstFailed)];
    } else if (
      (poller.bisectBatchOnFunctionError ?? ASYNC_EVENT_SOURCES.events.bisectBatchOnFunctionError) &&
      records.length > 1
    ) {
      const middle = Math.ceil(records.length / 2);
      retry = [records.slice(0, middle), records.slice(middle)];
    } else {
      retry = [records];
    }
    const maxRetryAttempts = poller.maxRetryAttempts ?? ASYNC_EVENT_SOURCES.events.maxRetryAttempts;
    if (retries >= maxRetryAttempts) {
      await this.sendToOnFailure(shardId, retry.flat(), retries);
      return;
    }
    await delay(this.options.pollIntervalMs, signal);
    for (const part of retry) await this.deliver(shardId, part, retries + 1);
  }

  /** What Lambda sends an on-failure destination for a stream batch: where the records are, not the records. */
  private async sendToOnFailure(shardId: string, records: KinesisStreamRecord[], retries: number) {
    const { poller } = this;
    this.options.invocations.stats.recordsToOnFailure += records.length;
    const first = records[0];
    const last = records[records.length - 1];
    if (poller.onFailureQueueUrl === undefined || first === undefined || last === undefined) return;
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: poller.onFailureQueueUrl,
        MessageBody: JSON.stringify({
          requestContext: {
            requestId: randomUUID(),
            functionArn: functionArn(poller.functionName),
            condition: 'RetryAttemptsExhausted',
            approximateInvokeCount: retries + 1,
          },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          version: '1.0',
          timestamp: new Date().toISOString(),
          KinesisBatchInfo: {
            shardId,
            startSequenceNumber: first.kinesis.sequenceNumber,
            endSequenceNumber: last.kinesis.sequenceNumber,
            approximateArrivalOfFirstRecord: new Date(
              first.kinesis.approximateArrivalTimestamp * 1000,
            ).toISOString(),
            approximateArrivalOfLastRecord: new Date(
              last.kinesis.approximateArrivalTimestamp * 1000,
            ).toISOString(),
            batchSize: records.length,
            streamArn: poller.streamArn,
          },
        }),
      }),
    );
  }
}
