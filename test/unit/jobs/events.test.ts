import { describe, expect, it } from 'vitest';
import { AnalyticsEventSchema } from '../../../lambdas/contracts/events';
import { jobEventId, jobSettledEvent } from '../../../lambdas/jobs/events';
import type { JobItem } from '../../../lambdas/jobs/store';

const completedJob: JobItem = {
  pk: 'USER#user-1',
  sk: 'JOB#job_0123456789abcdef0123456789abcdef',
  entity: 'job',
  jobId: 'job_0123456789abcdef0123456789abcdef',
  sub: 'user-1',
  status: 'completed',
  request: { messages: [{ role: 'user', content: 'a secret question' }] },
  requestHash: 'hash',
  createdAt: '2026-11-23T10:00:00.000Z',
  startedAt: '2026-11-23T10:00:02.000Z',
  updatedAt: '2026-11-23T10:00:05.500Z',
  attempts: 1,
  result: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'tiny',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'a secret answer', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
    conversation_id: 'conv_0123456789abcdef0123456789abcdef',
  },
};

describe('jobSettledEvent', () => {
  it('describes a completed job with its timings and tokens, and none of its text', () => {
    const event = jobSettledEvent(completedJob, 'eu-west-1');

    expect(AnalyticsEventSchema.parse(event)).toMatchObject({
      type: 'job.completed',
      sub: 'user-1',
      jobId: completedJob.jobId,
      conversationId: 'conv_0123456789abcdef0123456789abcdef',
      queueMs: 2000,
      totalMs: 3500,
      tokensIn: 12,
      tokensOut: 34,
      model: 'tiny',
      region: 'eu-west-1',
      status: 'ok',
    });
    expect(JSON.stringify(event)).not.toMatch(/secret/);
  });

  it('gives a job the same event id every time, so a re-emitted event is counted once', () => {
    const first = jobSettledEvent(completedJob, 'eu-west-1');
    const second = jobSettledEvent(structuredClone(completedJob), 'eu-west-1');

    expect(second?.eventId).toBe(first?.eventId);
    expect(jobEventId(completedJob.jobId, 'job.failed')).not.toBe(first?.eventId);
  });

  it('describes a failed job with its error code', () => {
    const failed: JobItem = {
      ...structuredClone(completedJob),
      status: 'failed',
      result: undefined,
      error: { code: 'retries_exhausted', message: 'gave up' },
    };

    expect(jobSettledEvent(failed, 'eu-west-1')).toMatchObject({
      type: 'job.failed',
      status: 'error',
      errorCode: 'retries_exhausted',
    });
  });

  it('emits nothing for a job that has not settled', () => {
    expect(
      jobSettledEvent({ ...structuredClone(completedJob), status: 'processing' }, 'eu-west-1'),
    ).toBeUndefined();
  });
});
