/**
 * What both emulated event source mappings share: the Lambda context they invoke with, how a batch response names
 * its failures, and the bookkeeping (`Invocations`) that `settled()` and the tests read.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_REGION } from '../emulators';

/** The account id the local ARNs carry. */
export const LOCAL_ACCOUNT = '000000000000';

export function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const fail = () => {
    throw new Error('Use the returned promise instead of the context callbacks.');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(functionName),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

export function functionArn(functionName: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`;
}

/** Failed item ids of a batch response; `undefined` means the response was not understood (whole batch failed). */
export function failedIds(response: unknown, known: ReadonlySet<string>): Set<string> | undefined {
  if (response === undefined || response === null) return new Set();
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) return undefined;
    ids.add(id);
  }
  return ids;
}

/** Waits `ms`, or less when `signal` aborts (the pollers are closing). */
export const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export interface PollerStats {
  invocations: number;
  /** Invocations that threw (a crashed Lambda). */
  crashedInvocations: number;
  /** Records reported in `batchItemFailures`. */
  failedRecords: number;
  /** Kinesis records sent to the on-failure destination. */
  recordsToOnFailure: number;
}

export type InvocationResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs handler invocations for every mapping and counts them: batches in flight, crashes, the last end. */
export class Invocations {
  readonly stats: PollerStats = {
    invocations: 0,
    crashedInvocations: 0,
    failedRecords: 0,
    recordsToOnFailure: 0,
  };
  /** Batches being delivered (received, not yet settled). */
  inFlight = 0;
  /** When the last invocation ended: a shard read before it may have missed what that invocation emitted. */
  lastInvocationEnd = 0;

  /** One invocation; a thrown error is a crashed Lambda, returned rather than thrown. */
  async invoke<T>(run: () => Promise<T>): Promise<InvocationResult<T>> {
    this.stats.invocations += 1;
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      this.stats.crashedInvocations += 1;
      return { ok: false, error };
    } finally {
      this.lastInvocationEnd = Date.now();
    }
  }

  /** Counts `deliver` as a batch in flight until it settles. */
  async track(deliver: () => Promise<void>): Promise<void> {
    this.inFlight += 1;
    try {
      await deliver();
    } finally {
      this.inFlight -= 1;
    }
  }
}
