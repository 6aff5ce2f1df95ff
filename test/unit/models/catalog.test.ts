import { describe, expect, it } from 'vitest';
import { depsForModel } from '../../../lambdas/chat/model-choice';
import type { ChatDeps } from '../../../lambdas/chat/pipeline';
import { DEFAULT_LIMITS } from '../../../lambdas/chat/prepare';
import { modelCatalogOf, resolveModel } from '../../../lambdas/models/catalog';
import { loadConfig } from '../../../lambdas/shared/config';
import { ModelNotFoundError } from '../../../lambdas/shared/errors';

const TWO_MODELS = [
  {
    id: 'big',
    contextTokens: 8192,
    endpoints: ['big-endpoint', 'arn:aws:sagemaker:us-west-2:123456789012:endpoint/big'],
  },
  {
    id: 'small',
    contextTokens: 2048,
    charsPerToken: 1,
    endpoints: ['shared'],
    components: ['small-component'],
  },
];

describe('the model catalog', () => {
  it('lists the models of MODELS in order, the first the default', () => {
    const catalog = modelCatalogOf(loadConfig({ MODELS: JSON.stringify(TWO_MODELS) }));

    expect(catalog.models.map((model) => [model.id, model.contextTokens])).toEqual([
      ['big', 8192],
      ['small', 2048],
    ]);
    expect(resolveModel(catalog, undefined).id).toBe('big');
    expect(resolveModel(catalog, null).id).toBe('big');
    expect(resolveModel(catalog, 'small')).toMatchObject({
      endpoints: ['shared'],
      components: ['small-component'],
    });
  });

  it('is the one model of MODEL_ID on INFERENCE_ENDPOINTS when MODELS is unset', () => {
    const catalog = modelCatalogOf(
      loadConfig({
        MODEL_ID: 'only',
        MODEL_CONTEXT_TOKENS: '3000',
        INFERENCE_ENDPOINTS: 'e1,e2',
        INFERENCE_COMPONENTS: 'c1,',
      }),
    );

    expect(catalog.models).toEqual([
      { id: 'only', contextTokens: 3000, charsPerToken: 4, endpoints: ['e1', 'e2'], components: ['c1', ''] },
    ]);
  });

  it("answers an unknown model with OpenAI's 404 model_not_found naming the model field", () => {
    const catalog = modelCatalogOf(loadConfig({ MODELS: JSON.stringify(TWO_MODELS) }));
    let error: unknown;
    try {
      resolveModel(catalog, 'gpt-4o');
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(error).toMatchObject({
      statusCode: 404,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
      message: expect.stringContaining("'gpt-4o'"),
    });
  });

  it('refuses a MODELS value that is not JSON, repeats an id or names a model with a slash, naming MODELS', () => {
    for (const value of [
      'not json',
      JSON.stringify([TWO_MODELS[0], TWO_MODELS[0]]),
      JSON.stringify([{ ...TWO_MODELS[0], id: 'Qwen/Qwen2.5' }]),
      JSON.stringify([{ id: 'x', contextTokens: 10, endpoints: [] }]),
    ]) {
      expect(() => loadConfig({ MODELS: value }), value).toThrow(/MODELS/);
    }
  });
});

describe('choosing the model of a turn', () => {
  const deps = {
    modelId: 'big',
    inference: { client: {}, endpoints: ['big-endpoint'], components: [] },
    limits: { ...DEFAULT_LIMITS, modelContextTokens: 8192, charsPerToken: 4 },
    models: modelCatalogOf(loadConfig({ MODELS: JSON.stringify(TWO_MODELS) })),
  } as unknown as ChatDeps;

  it("replaces the default model's id, endpoints, components and context with the chosen one's", () => {
    const chosen = depsForModel(deps, 'small');

    expect(chosen.modelId).toBe('small');
    expect(chosen.inference.endpoints).toEqual(['shared']);
    expect(chosen.inference.components).toEqual(['small-component']);
    expect(chosen.limits).toMatchObject({ modelContextTokens: 2048, charsPerToken: 1 });
  });

  it("keeps the deployment's characters per token for a model that does not give its own", () => {
    expect(depsForModel(deps, 'big').limits).toMatchObject({ modelContextTokens: 8192, charsPerToken: 4 });
  });

  it('refuses an unknown model before anything else runs', () => {
    expect(() => depsForModel(deps, 'nope')).toThrow(ModelNotFoundError);
  });
});
