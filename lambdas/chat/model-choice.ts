import { type ModelCatalog, resolveModel } from '../models/catalog';
import type { ChatDeps } from './pipeline';

/**
 * The pipeline's dependencies for the model a request names: its endpoints (and components), its context and its
 * id (stored on the answer, counted in usage, reported on the completion). Resolved once, before anything is
 * admitted, counted or written, so an unknown model is a 404 `model_not_found` that costs nothing.
 * Without a catalog (hand-built dependencies) the one model of `deps` serves every request.
 */
export function depsForModel(deps: ChatDeps, requested: string | null | undefined): ChatDeps {
  const catalog: ModelCatalog | undefined = deps.models;
  if (!catalog) return deps;
  const model = resolveModel(catalog, requested);
  return {
    ...deps,
    modelId: model.id,
    inference: { ...deps.inference, endpoints: model.endpoints, components: model.components },
    limits: {
      ...deps.limits,
      modelContextTokens: model.contextTokens,
      ...(model.charsPerToken === undefined ? {} : { charsPerToken: model.charsPerToken }),
    },
  };
}
