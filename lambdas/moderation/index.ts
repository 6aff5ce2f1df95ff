/**
 * Moderation: a rule layer that always runs (blocklist, prompt injection, PII) and a pluggable classifier
 * (`none`, `comprehend`, `bedrock-guardrail`, `guard-model`), for the user's input and the streamed output.
 * Plain functions with their dependencies as parameters; the chat handler composes them. See README.md.
 */

export { ModerationCategory } from './categories';
export type {
  BedrockRuntimeLike,
  ClassifierDeps,
  ComprehendLike,
  GuardCompletion,
  GuardMessage,
  GuardResponseFormat,
} from './classifiers';
export { createClassifier } from './classifiers';
export type { ModerationRules } from './config';
export { defaultModerationConfig, moderationConfigFromEnv, withRules } from './config';
export type { CreateModerationOptions } from './moderation';
export { createModeration } from './moderation';
export type { DecisionRecorder, LoggerLike, MetricsLike } from './record';
export { powertoolsRecorder } from './record';
export type {
  Classifier,
  ClassifierConfig,
  ClassifierProvider,
  ClassifierResult,
  ClassifyContext,
  DirectionalAction,
  FailMode,
  InputMessage,
  InputRole,
  MessagesVerdict,
  Moderation,
  ModerationAction,
  ModerationConfig,
  ModerationDecision,
  ModerationDirection,
  OutputFilter,
  PiiKind,
  RuleAction,
  Verdict,
} from './types';
