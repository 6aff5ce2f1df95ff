import { createHash } from 'node:crypto';
import { type AnalyticsEvent, buildEvent, EventType } from '../contracts/events';
import type { JobItem } from './store';

/**
 * A job's terminal event has an id derived from the job, so emitting it again (a redelivered message that finds
 * the job already settled re-emits it, in case the first emission was lost) is deduplicated by the consumers.
 */
export function jobEventId(jobId: string, type: string): string {
  const hex = createHash('sha256').update(`${type}\u0000${jobId}`).digest('hex');
  // RFC 9562 version 8 (custom) UUID: set the version and variant bits.
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const elapsedMs = (from: string | undefined, to: string | undefined) => {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 86_400_000) : undefined;
};

/** The analytics event of a settled job (`job.completed` or `job.failed`). */
export function jobSettledEvent(job: JobItem, region: string): AnalyticsEvent | undefined {
  if (job.status !== 'completed' && job.status !== 'failed') return undefined;
  const type = job.status === 'completed' ? EventType.jobCompleted : EventType.jobFailed;
  const usage = job.result?.usage;
  const queueMs = elapsedMs(job.createdAt, job.startedAt);
  const totalMs = elapsedMs(job.startedAt ?? job.createdAt, job.updatedAt);
  const conversationId = job.result?.conversation_id ?? job.conversationId;
  return buildEvent({
    eventId: jobEventId(job.jobId, type),
    occurredAt: job.updatedAt,
    type,
    sub: job.sub,
    jobId: job.jobId,
    region,
    status: job.status === 'completed' ? 'ok' : 'error',
    ...(conversationId === undefined ? {} : { conversationId }),
    ...(job.result === undefined ? {} : { model: job.result.model.slice(0, 64) }),
    ...(queueMs === undefined ? {} : { queueMs }),
    ...(totalMs === undefined ? {} : { totalMs }),
    ...(usage === undefined ? {} : { tokensIn: usage.prompt_tokens, tokensOut: usage.completion_tokens }),
    ...(job.error === undefined ? {} : { errorCode: job.error.code.slice(0, 48) }),
  });
}
