import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EnvName } from '../contracts/env';
import { MetricName } from '../contracts/metrics';
import { createEventEmitter, type EventEmitter } from '../events/emitter';
import { jobSettledEvent } from '../jobs/events';
import { createJobStore, type JobStore } from '../jobs/store';
import { JobMessageSchema } from '../jobs/submit';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { kinesisClient } from '../shared/kinesis-client';
import { logger, metrics } from '../shared/powertools';
import { titleMessageOf } from '../titles/title';

export interface DeadLetterDeps {
  readonly store: JobStore;
  readonly emitter: EventEmitter | undefined;
  readonly region: string;
}

/** Marks the job of a dead-lettered message `failed` (unless it settled meanwhile) and frees its slot. */
export async function failDeadLetteredJob(deps: DeadLetterDeps, body: string): Promise<boolean> {
  const parsed = JobMessageSchema.safeParse(safeJson(body));
  // A title that could not be written leaves the first question as the title: nothing to settle.
  if (titleMessageOf(body)) {
    logger.warn('a title request was dead-lettered; the conversation keeps its title');
    return false;
  }
  if (!parsed.success) {
    logger.error('dead-lettered message is not a job message; dropped', {
      issues: parsed.error.issues.length,
    });
    return false;
  }
  const { sub, jobId } = parsed.data;
  const before = await deps.store.getJob(sub, jobId);
  if (before === undefined) return false;
  const last = before.lastError;
  const failed = await deps.store.abandonJob(sub, jobId, {
    code: 'retries_exhausted',
    message:
      last === undefined
        ? 'The job could not be completed after repeated attempts.'
        : `The job could not be completed after repeated attempts (last error: ${last.code}).`,
  });
  await deps.store.releaseSlots(sub, [jobId]);
  const job = await deps.store.getJob(sub, jobId);
  const event = job === undefined ? undefined : jobSettledEvent(job, deps.region);
  if (event !== undefined && deps.emitter !== undefined) await deps.emitter.emitEvents([event]);
  return failed;
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function createDeadLetterHandler(deps: DeadLetterDeps) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => {
      if (await failDeadLetteredJob(deps, record.body)) {
        metrics.addMetric(MetricName.jobsFailed, MetricUnit.Count, 1);
      }
    };
    return processPartialResponse(event, recordHandler, processor, context === undefined ? {} : { context });
  };
}

function defaultDeps(): DeadLetterDeps {
  const settings = config();
  const streamName = settings.eventsStreamName;
  return {
    store: createJobStore({
      dynamo: documentClient(),
      tableName: required(settings.tableName, EnvName.tableName),
    }),
    emitter:
      streamName === undefined ? undefined : createEventEmitter({ kinesis: kinesisClient(), streamName }),
    region: settings.region,
  };
}

const deadLetters = createDeadLetterHandler(defaultDeps());

/** The jobs dead-letter queue's consumer. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => deadLetters(event, context));
