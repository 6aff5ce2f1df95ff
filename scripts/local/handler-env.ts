/**
 * The environment the handler processes (api, workers) run with locally: the same variables the CDK constructs set
 * in the cloud, plus the SDK's endpoint overrides pointing at the emulators.
 */
import { LOCAL_WEB_ORIGINS } from '../../lambdas/contracts/cors';
import { EnvName } from '../../lambdas/contracts/env';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from './emulators';
import { LOCAL_FILES } from './files-resources';
import {
  hasSecondModel,
  LOCAL_COMPONENT_NAME,
  LOCAL_ENDPOINT_NAME,
  LOCAL_MODEL_ID,
  localModels,
} from './models';
import type { StackDescription } from './stack';

export function handlerEnvironment(stack: StackDescription, service: string): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    [EnvName.tableName]: LOCAL_TABLE_NAME,
    [EnvName.dynamodbEndpoint]: stack.urls.dynamodb,
    [EnvName.sqsEndpoint]: stack.urls.sqs,
    [EnvName.kinesisEndpoint]: stack.urls.kinesis,
    [EnvName.sagemakerRuntimeEndpoint]: stack.urls.sagemaker,
    [EnvName.s3Endpoint]: stack.urls.s3,
    [EnvName.filesBucketName]: LOCAL_FILES.bucket,
    [EnvName.inferenceEndpoints]: LOCAL_ENDPOINT_NAME,
    ...(stack.config.INFERENCE_COLD_START_MS === undefined
      ? {}
      : { [EnvName.inferenceComponents]: LOCAL_COMPONENT_NAME }),
    [EnvName.modelId]: LOCAL_MODEL_ID,
    ...(hasSecondModel(stack.config) ? { [EnvName.models]: JSON.stringify(localModels(stack.config)) } : {}),
    // The local engine's context per request, and its generated model's byte-level vocabulary (a token a byte).
    [EnvName.modelContextTokens]: String(stack.config.INFERENCE_CONTEXT_SIZE),
    [EnvName.modelCharsPerToken]: '1',
    [EnvName.moderationProvider]: stack.config.MODERATION_PROVIDER,
    // As in a dev stage: the web app's own origin, and the web app served from a developer's machine.
    [EnvName.webOrigin]: [...new Set([stack.urls.web, ...LOCAL_WEB_ORIGINS])].join(','),
    [EnvName.serviceName]: service,
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
}
