import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MetricDimension, MetricName } from '../contracts/metrics';
import { fileDepsFromEnv } from '../files/deps';
import { logger, metrics } from '../shared/powertools';
import { type IngestDeps, ingestObject } from './ingest';
import { createdObjectKeys } from './s3-event';

/** Ingests each created object an S3 event names; a failure leaves only its own message for a retry. */
export function createIngestHandler(deps: IngestDeps) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => {
      const objectKeys = createdObjectKeys(record.body);
      if (objectKeys === undefined) {
        // Nothing will ever make this message readable: drop it rather than loop.
        logger.error('message is not an S3 event notification; dropped', { messageId: record.messageId });
        return;
      }
      for (const key of objectKeys) {
        const started = performance.now();
        const outcome = await ingestObject(deps, key);
        logger.info('file ingested', { key, ...outcome });
        if (outcome.status === 'processed') {
          metrics.addMetric(MetricName.filesProcessed, MetricUnit.Count, 1);
          metrics.addMetric(MetricName.filePagesIngested, MetricUnit.Count, outcome.pages);
          metrics.addMetric(
            MetricName.fileIngestDuration,
            MetricUnit.Milliseconds,
            performance.now() - started,
          );
        } else if (outcome.status === 'error') {
          const failed = metrics.singleMetric();
          failed.addDimension(MetricDimension.errorKind, outcome.code);
          failed.addMetric(MetricName.filesFailed, MetricUnit.Count, 1);
        }
      }
    };
    return processPartialResponse(event, recordHandler, processor, context === undefined ? {} : { context });
  };
}

const deps = fileDepsFromEnv();
const ingest = createIngestHandler({ ...deps, maxBytes: deps.settings.maxBytes });

/** The files queue's consumer (S3 ObjectCreated events, ReportBatchItemFailures). */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => ingest(event, context));
