import { describe, expect, it } from 'vitest';
import { createChatDeps } from '../../../lambdas/chat/deps';
import { DEFAULT_WINDOW } from '../../../lambdas/context';
import { EnvName } from '../../../lambdas/contracts/env';
import { loadConfig } from '../../../lambdas/shared/config';

const env = { [EnvName.tableName]: 'chatstack', [EnvName.inferenceEndpoints]: 'primary,fallback' };

describe('chat dependencies from the environment', () => {
  it('use the context token budget and inference timeout the deployment sets', () => {
    const deps = createChatDeps(
      loadConfig({ ...env, [EnvName.contextTokenBudget]: '1500', [EnvName.inferenceTimeoutMs]: '4000' }),
    );
    expect(deps.window).toEqual({ maxTurns: DEFAULT_WINDOW.maxTurns, tokenBudget: 1500 });
    expect(deps.inference.options?.firstTokenTimeoutMs).toBe(4000);
    expect(deps.inference.endpoints).toEqual(['primary', 'fallback']);
  });

  it('fall back to the default window when nothing is set', () => {
    const deps = createChatDeps(loadConfig(env));
    expect(deps.window).toEqual(DEFAULT_WINDOW);
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
