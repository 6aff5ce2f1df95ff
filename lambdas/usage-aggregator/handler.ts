import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { EnvName } from '../contracts/env';
import { createEventConsumer } from '../events/consumer';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { logger } from '../shared/powertools';
import { aggregateUsage, type UsageDeps } from './aggregate';

/** Builds the usage aggregator's Kinesis consumer for the given dependencies. */
export function createUsageAggregator(deps: UsageDeps) {
  return createEventConsumer(async (event, position) => {
    await aggregateUsage(deps, event, position);
  });
}

const aggregator = createUsageAggregator({
  dynamo: documentClient(),
  tableName: required(config().tableName, EnvName.tableName),
});

/** The events stream's usage consumer: per-user, per-day request and token totals. */
export const handler = middy<KinesisStreamEvent, KinesisStreamBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event, context) => aggregator(event, context));
