import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MetricName } from '../contracts/metrics';
import { logger, metrics } from '../shared/powertools';
import { type TitleMessage, type TitleOutcome, titleMessageOf } from '../titles/title';
import { processJobMessage, type WorkerDeps } from './process';

/**
 * The jobs queue's consumer: each SQS batch (up to 10 messages) is processed with partial batch failure
 * reporting, so only the failed messages become visible again; after the third receive SQS moves a message to
 * the dead-letter queue.
 */
export function createJobsWorker(
  deps: WorkerDeps & {
    /** Writes a conversation's title (`title` messages share the queue with jobs). */
    readonly writeTitle?: (message: TitleMessage) => Promise<TitleOutcome>;
  },
) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    // One processor per invocation: its state is per batch, and the local poller may run batches concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => {
      const title = deps.writeTitle ? titleMessageOf(record.body) : undefined;
      if (title && deps.writeTitle) {
        logger.info('title', { conversationId: title.conversationId, outcome: await deps.writeTitle(title) });
        return;
      }
      const outcome = await processJobMessage(deps, record.body);
      if (outcome === 'completed') metrics.addMetric(MetricName.jobsCompleted, MetricUnit.Count, 1);
      if (outcome === 'failed') metrics.addMetric(MetricName.jobsFailed, MetricUnit.Count, 1);
    };
    return processPartialResponse(event, recordHandler, processor, context === undefined ? {} : { context });
  };
}
