import { ModerationCategory } from './categories';
import { type DecisionRecorder, powertoolsRecorder } from './record';
import {
  type CompiledRules,
  compileRules,
  type RuleMatch,
  redact,
  resolveMatches,
  uniqueCategories,
} from './rules';
import type {
  Classifier,
  ClassifierResult,
  InputMessage,
  InputRole,
  MessagesVerdict,
  Moderation,
  ModerationConfig,
  ModerationDecision,
  ModerationDirection,
  OutputFilter,
  Verdict,
} from './types';

export type { DecisionRecorder } from './record';

export interface CreateModerationOptions {
  config: ModerationConfig;
  /** The ML classifier (from `createClassifier`); rules alone when absent. */
  classifier?: Classifier;
  /** Called once per decision (input check, finished or blocked answer), e.g. to forward it as an audit event. */
  onDecision?: (decision: ModerationDecision) => void;
  /** Counts and logs decisions; defaults to Powertools metrics and logger. */
  recorder?: DecisionRecorder;
}

/** Joins a request's messages into one classifier call (a line no message text is likely to contain). */
const BATCH_SEPARATOR = '\n\n<<<message>>>\n\n';

/** The config with every personal-data rule off. */
function withoutPii(config: ModerationConfig): ModerationConfig {
  const off = { input: 'off', output: 'off' } as const;
  const pii = Object.fromEntries(
    Object.keys(config.pii).map((kind) => [kind, off]),
  ) as unknown as ModerationConfig['pii'];
  return { ...config, pii };
}

/** Characters of already-emitted output kept as context for the next window (word boundaries, key hints). */
const CONTEXT_CHARS = 64;
/** Unclassified output is classified even without a sentence boundary once this long. */
const CLASSIFY_MAX_PENDING_CHARS = 1000;
const SENTENCE_END = /[.!?…。！？](?:["')\]]*)\s|\n/gu;

/** Runs `classify` with a deadline; rejects when the deadline passes (the provider call is aborted too). */
async function withDeadline(
  classifier: Classifier,
  text: string,
  direction: ModerationDirection,
  timeoutMs: number,
  prompt: string | undefined,
): Promise<ClassifierResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`Moderation classifier timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      classifier.classify(text, {
        direction,
        abortSignal: controller.signal,
        ...(prompt !== undefined ? { prompt } : {}),
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The moderation pipeline: input checks and streamed-output filters, every decision counted and recorded. */
export function createModeration(options: CreateModerationOptions): Moderation {
  const { config, classifier } = options;
  const recorder = options.recorder ?? powertoolsRecorder();
  const rules = {
    input: compileRules(config, 'input'),
    // System and developer messages: the input rules without the personal-data ones (an operator's prompt may
    // name a support address); injection and blocklist apply as to any message.
    instructions: compileRules(withoutPii(config), 'input'),
    output: compileRules(config, 'output'),
  };

  const decide = (direction: ModerationDirection, verdict: Verdict): Verdict => {
    const decision: ModerationDecision = {
      direction,
      action: verdict.action,
      categories: verdict.categories,
    };
    recorder.decision(decision);
    options.onDecision?.(decision);
    return verdict;
  };

  /** Classifies, applying the direction's fail mode: `undefined` means "failed open". */
  const classify = async (
    text: string,
    direction: ModerationDirection,
    prompt?: string,
  ): Promise<ClassifierResult | undefined> => {
    if (classifier === undefined || text.trim() === '') return { action: 'allow', categories: [] };
    const failMode = config.classifier.failMode[direction];
    try {
      return await withDeadline(classifier, text, direction, config.classifier.timeoutMs, prompt);
    } catch (error) {
      recorder.classifierError?.({ direction, provider: classifier.provider, failMode, error });
      return failMode === 'closed'
        ? { action: 'block', categories: [ModerationCategory.classifierUnavailable] }
        : undefined;
    }
  };

  /** The rules of an input message for its role: instructions (system, developer) carry no personal data rules. */
  const rulesFor = (role: InputRole): CompiledRules =>
    role === 'system' || role === 'developer' ? rules.instructions : rules.input;

  /** Classifies the messages in one call (role-labelled, in order); per message only when a masked batch cannot be split. */
  const classifyBatch = async (texts: readonly string[], roles: readonly InputRole[]) => {
    if (texts.length === 1) {
      const only = await classify(texts[0] ?? '', 'input');
      return { result: only, texts: [only?.redactedText ?? texts[0] ?? ''] };
    }
    const parts = texts.map((text, index) => `[${roles[index]}]\n${text}`);
    const result = await classify(parts.join(BATCH_SEPARATOR), 'input');
    if (result?.action !== 'redact' || result.redactedText === undefined) {
      return { result, texts: [...texts] };
    }
    const masked = result.redactedText.split(BATCH_SEPARATOR);
    const unlabelled = masked.map((part, index) => part.replace(`[${roles[index]}]\n`, ''));
    if (unlabelled.length === texts.length) return { result, texts: unlabelled };
    const each = await Promise.all(texts.map((text) => classify(text, 'input')));
    const categories = [
      ...new Set(each.flatMap((one) => (one?.action === 'allow' ? [] : (one?.categories ?? [])))),
    ];
    const blocked = each.some((one) => one?.action === 'block');
    return {
      result: { action: blocked ? 'block' : 'redact', categories } satisfies ClassifierResult,
      texts: each.map((one, index) => one?.redactedText ?? texts[index] ?? ''),
    };
  };

  const checkMessages = async (messages: readonly InputMessage[]): Promise<MessagesVerdict> => {
    const blocked = (categories: string[]): MessagesVerdict => {
      decide('input', { action: 'block', categories, text: '' });
      return { action: 'block', categories, texts: messages.map(() => '') };
    };
    const categories: string[] = [];
    const checked: string[] = [];
    for (const message of messages) {
      const matches = resolveMatches(rulesFor(message.role).scan(message.text));
      const blocks = matches.filter((match) => match.action === 'block');
      if (blocks.length > 0) return blocked(uniqueCategories(blocks));
      const redactions = matches.filter((match) => match.action === 'redact');
      for (const category of uniqueCategories(redactions))
        if (!categories.includes(category)) categories.push(category);
      checked.push(redact(message.text, redactions));
    }
    // The classifier sees the redacted texts: personal data never leaves for a third-party service.
    const batch = await classifyBatch(
      checked,
      messages.map((message) => message.role),
    );
    if (batch.result?.action === 'block') return blocked(batch.result.categories);
    if (batch.result?.action === 'redact') {
      for (const category of batch.result.categories)
        if (!categories.includes(category)) categories.push(category);
    }
    const action = categories.length > 0 ? 'redact' : 'allow';
    decide('input', { action, categories, text: '' });
    return { action, categories, texts: batch.texts };
  };

  const checkInput = async (text: string): Promise<Verdict> => {
    const verdict = await checkMessages([{ role: 'user', text }]);
    return { action: verdict.action, categories: verdict.categories, text: verdict.texts[0] ?? '' };
  };

  const createOutputFilter = (filterOptions: { prompt?: string } = {}): OutputFilter => {
    const outputRules = rules.output;
    let context = ''; // tail of the text already checked (original, for regex context only)
    let buffer = ''; // received, not yet final under the rules
    let pending = ''; // final under the rules (redacted), awaiting the classifier
    let blocked: Verdict | null = null;
    let finished = false;
    const redactedCategories = new Set<string>();

    let outcome: ModerationDecision | undefined;
    const block = (categories: string[]) => {
      blocked = decide('output', { action: 'block', categories, text: '' });
      outcome = { direction: 'output', action: 'block', categories };
      buffer = '';
      pending = '';
    };

    /** Rules over the bounded window; returns the newly final (redacted) text. */
    const applyRules = (final: boolean): string => {
      const window = context + buffer;
      const offset = context.length;
      const matches = resolveMatches(outputRules.scan(window)).filter((match) => match.end > offset);
      let hold = final ? buffer.length : outputRules.holdStart(buffer, config.outputMaxHoldChars);
      // A match that crosses the hold point waits whole.
      for (let moved = true; moved && !final; ) {
        moved = false;
        for (const match of matches) {
          if (match.start - offset < hold && match.end - offset > hold) {
            hold = Math.max(0, match.start - offset);
            moved = true;
          }
        }
      }
      const settled: RuleMatch[] = matches
        .filter((match) => match.end - offset <= hold)
        .map((match) => (match.start < offset ? { ...match, start: offset } : match));
      const blocks = settled.filter((match) => match.action === 'block');
      if (blocks.length > 0) {
        block(uniqueCategories(blocks));
        return '';
      }
      const redactions = settled.filter((match) => match.action === 'redact');
      for (const category of uniqueCategories(redactions)) redactedCategories.add(category);
      const checked = redact(window, redactions, offset, offset + hold);
      context = (context + buffer.slice(0, hold)).slice(-CONTEXT_CHARS);
      buffer = buffer.slice(hold);
      return checked;
    };

    /** Classifier at sentence boundaries (everything on flush); returns the text now safe to emit. */
    const applyClassifier = async (final: boolean): Promise<string> => {
      if (classifier === undefined) {
        const ready = pending;
        pending = '';
        return ready;
      }
      let cut = final ? pending.length : 0;
      if (!final) {
        for (const boundary of pending.matchAll(SENTENCE_END)) cut = boundary.index + boundary[0].length;
        if (cut < config.classifier.outputMinChars) cut = 0;
        if (pending.length >= CLASSIFY_MAX_PENDING_CHARS) cut = pending.length;
      }
      if (cut === 0) return '';
      const segment = pending.slice(0, cut);
      pending = pending.slice(cut);
      const result = await classify(segment, 'output', filterOptions.prompt);
      if (result?.action === 'block') {
        block(result.categories);
        return '';
      }
      if (result?.action === 'redact') {
        for (const category of result.categories) redactedCategories.add(category);
        return result.redactedText ?? segment;
      }
      return segment;
    };

    const step = async (final: boolean): Promise<{ emit: string; verdict: Verdict | null }> => {
      pending += applyRules(final);
      if (blocked) return { emit: '', verdict: blocked };
      const emit = await applyClassifier(final);
      if (blocked) return { emit: '', verdict: blocked };
      if (final && !finished) {
        finished = true;
        const categories = [...redactedCategories];
        const action = categories.length > 0 ? 'redact' : 'allow';
        decide('output', { action, categories, text: '' });
        outcome = { direction: 'output', action, categories };
      }
      return { emit, verdict: null };
    };

    // Calls are serialised, so a caller that does not await each push still gets ordered output.
    let queue: Promise<unknown> = Promise.resolve();
    const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
      const run = queue.then(task, task);
      queue = run.catch(() => undefined);
      return run;
    };

    return {
      push: (delta) =>
        enqueue(async () => {
          if (blocked) return { emit: '', verdict: blocked };
          if (finished) throw new Error('Output filter already flushed');
          buffer += delta;
          return step(false);
        }),
      flush: () =>
        enqueue(async () => {
          if (blocked) return { emit: '', verdict: blocked };
          if (finished) return { emit: '', verdict: null };
          return step(true);
        }),
      decision: () => outcome,
    };
  };

  return { checkInput, checkMessages, createOutputFilter };
}
