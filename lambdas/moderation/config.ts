import * as z from 'zod';
import { EnvName } from '../contracts/env';
import type { Config } from '../shared/config';
import { ConfigError } from '../shared/config';
import type { DirectionalAction, ModerationConfig, PiiKind } from './types';

const both = (input: DirectionalAction['input'], output: DirectionalAction['output']): DirectionalAction => ({
  input,
  output,
});

/**
 * The defaults, and why:
 * - injection blocks input (it targets the model) and is off on output (the model quoting a pattern is harmless);
 * - the blocklist blocks both ways;
 * - contact details (email, phone) pass: users legitimately share their own; turn on per deployment;
 * - cards, IBANs and AWS keys are redacted on input (the model never needs them; the user still gets an answer)
 *   and block the answer on output (a model reciting one is a leak, not a typo);
 * - the classifier fails closed on input (nothing unchecked reaches the model) and open on output (the rules
 *   still run; cutting answers during a classifier outage hurts every user).
 */
export function defaultModerationConfig(): ModerationConfig {
  return {
    blocklist: [],
    blocklistAction: both('block', 'block'),
    injectionAction: both('block', 'off'),
    pii: {
      email: both('off', 'off'),
      phone: both('off', 'off'),
      card: both('redact', 'block'),
      iban: both('redact', 'block'),
      aws_access_key: both('redact', 'block'),
      aws_secret_key: both('redact', 'block'),
    },
    classifier: {
      provider: 'none',
      failMode: { input: 'closed', output: 'open' },
      timeoutMs: 1500,
      thresholds: { default: 0.5 },
      guardrailId: undefined,
      guardrailVersion: 'DRAFT',
      region: 'us-east-1',
      outputMinChars: 80,
    },
    outputMaxHoldChars: 256,
  };
}

const RuleActionSchema = z.enum(['block', 'redact', 'off']);
const DirectionalSchema = z.union([
  RuleActionSchema.transform((action) => ({ input: action, output: action })),
  z.strictObject({ input: RuleActionSchema.optional(), output: RuleActionSchema.optional() }),
]);
const PiiOverridesSchema = z.strictObject({
  email: DirectionalSchema.optional(),
  phone: DirectionalSchema.optional(),
  card: DirectionalSchema.optional(),
  iban: DirectionalSchema.optional(),
  aws_access_key: DirectionalSchema.optional(),
  aws_secret_key: DirectionalSchema.optional(),
});
/** Shape of `MODERATION_RULES`: every key optional; a bare action applies to both directions. */
export const ModerationRulesSchema = z.strictObject({
  blocklist: DirectionalSchema.optional(),
  injection: DirectionalSchema.optional(),
  pii: PiiOverridesSchema.optional(),
  outputMaxHoldChars: z.number().int().min(32).max(4096).optional(),
  outputMinChars: z.number().int().min(1).max(8192).optional(),
});
export type ModerationRules = z.input<typeof ModerationRulesSchema>;

type Partial2 = { input?: DirectionalAction['input']; output?: DirectionalAction['output'] } | undefined;
const merge = (base: DirectionalAction, override: Partial2): DirectionalAction => ({
  input: override?.input ?? base.input,
  output: override?.output ?? base.output,
});

/** Applies `MODERATION_RULES`-style overrides to a config (pure; used by env parsing and tests). */
export function withRules(base: ModerationConfig, rules: ModerationRules): ModerationConfig {
  const parsed = ModerationRulesSchema.parse(rules);
  const pii = { ...base.pii };
  for (const kind of Object.keys(pii) as PiiKind[]) pii[kind] = merge(base.pii[kind], parsed.pii?.[kind]);
  return {
    ...base,
    blocklistAction: merge(base.blocklistAction, parsed.blocklist),
    injectionAction: merge(base.injectionAction, parsed.injection),
    pii,
    outputMaxHoldChars: parsed.outputMaxHoldChars ?? base.outputMaxHoldChars,
    classifier: {
      ...base.classifier,
      outputMinChars: parsed.outputMinChars ?? base.classifier.outputMinChars,
    },
  };
}

/** Parses `default=0.5,hate=0.3`; fails naming the variable. */
export function parseThresholds(raw: string | undefined): Record<string, number> {
  const thresholds: Record<string, number> = { default: 0.5 };
  if (raw === undefined) return thresholds;
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const [name, value] = item.split('=').map((s) => s.trim());
    const score = Number(value);
    if (!name || value === undefined || value === '' || !Number.isFinite(score) || score < 0 || score > 1) {
      throw new ConfigError(
        `Invalid ${EnvName.moderationThresholds}: "${item}" (expected category=score, 0–1)`,
      );
    }
    thresholds[name] = score;
  }
  return thresholds;
}

/** The moderation settings from the process configuration (`config()` of lambdas/shared/config). */
export function moderationConfigFromEnv(cfg: Config): ModerationConfig {
  const base = defaultModerationConfig();
  let rules: ModerationRules = {};
  if (cfg.moderationRules !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(cfg.moderationRules);
    } catch {
      throw new ConfigError(`Invalid ${EnvName.moderationRules}: not JSON`);
    }
    const parsed = ModerationRulesSchema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      throw new ConfigError(`Invalid ${EnvName.moderationRules}: ${problems.join('; ')}`);
    }
    rules = json as ModerationRules;
  }
  const withOverrides = withRules(base, rules);
  return {
    ...withOverrides,
    blocklist: cfg.moderationBlocklist ?? [],
    classifier: {
      ...withOverrides.classifier,
      provider: cfg.moderationProvider,
      failMode: {
        input: cfg.moderationFailModeInput ?? base.classifier.failMode.input,
        output: cfg.moderationFailModeOutput ?? base.classifier.failMode.output,
      },
      timeoutMs: cfg.moderationTimeoutMs ?? base.classifier.timeoutMs,
      thresholds: parseThresholds(cfg.moderationThresholds),
      guardrailId: cfg.guardrailId,
      guardrailVersion: cfg.guardrailVersion,
      region: cfg.region,
    },
  };
}
