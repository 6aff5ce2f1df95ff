import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { chatCompletionRequestSchema } from '../contracts/api';
import { EnvName } from '../contracts/env';
import { modelCatalogOf, resolveModel } from '../models/catalog';
import { callerOf } from '../shared/auth';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { NotFoundError, ValidationError } from '../shared/errors';
import { apiMiddlewares, json } from '../shared/http';
import { idempotencyDynamoClient, idempotencyKeyOf, runIdempotently } from '../shared/idempotency';
import { sqsClient } from '../shared/sqs-client';
import { parseJsonBody, readBody } from '../validation';
import { createJobStore } from './store';
import { readJob, submitJob } from './submit';

/** `POST /v1/jobs` (accept a chat completion to run in the background) and `GET /v1/jobs/{id}`. */
const settings = config();
const store = createJobStore({
  dynamo: documentClient(),
  tableName: required(settings.tableName, EnvName.tableName),
});
const submitDeps = {
  store,
  sqs: sqsClient(),
  queueUrl: required(settings.jobsQueueUrl, EnvName.jobsQueueUrl),
  maxActiveJobsPerUser: settings.jobsMaxActivePerUser,
  retentionDays: settings.jobRetentionDays,
};
const JobRequestSchema = chatCompletionRequestSchema(settings.maxCompletionTokens);
const models = modelCatalogOf(settings);
async function jobs(event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> {
  const caller = callerOf(event);
  if (event.httpMethod === 'POST') {
    const request = parseJsonBody(event, JobRequestSchema);
    // The jobs worker has no access to the user's files: refused here, not failed later in the queue.
    if (request.file_ids !== undefined && request.file_ids.length > 0) {
      throw new ValidationError(
        'Jobs do not take file_ids; send the request to /v1/chat/completions.',
        'file_ids',
        'unsupported_parameter',
      );
    }
    // An unknown model is the same 404 the chat route answers, before the job is accepted.
    resolveModel(models, request.model);
    const idempotencyKey = idempotencyKeyOf(event.headers);
    const submit = () => submitJob(submitDeps, caller, request, idempotencyKey);
    const outcome = idempotencyKey
      ? await runIdempotently(
          {
            client: idempotencyDynamoClient(),
            tableName: required(settings.tableName, EnvName.tableName),
          },
          {
            sub: caller.sub,
            endpoint: 'jobs',
            key: idempotencyKey,
            body: readBody(event),
            ...(context ? { context } : {}),
          },
          submit,
        )
      : { value: await submit(), replayed: false };
    const { job } = outcome.value;
    const created = outcome.value.created && !outcome.replayed;
    const accepted = { id: job.id, object: job.object, status: job.status, created_at: job.created_at };
    return json(event, 202, accepted, {
      location: `/v1/jobs/${job.id}`,
      ...(created ? {} : { 'idempotent-replayed': 'true' }),
    });
  }
  const jobId = event.pathParameters?.id;
  if (jobId === undefined) throw new NotFoundError('Job', 'id');
  return json(event, 200, await readJob(store, caller, jobId));
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler((event, context) => jobs(event, context));
