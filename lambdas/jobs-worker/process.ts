import type { ChatCompletion, ChatCompletionRequest } from '../contracts/api';
import type { EventEmitter } from '../events/emitter';
import { jobSettledEvent } from '../jobs/events';
import type { JobError, JobItem, JobStore } from '../jobs/store';
import { JobMessageSchema } from '../jobs/submit';
import type { Caller } from '../shared/auth';
import { ApiError } from '../shared/errors';
import { logger } from '../shared/powertools';

/** Runs one chat turn for a job (the chat pipeline, bound to its dependencies), finishing by `deadlineAt`. */
export type RunCompletion = (
  caller: Caller,
  request: ChatCompletionRequest,
  job: Pick<JobItem, 'sub' | 'jobId' | 'claimToken' | 'turn'>,
  deadlineAt?: number,
) => Promise<ChatCompletion>;

export interface WorkerDeps {
  readonly store: JobStore;
  readonly runCompletion: RunCompletion;
  readonly emitter: EventEmitter | undefined;
  /** How long a claim lasts: at least the worker's own timeout, well below the queue's visibility timeout. */
  readonly leaseMs: number;
  readonly region: string;
  /**
   * Puts a copy of the job's message back on the queue, delivered after `delaySeconds` (SQS allows 0–900). A job
   * whose model is waking waits this way: the copy starts with a fresh receive count, so the wait is not counted
   * as a failed attempt toward the dead-letter queue. Without it, such a job is retried like any failure.
   */
  readonly requeue?: (body: string, delaySeconds: number) => Promise<void>;
  /** How long after its submission a job may keep waiting for a waking model. @default 30 minutes */
  readonly maxWakeWaitMs?: number;
  readonly now?: () => Date;
}

/** Longer than a model takes to wake from zero (minutes), short enough that a stuck wake still fails the job. */
const DEFAULT_MAX_WAKE_WAIT_MS = 30 * 60_000;
/** SQS's longest message delay. */
const MAX_DELAY_SECONDS = 900;

/** Another worker holds a live claim on the job: the message comes back after its visibility timeout. */
export class JobBusyError extends Error {
  constructor(jobId: string) {
    super(`Job ${jobId} is being processed by another worker.`);
    this.name = 'JobBusyError';
  }
}

/** The model call failed in a way a retry may fix; the job stays `processing` and the message is retried. */
export class JobAttemptError extends Error {
  constructor(
    jobId: string,
    readonly reason: JobError,
  ) {
    super(`Job ${jobId} attempt failed: ${reason.code}`);
    this.name = 'JobAttemptError';
  }
}

export type JobOutcome = 'completed' | 'failed' | 'already-settled' | 'missing' | 'waiting';

/** Errors a retry cannot fix: the request itself is refused (validation, moderation), not a failure to serve it. */
function permanentError(error: unknown): JobError | undefined {
  if (
    error instanceof ApiError &&
    error.statusCode >= 400 &&
    error.statusCode < 500 &&
    error.statusCode !== 429
  ) {
    return { code: error.code ?? 'invalid_request', message: error.message };
  }
  return undefined;
}

/** Seconds to wait before the model is asked again, when it answered that it is waking up. */
function wakeDelaySeconds(error: unknown): number | undefined {
  if (!(error instanceof ApiError) || error.code !== 'model_waking') return undefined;
  const seconds = Number(error.headers['retry-after']);
  return Number.isFinite(seconds) ? Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(seconds))) : 10;
}

function transientError(error: unknown): JobError {
  if (error instanceof ApiError) return { code: error.code ?? 'server_error', message: error.message };
  return { code: 'internal_error', message: 'The model call failed.' };
}

/**
 * Processes one job message, idempotently: the job is claimed with a conditional write before the model runs, so
 * a redelivered (or duplicated) message for a finished job never runs the model again, and a message whose job
 * another worker is running is retried later. Throws when the message should come back (SQS retries it, then
 * dead-letters it after the last receive).
 */
export async function processJobMessage(deps: WorkerDeps, body: string): Promise<JobOutcome> {
  const now = deps.now ?? (() => new Date());
  const message = JobMessageSchema.parse(JSON.parse(body));
  const claimed = await deps.store.claimJob(message.sub, message.jobId, deps.leaseMs);

  if (claimed === undefined) {
    const job = await deps.store.getJob(message.sub, message.jobId);
    if (job === undefined) {
      logger.warn('job message for a job that no longer exists', { jobId: message.jobId });
      return 'missing';
    }
    if (job.status === 'completed' || job.status === 'failed') {
      // A duplicate: heal what the first run may not have finished (slot release, event), then acknowledge.
      await settle(deps, job);
      return 'already-settled';
    }
    throw new JobBusyError(message.jobId);
  }

  // Never start the model on a claim that is about to lapse: another worker may retake it and finish first.
  if (claimed.leaseExpiresAt === undefined || claimed.leaseExpiresAt - now().getTime() < deps.leaseMs / 4) {
    await deps.store.releaseJob(claimed, {
      code: 'claim_too_slow',
      message: 'The worker claimed the job too slowly.',
    });
    throw new JobBusyError(message.jobId);
  }

  const caller: Caller = { sub: claimed.sub, scopes: ['chat:write'], clientId: undefined };
  let result: ChatCompletion;
  try {
    // The answer must be in before the claim lapses (another worker may then retake the job).
    result = await deps.runCompletion(
      caller,
      claimed.request,
      claimed,
      claimed.leaseExpiresAt - deps.leaseMs / 8,
    );
  } catch (error) {
    const permanent = permanentError(error);
    if (permanent !== undefined) {
      const failed = await deps.store.finishJob(claimed, { status: 'failed', error: permanent });
      if (failed === undefined) return claimLost(deps, claimed);
      await settle(deps, failed);
      return 'failed';
    }
    const reason = transientError(error);
    const wakeDelay = wakeDelaySeconds(error);
    const waited = now().getTime() - Date.parse(claimed.createdAt);
    if (
      wakeDelay !== undefined &&
      deps.requeue !== undefined &&
      waited < (deps.maxWakeWaitMs ?? DEFAULT_MAX_WAKE_WAIT_MS)
    ) {
      // Released before the copy is sent, so the copy can claim it; the copy is sent before this message is
      // acknowledged, so the job is never without a message (a duplicate is harmless: claims are conditional).
      await deps.store.releaseJob(claimed, reason);
      await deps.requeue(body, wakeDelay);
      logger.info('job waits for the model to wake', { jobId: claimed.jobId, delaySeconds: wakeDelay });
      return 'waiting';
    }
    logger.warn('job attempt failed; it will be retried', {
      jobId: claimed.jobId,
      code: reason.code,
      error: error as Error,
    });
    await deps.store.releaseJob(claimed, reason);
    throw new JobAttemptError(claimed.jobId, reason);
  }

  const completed = await deps.store.finishJob(claimed, { status: 'completed', result });
  if (completed === undefined) {
    logger.warn('job claim lost before completion; result discarded', { jobId: claimed.jobId });
    return claimLost(deps, claimed);
  }
  await settle(deps, completed);
  return 'completed';
}

/**
 * Our claim was retaken (our lease ran out) or the job was failed from the dead-letter queue. The message may
 * only be acknowledged once the job has settled: the worker now holding it may still fail and need this
 * message back (a duplicate delivery shares it, so deleting it here would leave the job stuck).
 */
async function claimLost(deps: WorkerDeps, claimed: JobItem): Promise<JobOutcome> {
  const job = await deps.store.getJob(claimed.sub, claimed.jobId);
  if (job === undefined) return 'missing';
  if (job.status === 'completed' || job.status === 'failed') {
    await settle(deps, job);
    return 'already-settled';
  }
  throw new JobBusyError(claimed.jobId);
}

/** Side effects of a settled job, all idempotent: free the user's slot and emit the job's event. */
async function settle(deps: WorkerDeps, job: JobItem): Promise<void> {
  await deps.store.releaseSlots(job.sub, [job.jobId]);
  const event = jobSettledEvent(job, deps.region);
  if (event !== undefined && deps.emitter !== undefined) await deps.emitter.emitEvents([event]);
}
