import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { tracer } from './powertools';

/** The SageMaker runtime client, created once per process (cold start). */
let sagemaker: SageMakerRuntimeClient | undefined;

export function sagemakerRuntimeClient(): SageMakerRuntimeClient {
  // Retries are the inference client's own business (only before the first token), so the SDK makes one attempt.
  sagemaker ??= tracer.captureAWSv3Client(new SageMakerRuntimeClient({ maxAttempts: 1 }));
  return sagemaker;
}
