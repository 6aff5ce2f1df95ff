import { createHash } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { ChatCompletionRequest } from '../contracts/api';
import { keys } from '../contracts/keys';
import type { Caller } from '../shared/auth';
import { ConflictError, NotFoundError, QuotaExceededError } from '../shared/errors';
import { keyReusedError } from '../shared/idempotency';
import { JOB_STATUS_RANK, type JobItem, type JobStore, type JobView, toJobView } from './store';

/** The message a job puts on the queue: just its address; the request itself stays in the job item. */
export const JobMessageSchema = z.object({
  jobId: z.string().min(1),
  sub: z.string().min(1),
  /** ISO instant the job was enqueued, for the queue-time metric. */
  enqueuedAt: z.iso.datetime(),
});
export type JobMessage = z.infer<typeof JobMessageSchema>;

/** Job ids: `job_` + 32 lowercase hex digits. */
export const JOB_ID_PATTERN = /^job_[0-9a-f]{32}$/;

export interface SubmitDeps {
  readonly store: JobStore;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly maxActiveJobsPerUser: number;
  readonly retentionDays: number;
  readonly now?: () => Date;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The same caller and key always name the same job, so a retried submission finds the first one. */
function jobIdFor(sub: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return `job_${crypto.randomUUID().replaceAll('-', '')}`;
  return `job_${sha256(`${sub}\u0000${idempotencyKey}`).slice(0, 32)}`;
}

/**
 * Accepts a job: reserves one of the caller's active-job slots, writes the `queued` item, then enqueues its
 * address. Retries with an Idempotency-Key are answered by the API's idempotency records (`shared/idempotency`);
 * the job id also follows from the key, so a submission that died between the write and the send is healed by
 * the next one (which finds the job and re-enqueues it while it is still `queued`; the worker is idempotent).
 */
export async function submitJob(
  deps: SubmitDeps,
  caller: Caller,
  request: ChatCompletionRequest,
  idempotencyKey: string | undefined,
): Promise<{ job: JobView; created: boolean }> {
  const now = (deps.now ?? (() => new Date()))();
  const jobId = jobIdFor(caller.sub, idempotencyKey);
  const requestHash = sha256(JSON.stringify(request));

  if (idempotencyKey !== undefined) {
    const existing = await deps.store.getJob(caller.sub, jobId);
    if (existing !== undefined) return { job: await replay(deps, existing, requestHash), created: false };
  }

  await reserveSlotOrRefuse(deps, caller.sub, jobId);

  const createdAt = now.toISOString();
  const item: JobItem = {
    ...keys.job(caller.sub, jobId),
    entity: 'job',
    jobId,
    sub: caller.sub,
    status: 'queued',
    request,
    requestHash,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(request.conversation_id ? { conversationId: request.conversation_id } : {}),
    createdAt,
    updatedAt: createdAt,
    attempts: 0,
    ...(deps.retentionDays > 0
      ? { expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 86_400 }
      : {}),
  };
  if (!(await deps.store.createJob(item))) {
    // A concurrent request with the same Idempotency-Key won the race.
    const existing = await deps.store.getJob(caller.sub, jobId);
    if (existing === undefined) throw new ConflictError('The job is being created; retry the request.');
    return { job: await replay(deps, existing, requestHash), created: false };
  }

  try {
    await enqueue(deps, { jobId, sub: caller.sub, enqueuedAt: createdAt });
  } catch (error) {
    // Never leave a job queued that no message will ever pick up.
    await deps.store.abandonJob(caller.sub, jobId, {
      code: 'enqueue_failed',
      message: 'The job could not be queued.',
    });
    await deps.store.releaseSlots(caller.sub, [jobId]);
    throw error;
  }
  return { job: toJobView(item), created: true };
}

/** Reads one of the caller's jobs; someone else's job is a 404, like a missing one. */
export async function readJob(store: JobStore, caller: Caller, jobId: string): Promise<JobView> {
  const job = JOB_ID_PATTERN.test(jobId) ? await store.getJob(caller.sub, jobId) : undefined;
  if (job === undefined) throw new NotFoundError('Job', 'id');
  return toJobView(job);
}

async function replay(deps: SubmitDeps, existing: JobItem, requestHash: string): Promise<JobView> {
  if (existing.requestHash !== requestHash) throw keyReusedError();
  if (existing.status === 'queued') {
    await enqueue(deps, { jobId: existing.jobId, sub: existing.sub, enqueuedAt: existing.createdAt });
  }
  return toJobView(existing);
}

async function enqueue(deps: SubmitDeps, message: JobMessage): Promise<void> {
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: JSON.stringify(message) }),
  );
}

/**
 * How long after its reservation a slot whose job item is missing still belongs to a submission in progress: the
 * jobs function's timeout (29 s) with room to spare. After that the submission is dead and its slot is freed.
 */
export const SLOT_WRITE_GRACE_MS = 120_000;

/**
 * Takes a slot, first freeing slots of jobs that settled without releasing theirs (a worker that died between
 * finishing a job and releasing its slot), so the limit never locks a user out. A slot whose job item is not
 * written yet is freed only once its submission cannot still be running (`SLOT_WRITE_GRACE_MS`): a concurrent
 * submission keeps its slot, so the limit is never exceeded.
 */
async function reserveSlotOrRefuse(deps: SubmitDeps, sub: string, jobId: string): Promise<void> {
  const limit = deps.maxActiveJobsPerUser;
  if (await deps.store.reserveSlot(sub, jobId, limit)) return;
  const nowMs = (deps.now ?? (() => new Date()))().getTime();
  const held = await deps.store.slotReservations(sub);
  const settled: string[] = [];
  for (const slot of held) {
    const job = await deps.store.getJob(sub, slot.jobId);
    const beingWritten =
      job === undefined && slot.reservedAtMs !== undefined && nowMs - slot.reservedAtMs < SLOT_WRITE_GRACE_MS;
    if (beingWritten) continue;
    if (job === undefined || JOB_STATUS_RANK[job.status] === JOB_STATUS_RANK.completed)
      settled.push(slot.jobId);
  }
  await deps.store.releaseSlots(sub, settled);
  if (settled.length > 0 && (await deps.store.reserveSlot(sub, jobId, limit))) return;
  throw new QuotaExceededError(
    `You have ${limit} jobs queued or processing, the most allowed at once. Retry when one has finished.`,
    5,
  );
}
