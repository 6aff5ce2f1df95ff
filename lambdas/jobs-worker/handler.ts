import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { completeChat } from '../chat/complete';
import { createChatDeps } from '../chat/deps';
import { EnvName } from '../contracts/env';
import { createEventEmitter } from '../events/emitter';
import { createJobStore } from '../jobs/store';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { kinesisClient } from '../shared/kinesis-client';
import { logger, metrics } from '../shared/powertools';
import type { RunCompletion } from './process';
import { createJobsWorker } from './worker';

const settings = config();
const chatDeps = createChatDeps(settings);

/**
 * A job runs the same non-streamed turn as `POST /v1/chat/completions` with `stream: false`: quota, moderation,
 * context, inference, persistence, and its `chat.turn` event (the usage aggregator counts that one).
 */
const runCompletion: RunCompletion = (caller, request, job) =>
  completeChat(chatDeps, { sub: caller.sub, clientId: caller.clientId, requestId: job.jobId }, request);

const streamName = settings.eventsStreamName;
const worker = createJobsWorker({
  store: createJobStore({
    dynamo: documentClient(),
    tableName: required(settings.tableName, EnvName.tableName),
  }),
  runCompletion,
  emitter:
    streamName === undefined ? undefined : createEventEmitter({ kinesis: kinesisClient(), streamName }),
  leaseMs: settings.jobLeaseSeconds * 1000,
  region: settings.region,
});

/** The jobs queue's consumer (SQS event source, ReportBatchItemFailures). */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => worker(event, context));
