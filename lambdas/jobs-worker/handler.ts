import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createChatDeps } from '../chat/deps';
import { runTurn } from '../chat/pipeline';
import { EnvName } from '../contracts/env';
import { createEventEmitter } from '../events/emitter';
import { invokeChat } from '../inference';
import { createJobStore } from '../jobs/store';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { ApiError } from '../shared/errors';
import { kinesisClient } from '../shared/kinesis-client';
import { logger, metrics } from '../shared/powertools';
import { sqsClient } from '../shared/sqs-client';
import { writeTitle } from '../titles/title';
import type { RunCompletion } from './process';
import { createJobsWorker } from './worker';

const settings = config();
const chatDeps = createChatDeps(settings);

/**
 * A job runs the chat pipeline, like `POST /v1/chat/completions` (the stream collected): quota, moderation,
 * context, inference, persistence, and its `chat.turn` event (the usage aggregator counts that one). Its
 * concurrency is the jobs' own limit, so it takes no chat-turn slot.
 */
const runCompletion: RunCompletion = async (caller, request, job, deadlineAt) => {
  const record = await runTurn(
    chatDeps,
    { sub: caller.sub, clientId: caller.clientId, requestId: job.jobId },
    { ...request, stream: false },
    {
      concurrencySlot: false,
      ...(deadlineAt === undefined ? {} : { deadlineAt }),
      // A retry answers the turn the first attempt stored: no second question, no second request counted.
      resume: job.turn,
      onPrepared: (turn) => store.recordTurn(job, turn),
    },
  );
  if (record.error) {
    const { message, type, code } = record.error.error;
    throw new ApiError(record.error.status, type, message, null, code);
  }
  return record.completion;
};

const streamName = settings.eventsStreamName;
const queueUrl = settings.jobsQueueUrl;
const store = createJobStore({
  dynamo: documentClient(),
  tableName: required(settings.tableName, EnvName.tableName),
});
const worker = createJobsWorker({
  store,
  runCompletion,
  emitter:
    streamName === undefined ? undefined : createEventEmitter({ kinesis: kinesisClient(), streamName }),
  leaseMs: settings.jobLeaseSeconds * 1000,
  region: settings.region,
  writeTitle: (message) =>
    writeTitle(
      {
        store: chatDeps.store,
        moderation: chatDeps.moderation,
        complete: async (request) => (await invokeChat(chatDeps.inference, request)).text,
      },
      message,
    ),
  // Jobs whose model is waking wait on the queue (JOBS_QUEUE_URL is this worker's own queue).
  ...(queueUrl === undefined
    ? {}
    : {
        requeue: async (body: string, delaySeconds: number) => {
          await sqsClient().send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, DelaySeconds: delaySeconds }),
          );
        },
      }),
});

/** The jobs queue's consumer (SQS event source, ReportBatchItemFailures). */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => worker(event, context));
