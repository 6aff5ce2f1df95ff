import { Stack } from 'aws-cdk-lib';
import { EnvName } from '../../lambdas/contracts/env';
import type { ServedModel } from '../../lambdas/contracts/models';
import type { AppFunction } from './app-function';
import type { InferenceEndpoint } from './inference-endpoint';

/**
 * One served model as a region's functions reach it: the endpoint serving it in this region (its own, or the shared
 * one it is a component of), then other regions'.
 */
export interface ServedModelEndpoints {
  readonly id: string;
  /** @default 4096 */
  readonly contextTokens?: number | undefined;
  readonly endpoint: InferenceEndpoint;
  /** The same model's endpoints in the other regions, in the order the client falls over to them. */
  readonly fallbacks: readonly InferenceEndpoint[];
}

/** The context the API assumes when a model does not give one (the llama.cpp image's default per slot). */
const DEFAULT_CONTEXT_TOKENS = 4096;

/**
 * Lets a function stream from every served model (each from its endpoint here, then from the other regions'), and
 * names them in `MODELS`. The default (first) model is also `INFERENCE_ENDPOINTS` and `MODEL_ID`, as before the
 * deployment served several models.
 */
export function grantModelsInvoke(
  fn: AppFunction,
  models: readonly [ServedModelEndpoints, ...ServedModelEndpoints[]],
): void {
  const [first, ...rest] = models;
  first.endpoint.grantInvoke(fn, first.fallbacks);
  for (const model of rest) model.endpoint.grantInvokePolicy(fn, model.fallbacks, model.id);
  setModelCatalog(fn, models);
}

/** Names the served models in `MODELS` only (the model list and job submissions read it; they call no model). */
export function setModelCatalog(fn: AppFunction, models: readonly ServedModelEndpoints[]): void {
  const catalog: ServedModel[] = models.map((model) => {
    const targets = model.endpoint.invokeTargets(model.fallbacks, model.id);
    return {
      id: model.id,
      contextTokens: model.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
      endpoints: [...targets.endpoints],
      components: [...targets.components],
    };
  });
  fn.setEnvironment(EnvName.models, Stack.of(fn).toJsonString(catalog));
}
