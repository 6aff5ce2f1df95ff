import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MetricDimension, MetricName } from '../contracts/metrics';
import { fileDepsFromEnv } from '../files/deps';
import type { FileStore } from '../files/store';
import { failIngestion } from '../files-ingest/ingest';
import { createdObjectKeys } from '../files-ingest/s3-event';
import { logger, metrics } from '../shared/powertools';

/** Settles the file of every dead-lettered S3 event as `error`, so no upload waits forever. */
export function createIngestDeadLetterHandler(store: FileStore) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => {
      for (const key of createdObjectKeys(record.body) ?? []) {
        if (await failIngestion(store, key)) {
          const failed = metrics.singleMetric();
          failed.addDimension(MetricDimension.errorKind, 'processing_failed');
          failed.addMetric(MetricName.filesFailed, MetricUnit.Count, 1);
        }
      }
    };
    return processPartialResponse(event, recordHandler, processor, context === undefined ? {} : { context });
  };
}

const deadLetters = createIngestDeadLetterHandler(fileDepsFromEnv().store);

/** The files dead-letter queue's consumer. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => deadLetters(event, context));
