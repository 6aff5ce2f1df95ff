import { describe, expect, it } from 'vitest';
import { createChatDeps } from '../../../lambdas/chat/deps';
import { DEFAULT_LIMITS } from '../../../lambdas/chat/prepare';
import { EnvName } from '../../../lambdas/contracts/env';
import { loadConfig } from '../../../lambdas/shared/config';

const env = { [EnvName.tableName]: 'chatstack', [EnvName.inferenceEndpoints]: 'primary,fallback' };

describe('chat dependencies from the environment', () => {
  it('use the model context, prompt budget and inference timeout the deployment sets', () => {
    const deps = createChatDeps(
      loadConfig({
        ...env,
        [EnvName.modelContextTokens]: '8192',
        [EnvName.contextTokenBudget]: '1500',
        [EnvName.inferenceTimeoutMs]: '4000',
      }),
    );
    expect(deps.limits).toMatchObject({ modelContextTokens: 8192, promptTokenBudget: 1500 });
    expect(deps.inference.options?.firstTokenTimeoutMs).toBe(4000);
    expect(deps.inference.endpoints).toEqual(['primary', 'fallback']);
  });

  it("fall back to the engine's default per-slot context (4096) when nothing is set", () => {
    const deps = createChatDeps(loadConfig(env));
    expect(deps.limits).toEqual({ ...DEFAULT_LIMITS, promptTokenBudget: undefined, charsPerToken: 4 });
    expect(deps.limits.modelContextTokens).toBe(4096);
  });

  it('reject a budget that is not a positive number, naming the variable', () => {
    expect(() => loadConfig({ ...env, [EnvName.contextTokenBudget]: '0' })).toThrow(
      EnvName.contextTokenBudget,
    );
    expect(() => loadConfig({ ...env, [EnvName.inferenceTimeoutMs]: 'soon' })).toThrow(
      EnvName.inferenceTimeoutMs,
    );
  });
});
