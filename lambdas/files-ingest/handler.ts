import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fileDepsFromEnv } from '../files/deps';
import { logger, metrics } from '../shared/powertools';
import { createIngestHandler } from './batch';

const deps = fileDepsFromEnv();
const ingest = createIngestHandler({ ...deps, maxBytes: deps.settings.maxBytes });

/** The files queue's consumer (S3 ObjectCreated events, ReportBatchItemFailures). */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => ingest(event, context));
