import type { ServedModel } from '../contracts/models';
import type { Config } from '../shared/config';
import { ModelNotFoundError } from '../shared/errors';

/** The models this deployment serves, the first one the default (what a request without `model` gets). */
export interface ModelCatalog {
  readonly models: readonly [ServedModel, ...ServedModel[]];
}

/** The context the engine slot has when the deployment does not say (llama-server's default per slot). */
const DEFAULT_CONTEXT_TOKENS = 4096;

/**
 * The catalog from the configuration: `MODELS` when set, else the single model of `MODEL_ID` on
 * `INFERENCE_ENDPOINTS` (the deployment before it served several models, unchanged).
 */
export function modelCatalogOf(cfg: Config): ModelCatalog {
  const [first, ...rest] = cfg.models ?? [];
  if (first) return { models: [first, ...rest] };
  return {
    models: [
      {
        id: cfg.modelId,
        contextTokens: cfg.modelContextTokens ?? DEFAULT_CONTEXT_TOKENS,
        ...(cfg.modelCharsPerToken === undefined ? {} : { charsPerToken: cfg.modelCharsPerToken }),
        endpoints: [...cfg.inferenceEndpoints],
        components: [...(cfg.inferenceComponents ?? [])],
      },
    ],
  };
}

/** The model a request names (the default when it names none); an unknown one is OpenAI's 404 `model_not_found`. */
export function resolveModel(catalog: ModelCatalog, requested: string | null | undefined): ServedModel {
  if (requested == null) return catalog.models[0];
  const found = catalog.models.find((model) => model.id === requested);
  if (!found) throw new ModelNotFoundError(requested);
  return found;
}
