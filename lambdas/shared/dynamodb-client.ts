import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './powertools';

/** The DynamoDB document client, created once per process (cold start); the endpoint comes from `AWS_ENDPOINT_URL_DYNAMODB` locally. */
let dynamo: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(
    // Throttling is retried by the SDK's standard retry strategy with backoff and jitter.
    tracer.captureAWSv3Client(new DynamoDBClient({ maxAttempts: 5 })),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return dynamo;
}
