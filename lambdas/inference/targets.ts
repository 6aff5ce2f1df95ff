import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

/**
 * Where one entry of `INFERENCE_ENDPOINTS` is served. A name is this region's endpoint; an ARN
 * (`arn:aws:sagemaker:<region>:<account>:endpoint/<name>`) is another region's, and must be called through that
 * region's runtime: `InvokeEndpoint*` takes the name only and always calls the client's own region.
 */
export interface InferenceTarget {
  /**
   * The configured entry (ARN or name), with `/<component>` when a component serves the model: the breaker's key
   * and the name in logs (models sharing an endpoint as components fail apart).
   */
  readonly id: string;
  readonly endpointName: string;
  /** Undefined for this region's endpoint. */
  readonly region: string | undefined;
  /** Sent as `InferenceComponentName` when the model is served by an inference component. */
  readonly component: string | undefined;
}

const ENDPOINT_ARN = /^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):\d{12}:endpoint\/([A-Za-z0-9-]+)$/;

/** Pairs the endpoints with the components, position by position (an empty or missing component means none). */
export function inferenceTargets(
  endpoints: readonly string[],
  components: readonly string[] = [],
): InferenceTarget[] {
  return endpoints.map((id, index) => {
    const component = components[index]?.trim() || undefined;
    const key = component === undefined ? id : `${id}/${component}`;
    if (!id.startsWith('arn:')) return { id: key, endpointName: id, region: undefined, component };
    const match = ENDPOINT_ARN.exec(id);
    if (!match?.[1] || !match[2]) throw new Error(`INFERENCE_ENDPOINTS: not a SageMaker endpoint ARN: ${id}`);
    return { id: key, endpointName: match[2], region: match[1], component };
  });
}

/** The runtime client for a region: built once per region, with the same settings as this region's. */
export type RegionalClients = (region: string) => SageMakerRuntimeClient;
