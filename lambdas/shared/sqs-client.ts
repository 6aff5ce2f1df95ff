import { SQSClient } from '@aws-sdk/client-sqs';
import { EnvName } from '../contracts/env';
import { tracer } from './powertools';

/** The SQS client, created once per process (cold start). */
let sqs: SQSClient | undefined;

export function sqsClient(): SQSClient {
  // Local SQS queue URLs use a `*.localhost` host: send to the configured endpoint instead of the queue URL's.
  sqs ??= tracer.captureAWSv3Client(
    new SQSClient({ useQueueUrlAsEndpoint: process.env[EnvName.sqsEndpoint] === undefined }),
  );
  return sqs;
}
