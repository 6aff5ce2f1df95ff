import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MetricDimension, MetricName } from '../contracts/metrics';
import type { FileStore } from '../files/store';
import { logger, metrics } from '../shared/powertools';
import { failIngestion, type IngestDeps, ingestObject } from './ingest';
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
