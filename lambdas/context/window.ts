/**
 * The context window: the system prompt plus the newest turns that fit a token budget. A turn starts at a
 * user message and runs to the next one; turns are kept or dropped whole, so the model never sees half of
 * a message or an answer without its question.
 */
export interface ContextMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  /** An answer that called tools: the calls (their arguments count towards the budget). */
  readonly toolCalls?: readonly {
    readonly id: string;
    readonly type: 'function';
    readonly function: { readonly name: string; readonly arguments: string };
  }[];
  /** A tool result: the call it answers. */
  readonly toolCallId?: string;
}

/** The text of a message the model reads: its content and any tool calls' names and arguments. */
function promptTextOf(message: ContextMessage): string {
  if (!message.toolCalls) return message.content;
  return [
    message.content,
    ...message.toolCalls.map((call) => call.function.name + call.function.arguments),
  ].join('\n');
}

export interface WindowOptions {
  /** At most this many turns before the newest one. */
  readonly maxTurns: number;
  /** Budget for the whole prompt, in estimated tokens. */
  readonly tokenBudget: number;
  /** Characters of ASCII text per token of the model's tokenizer (4 for BPE vocabularies, 1 for byte-level ones). */
  readonly charsPerToken?: number;
}

export const DEFAULT_WINDOW: WindowOptions = { maxTurns: 10, tokenBudget: 6_000 };

/**
 * Tokens of a text, estimated without a tokenizer (none belongs in the Lambda bundle): `charsPerToken` (~4 for
 * English with a BPE vocabulary) characters of ASCII per token, one token per non-ASCII character at least; plus a
 * few per message for the chat template.
 */
export function estimateTokens(text: string, charsPerToken = DEFAULT_CHARS_PER_TOKEN): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.charCodeAt(0) < 128) ascii++;
    else other += charsPerToken < 2 ? Buffer.byteLength(char, 'utf8') : 1;
  }
  return Math.ceil(ascii / charsPerToken) + other + (charsPerToken < 2 ? 16 : 4);
}

export const DEFAULT_CHARS_PER_TOKEN = 4;

export interface WindowResult {
  readonly messages: ContextMessage[];
  /** Earlier turns left out (stored turns the history query did not even return included). */
  readonly turnsDropped: number;
  readonly estimatedPromptTokens: number;
}

function splitTurns(messages: readonly ContextMessage[]): ContextMessage[][] {
  const turns: ContextMessage[][] = [];
  for (const message of messages) {
    const current = turns.at(-1);
    if (message.role === 'user' || current === undefined) turns.push([message]);
    else current.push(message);
  }
  return turns;
}

/**
 * Builds the prompt: system prompt, then as many of the newest earlier turns as fit (up to `maxTurns`), then
 * the newest turn (always kept). `earlierTurnsNotLoaded` counts stored turns older than `history`.
 */
export function buildContextWindow(
  systemPrompt: string | undefined,
  history: readonly ContextMessage[],
  newMessages: readonly ContextMessage[],
  options: WindowOptions = DEFAULT_WINDOW,
  earlierTurnsNotLoaded = 0,
): WindowResult {
  const turns = splitTurns([...history, ...newMessages]);
  const newest = turns.pop() ?? [];
  const estimate = (text: string) => estimateTokens(text, options.charsPerToken);
  const cost = (messages: readonly ContextMessage[]) =>
    messages.reduce((sum, message) => sum + estimate(promptTextOf(message)), 0);
  let used = (systemPrompt === undefined ? 0 : estimate(systemPrompt)) + cost(newest);
  const kept: ContextMessage[][] = [];
  for (let index = turns.length - 1; index >= 0 && kept.length < options.maxTurns; index--) {
    const turn = turns[index] ?? [];
    const turnCost = cost(turn);
    if (used + turnCost > options.tokenBudget) break;
    used += turnCost;
    kept.unshift(turn);
  }
  const system: ContextMessage[] =
    systemPrompt === undefined ? [] : [{ role: 'system', content: systemPrompt }];
  return {
    messages: [...system, ...kept.flat(), ...newest],
    turnsDropped: turns.length - kept.length + earlierTurnsNotLoaded,
    estimatedPromptTokens: used,
  };
}
