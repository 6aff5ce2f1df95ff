import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { tracer } from './powertools';

/** The SageMaker runtime clients, created once per process (cold start) and per region. */
let sagemaker: SageMakerRuntimeClient | undefined;
const regional = new Map<string, SageMakerRuntimeClient>();

function create(region?: string): SageMakerRuntimeClient {
  // Retries are the inference client's own business (only before the first token), so the SDK makes one attempt.
  return tracer.captureAWSv3Client(
    new SageMakerRuntimeClient({ maxAttempts: 1, ...(region === undefined ? {} : { region }) }),
  );
}

export function sagemakerRuntimeClient(): SageMakerRuntimeClient {
  sagemaker ??= create();
  return sagemaker;
}

/** The runtime client of `region` (a fallback endpoint's), with the same settings as this region's. */
export function sagemakerRuntimeClientFor(region: string): SageMakerRuntimeClient {
  if (region === process.env.AWS_REGION) return sagemakerRuntimeClient();
  let client = regional.get(region);
  if (!client) {
    client = create(region);
    regional.set(region, client);
  }
  return client;
}
