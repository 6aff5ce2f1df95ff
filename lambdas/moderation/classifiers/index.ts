import { EnvName } from '../../contracts/env';
import { ConfigError } from '../../shared/config';
import type { Classifier, ModerationConfig } from '../types';
import { type BedrockRuntimeLike, createBedrockGuardrailClassifier } from './bedrock-guardrail';
import { type ComprehendLike, createComprehendClassifier } from './comprehend';
import { createGuardModelClassifier, type GuardCompletion } from './guard-model';

export type { BedrockRuntimeLike } from './bedrock-guardrail';
export type { ComprehendLike } from './comprehend';
export type { GuardCompletion, GuardMessage, GuardResponseFormat } from './guard-model';

/** What the providers may need; SDK clients are created lazily when not given. */
export interface ClassifierDeps {
  comprehend?: ComprehendLike;
  bedrock?: BedrockRuntimeLike;
  /** Required by `guard-model`: sends a prompt to the inference endpoint. */
  complete?: GuardCompletion;
}

/** Picks the classifier provider from the config; `undefined` for `none`. Fails fast on missing settings. */
export function createClassifier(
  config: ModerationConfig,
  deps: ClassifierDeps = {},
): Classifier | undefined {
  const settings = config.classifier;
  switch (settings.provider) {
    case 'none':
      return undefined;
    case 'comprehend':
      return createComprehendClassifier({
        ...(deps.comprehend ? { client: deps.comprehend } : {}),
        region: settings.region,
        thresholds: settings.thresholds,
      });
    case 'bedrock-guardrail':
      if (settings.guardrailId === undefined) {
        throw new ConfigError(`The bedrock-guardrail moderation provider needs ${EnvName.guardrailId}`);
      }
      return createBedrockGuardrailClassifier({
        ...(deps.bedrock ? { client: deps.bedrock } : {}),
        region: settings.region,
        guardrailId: settings.guardrailId,
        guardrailVersion: settings.guardrailVersion,
      });
    case 'guard-model':
      if (deps.complete === undefined) {
        throw new Error('The guard-model moderation provider needs a completion function');
      }
      return createGuardModelClassifier({ complete: deps.complete });
  }
}
