import {
  type Classifier,
  type ClassifierResult,
  type DecisionRecorder,
  defaultModerationConfig,
  type ModerationConfig,
  type ModerationDecision,
  type ModerationRules,
  withRules,
} from '../../../lambdas/moderation';

/** The default config with a blocklist and rule overrides. */
export function configWith(rules: ModerationRules = {}, blocklist: string[] = []): ModerationConfig {
  return withRules({ ...defaultModerationConfig(), blocklist }, rules);
}

/** Every rule on, in both directions, with the given action. */
export function allRules(action: 'block' | 'redact', blocklist: string[] = []): ModerationConfig {
  return configWith(
    {
      blocklist: 'block',
      injection: 'block',
      pii: {
        email: action,
        phone: action,
        card: action,
        iban: action,
        aws_access_key: action,
        aws_secret_key: action,
      },
    },
    blocklist,
  );
}

/** A recorder that keeps what it was told. */
export function memoryRecorder(): DecisionRecorder & { decisions: ModerationDecision[]; failures: number } {
  const recorder = {
    decisions: [] as ModerationDecision[],
    failures: 0,
    decision(decision: ModerationDecision) {
      recorder.decisions.push(decision);
    },
    classifierError() {
      recorder.failures += 1;
    },
  };
  return recorder;
}

/** A classifier that answers from a function, recording what it saw. */
export function fakeClassifier(
  answer: (text: string) => ClassifierResult | Promise<ClassifierResult>,
): Classifier & { seen: string[] } {
  const seen: string[] = [];
  return {
    provider: 'guard-model',
    seen,
    async classify(text) {
      seen.push(text);
      return answer(text);
    },
  };
}
