import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { EnvName } from '../contracts/env';
import { createEventConsumer } from '../events/consumer';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { logger } from '../shared/powertools';
import { type AuditDeps, recordAuditEvent } from './record';

/** Builds the audit log's Kinesis consumer for the given dependencies. */
export function createAuditConsumer(deps: AuditDeps) {
  return createEventConsumer(async (event) => {
    await recordAuditEvent(deps, event);
  });
}

const settings = config();
const auditor = createAuditConsumer({
  dynamo: documentClient(),
  tableName: required(settings.tableName, EnvName.tableName),
  retentionDays: settings.auditRetentionDays,
});

/** The events stream's audit consumer: an append-only record of security-relevant events. */
export const handler = middy<KinesisStreamEvent, KinesisStreamBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event, context) => auditor(event, context));
