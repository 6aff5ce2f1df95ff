/**
 * Lambda's event source mappings, emulated for the local stack: the SQS mapping (`./sqs`) and the Kinesis mapping
 * (`./kinesis`) feed the same handlers the events Lambda delivers, with the batch sizes and failure semantics of
 * the CDK configuration (`ASYNC_EVENT_SOURCES`). This module starts them together and tells when they are idle.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { delay, Invocations, type PollerStats } from './invocation';
import { StreamMapping, type StreamPoller } from './kinesis';
import { pollQueue, type QueuePoller, queueEmpty } from './sqs';

export type { PollerStats } from './invocation';
export type { KinesisHandler, StreamPoller } from './kinesis';
export type { QueuePoller, SqsHandler } from './sqs';

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  readonly queues: readonly QueuePoller[];
  readonly streams: readonly StreamPoller[];
  /** Long-poll wait of a receive (Lambda's pollers wait 20 s). @default 20 */
  readonly waitTimeSeconds?: number;
  /** Pause between reads of a shard with no new records (Lambda reads each shard once a second). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Called with anything a poller itself failed at (not handler failures, which are expected). */
  readonly onError?: (functionName: string, error: unknown) => void;
}

export interface RunningPollers {
  readonly stats: Readonly<PollerStats>;
  /**
   * Resolves once every queue is empty (nothing visible, in flight or delayed) and every shard has been read to
   * its end after this call, with no batch in flight.
   */
  settled(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/** Starts the pollers; they run until `close()`. */
export function startPollers(options: PollerOptions): RunningPollers {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const onError = options.onError ?? ((name, error) => console.error(`[pollers] ${name}:`, error));
  const abort = new AbortController();
  const { signal } = abort;
  const invocations = new Invocations();

  const sqsOptions = {
    sqs: options.sqs,
    invocations,
    signal,
    waitTimeSeconds: options.waitTimeSeconds ?? 20,
    pollIntervalMs,
    onError,
  };
  const streams = options.streams.map(
    (poller) =>
      new StreamMapping(
        { kinesis: options.kinesis, sqs: options.sqs, invocations, signal, pollIntervalMs, onError },
        poller,
      ),
  );

  const loops: Promise<void>[] = [];
  for (const poller of options.queues) {
    for (let worker = 0; worker < (poller.concurrency ?? 2); worker += 1)
      loops.push(pollQueue(sqsOptions, poller));
  }
  for (const mapping of streams) {
    loops.push(
      mapping.run().catch((error: unknown) => {
        if (!signal.aborted) onError(mapping.poller.functionName, error);
      }),
    );
  }

  async function idleSince(since: number): Promise<boolean> {
    if (invocations.inFlight > 0) return false;
    for (const poller of options.queues) {
      if (!(await queueEmpty(options.sqs, poller.queueUrl))) return false;
    }
    const after = Math.max(since, invocations.lastInvocationEnd);
    for (const mapping of streams) {
      if (!(await mapping.readSince(after))) return false;
    }
    return invocations.inFlight === 0;
  }

  return {
    stats: invocations.stats,
    async settled({ timeoutMs = 60_000 } = {}) {
      const since = Date.now();
      const deadline = since + timeoutMs;
      while (Date.now() < deadline) {
        if (await idleSince(since)) return;
        await delay(Math.min(pollIntervalMs, 100));
      }
      throw new Error(
        `The pollers did not settle within ${timeoutMs} ms (${invocations.inFlight} batches in flight).`,
      );
    },
    async close() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}
