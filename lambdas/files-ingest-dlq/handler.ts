import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fileDepsFromEnv } from '../files/deps';
import { createIngestDeadLetterHandler } from '../files-ingest/batch';
import { logger, metrics } from '../shared/powertools';

const deadLetters = createIngestDeadLetterHandler(fileDepsFromEnv().store);

/** The files dead-letter queue's consumer. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => deadLetters(event, context));
