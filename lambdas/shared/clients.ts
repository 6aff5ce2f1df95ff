import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EnvName } from '../contracts/env';
import { tracer } from './powertools';

/**
 * AWS SDK clients, created once per process (cold start) and passed into domain modules as parameters.
 * Endpoints come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables, which only the local stack sets.
 */
let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let kinesis: KinesisClient | undefined;
let sagemaker: SageMakerRuntimeClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(
    // Throttling is retried by the SDK's standard retry strategy with backoff and jitter.
    tracer.captureAWSv3Client(new DynamoDBClient({ maxAttempts: 5 })),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return dynamo;
}

export function sqsClient(): SQSClient {
  // Local SQS queue URLs use a `*.localhost` host: send to the configured endpoint instead of the queue URL's.
  sqs ??= tracer.captureAWSv3Client(
    new SQSClient({ useQueueUrlAsEndpoint: process.env[EnvName.sqsEndpoint] === undefined }),
  );
  return sqs;
}

export function kinesisClient(): KinesisClient {
  // HTTP/1.1: the data-plane calls we use need nothing more, and the local emulator cannot speak HTTP/2.
  kinesis ??= tracer.captureAWSv3Client(new KinesisClient({ requestHandler: new NodeHttpHandler() }));
  return kinesis;
}

export function sagemakerRuntimeClient(): SageMakerRuntimeClient {
  // Retries are the inference client's own business (only before the first token), so the SDK makes one attempt.
  sagemaker ??= tracer.captureAWSv3Client(new SageMakerRuntimeClient({ maxAttempts: 1 }));
  return sagemaker;
}
