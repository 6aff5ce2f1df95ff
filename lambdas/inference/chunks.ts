import type { FinishReason, Usage } from '../contracts/api';

/** What the inference client yields, whatever the engine's wire format. */
export type InferenceEvent =
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'finish'; readonly reason: FinishReason }
  | { readonly type: 'usage'; readonly usage: Usage };

/** The model reported an error in its stream (an `{"error":…}` chunk). */
export class ModelStreamFailure extends Error {
  override readonly name = 'ModelStreamFailure';
}

/**
 * Splits arbitrary byte ranges into lines: payload parts cut anywhere, even inside a multi-byte character,
 * so bytes are decoded with a streaming decoder and a partial last line is kept for the next part.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';

  push(bytes: Uint8Array): string[] {
    this.pending += this.decoder.decode(bytes, { stream: true });
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines;
  }

  /** The unterminated last line, if any (JSON-lines engines may omit the final newline). */
  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  eos_token: 'stop',
  stop_sequence: 'stop',
  end_turn: 'stop',
  length: 'length',
  max_tokens: 'length',
  content_filter: 'content_filter',
};

function finishReasonOf(value: unknown): FinishReason | undefined {
  return typeof value === 'string' ? (FINISH_REASONS[value] ?? 'stop') : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function usageOf(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const prompt = value.prompt_tokens;
  const completion = value.completion_tokens;
  if (typeof prompt !== 'number' || typeof completion !== 'number') return undefined;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function errorMessageOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.message === 'string') return value.message;
  return 'The model reported an error.';
}

/** Events of one parsed chunk object: OpenAI chunks (our server, vLLM/LMI, TGI Messages API) or TGI/LMI tokens. */
export function eventsOfChunk(chunk: unknown): InferenceEvent[] {
  if (!isRecord(chunk)) return [];
  if (chunk.error !== undefined && chunk.error !== null)
    throw new ModelStreamFailure(errorMessageOf(chunk.error));
  const events: InferenceEvent[] = [];
  if (Array.isArray(chunk.choices)) {
    const choice: unknown = chunk.choices[0];
    if (isRecord(choice)) {
      const delta = isRecord(choice.delta)
        ? choice.delta
        : isRecord(choice.message)
          ? choice.message
          : undefined;
      const content = delta?.content ?? choice.text;
      if (typeof content === 'string' && content !== '') events.push({ type: 'delta', text: content });
      const reason = finishReasonOf(choice.finish_reason);
      if (reason) events.push({ type: 'finish', reason });
    }
  } else if (isRecord(chunk.token)) {
    const token = chunk.token;
    if (typeof token.text === 'string' && token.text !== '' && token.special !== true) {
      events.push({ type: 'delta', text: token.text });
    }
    const details = isRecord(chunk.details) ? chunk.details : undefined;
    const reason = finishReasonOf(details?.finish_reason);
    if (reason) events.push({ type: 'finish', reason });
  }
  const usage = usageOf(chunk.usage);
  if (usage) events.push({ type: 'usage', usage });
  return events;
}

/** One line of the stream: SSE (`data: …`, comments, `[DONE]`) or a bare JSON line. */
export function eventsOfLine(rawLine: string): InferenceEvent[] {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (line.trim() === '' || line.startsWith(':')) return [];
  let payload = line;
  if (line.startsWith('data:')) payload = line.slice(5).trim();
  else if (/^(event|id|retry):/.test(line)) return [];
  if (payload === '[DONE]' || payload === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new ModelStreamFailure('The model sent a malformed stream chunk.');
  }
  return eventsOfChunk(parsed);
}
