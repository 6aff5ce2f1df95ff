import { describe, expect, it } from 'vitest';
import {
  createClassifier,
  defaultModerationConfig,
  moderationConfigFromEnv,
} from '../../../lambdas/moderation';
import { ConfigError, loadConfig } from '../../../lambdas/shared/config';

describe('moderationConfigFromEnv', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = moderationConfigFromEnv(loadConfig({}));
    expect(config).toEqual({ ...defaultModerationConfig(), blocklist: [] });
    expect(config.injectionAction).toEqual({ input: 'block', output: 'off' });
    expect(config.pii.card).toEqual({ input: 'redact', output: 'block' });
    expect(config.classifier.failMode).toEqual({ input: 'closed', output: 'open' });
  });

  it('reads the blocklist, provider, guardrail, fail modes, timeout and thresholds', () => {
    const config = moderationConfigFromEnv(
      loadConfig({
        MODERATION_BLOCKLIST: 'grimfrost, evil plan',
        MODERATION_PROVIDER: 'bedrock-guardrail',
        GUARDRAIL_ID: 'gr-1',
        GUARDRAIL_VERSION: '2',
        MODERATION_FAIL_MODE_INPUT: 'open',
        MODERATION_FAIL_MODE_OUTPUT: 'closed',
        MODERATION_TIMEOUT_MS: '800',
        MODERATION_THRESHOLDS: 'default=0.6, hate=0.3',
        AWS_REGION: 'eu-west-1',
      }),
    );
    expect(config.blocklist).toEqual(['grimfrost', 'evil plan']);
    expect(config.classifier).toMatchObject({
      provider: 'bedrock-guardrail',
      guardrailId: 'gr-1',
      guardrailVersion: '2',
      failMode: { input: 'open', output: 'closed' },
      timeoutMs: 800,
      thresholds: { default: 0.6, hate: 0.3 },
      region: 'eu-west-1',
    });
  });

  it('applies MODERATION_RULES overrides, a bare action meaning both directions', () => {
    const config = moderationConfigFromEnv(
      loadConfig({
        MODERATION_RULES:
          '{"pii":{"email":"redact","card":{"output":"redact"}},"injection":{"output":"block"}}',
      }),
    );
    expect(config.pii.email).toEqual({ input: 'redact', output: 'redact' });
    expect(config.pii.card).toEqual({ input: 'redact', output: 'redact' });
    expect(config.injectionAction).toEqual({ input: 'block', output: 'block' });
  });

  it.each([
    ['MODERATION_RULES', 'not json'],
    ['MODERATION_RULES', '{"pii":{"ssn":"block"}}'],
    ['MODERATION_RULES', '{"injection":"maybe"}'],
    ['MODERATION_THRESHOLDS', 'hate=2'],
    ['MODERATION_THRESHOLDS', 'hate'],
  ])('fails naming %s for the bad value %j', (name, value) => {
    expect(() => moderationConfigFromEnv(loadConfig({ [name]: value }))).toThrow(ConfigError);
    expect(() => moderationConfigFromEnv(loadConfig({ [name]: value }))).toThrow(name);
  });
});

describe('createClassifier', () => {
  const withProvider = (env: Record<string, string>) => moderationConfigFromEnv(loadConfig(env));

  it('returns no classifier for none', () => {
    expect(createClassifier(withProvider({}))).toBeUndefined();
  });

  it('picks the configured provider', () => {
    expect(createClassifier(withProvider({ MODERATION_PROVIDER: 'comprehend' }))?.provider).toBe(
      'comprehend',
    );
    expect(
      createClassifier(withProvider({ MODERATION_PROVIDER: 'bedrock-guardrail', GUARDRAIL_ID: 'g' }))
        ?.provider,
    ).toBe('bedrock-guardrail');
    expect(
      createClassifier(withProvider({ MODERATION_PROVIDER: 'guard-model' }), { complete: async () => '' })
        ?.provider,
    ).toBe('guard-model');
  });

  it('fails fast when a provider lacks what it needs', () => {
    expect(() => createClassifier(withProvider({ MODERATION_PROVIDER: 'bedrock-guardrail' }))).toThrow(
      'GUARDRAIL_ID',
    );
    expect(() => createClassifier(withProvider({ MODERATION_PROVIDER: 'guard-model' }))).toThrow(
      'completion function',
    );
  });
});
