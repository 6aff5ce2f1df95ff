/**
 * AWS SDK clients, created once per process (cold start) and passed into domain modules as parameters.
 * Endpoints come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables, which only the local stack sets.
 *
 * One module per service, so a handler loads only the SDK packages it uses: import from `./dynamodb-client`,
 * `./sqs-client`, `./kinesis-client` or `./sagemaker-runtime-client` in handlers; this module gathers them for
 * scripts and tests.
 */
export { documentClient } from './dynamodb-client';
export { kinesisClient } from './kinesis-client';
export { sagemakerRuntimeClient } from './sagemaker-runtime-client';
export { sqsClient } from './sqs-client';
