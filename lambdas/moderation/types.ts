/** Types shared by the moderation modules; the public surface is re-exported from `./index`. */

export type ModerationAction = 'allow' | 'redact' | 'block';
export type ModerationDirection = 'input' | 'output';

/** The outcome of a check. `text` is the checked text, with redactions applied (empty when blocked). */
export interface Verdict {
  action: ModerationAction;
  categories: string[];
  text: string;
}

/** One counted, recorded decision: never carries the text itself. */
export interface ModerationDecision {
  direction: ModerationDirection;
  action: ModerationAction;
  categories: string[];
}

/** What a rule does when it matches, per direction. `off` disables it. */
export type RuleAction = 'block' | 'redact' | 'off';
export interface DirectionalAction {
  input: RuleAction;
  output: RuleAction;
}

export const PII_KINDS = ['email', 'phone', 'card', 'iban', 'aws_access_key', 'aws_secret_key'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export type ClassifierProvider = 'none' | 'comprehend' | 'bedrock-guardrail' | 'guard-model';
/** `open` lets text through when the classifier fails; `closed` blocks it (category `classifier_unavailable`). */
export type FailMode = 'open' | 'closed';

export interface ClassifierConfig {
  provider: ClassifierProvider;
  failMode: { input: FailMode; output: FailMode };
  /** Per-call deadline; a classifier slower than this counts as failed. */
  timeoutMs: number;
  /** Score (0–1) at or above which a Comprehend label flags the text, by our category name. `default` for the rest. */
  thresholds: Readonly<Record<string, number>>;
  guardrailId: string | undefined;
  guardrailVersion: string;
  region: string;
  /** Output is classified at sentence boundaries once at least this many characters are pending. */
  outputMinChars: number;
}

export interface ModerationConfig {
  /** Words or phrases, matched on word boundaries, case-, diacritic- and (cheaply) leetspeak-insensitively. */
  blocklist: readonly string[];
  blocklistAction: DirectionalAction;
  /** Prompt-injection patterns (instruction overrides, system-prompt extraction, spoofed role tags). */
  injectionAction: DirectionalAction;
  pii: Readonly<Record<PiiKind, DirectionalAction>>;
  classifier: ClassifierConfig;
  /** Upper bound on the output tail held back while a pattern may still be completing. */
  outputMaxHoldChars: number;
}

/** What a classifier says about a text. `redactedText` is set when the provider masked the text itself. */
export interface ClassifierResult {
  action: ModerationAction;
  categories: string[];
  redactedText?: string;
}

export interface ClassifyContext {
  direction: ModerationDirection;
  /** The user's message an output answers, when known (guard models judge the exchange). */
  prompt?: string;
  abortSignal?: AbortSignal;
}

/** A pluggable ML classifier. Throws when it cannot decide; the caller applies the fail mode. */
export interface Classifier {
  readonly provider: ClassifierProvider;
  classify(text: string, context: ClassifyContext): Promise<ClassifierResult>;
}

export interface OutputFilter {
  /** Feeds one streamed delta; returns the text now safe to show, and a verdict once the answer is blocked. */
  push(delta: string): Promise<{ emit: string; verdict: Verdict | null }>;
  /** Ends the answer: checks and returns whatever was held back. */
  flush(): Promise<{ emit: string; verdict: Verdict | null }>;
  /** The answer's decision (allow, redact or block, with categories) once it was flushed or blocked. */
  decision(): ModerationDecision | undefined;
}

/**
 * Roles a client may send; each is checked (system and developer with the instruction rules, tool results —
 * untrusted text from elsewhere — with the user rules).
 */
export type InputRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface InputMessage {
  readonly role: InputRole;
  readonly text: string;
}

/** The verdict on a request's messages as a whole; `texts` are the checked texts, in order (empty when blocked). */
export interface MessagesVerdict {
  readonly action: ModerationAction;
  readonly categories: string[];
  readonly texts: string[];
}

export interface Moderation {
  /** One user text (a stored question, a single message). */
  checkInput(text: string): Promise<Verdict>;
  /** Every message of a request, whatever its role: the rules per message, one classifier call for all. */
  checkMessages(messages: readonly InputMessage[]): Promise<MessagesVerdict>;
  createOutputFilter(options?: { prompt?: string }): OutputFilter;
}
