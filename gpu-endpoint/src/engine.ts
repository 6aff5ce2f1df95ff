/**
 * Continuous batching over node-llama-cpp: one model, one context with N sequences (slots), a fair FIFO
 * queue in front, and a lock-step scheduler that advances every active sequence by one token per decode.
 *
 * Why lock-step: when each request drives its own `sequence.evaluate()` loop, the sequences' sampling
 * results come back from the native thread pool at slightly different times, so they re-queue their next
 * token at different moments and the context dispatches partial batches — the sequences drift out of
 * phase and a batch of 8 becomes several smaller ones. Here one loop asks every active sequence for its
 * next token in the same tick, so all of them land in the same `llama_decode`, then waits for all of
 * them before the next step. Requests join (their prompt is evaluated in the same batch) and leave
 * between steps.
 */
import {
  type BatchItem,
  type ChatHistoryItem,
  type ChatWrapper,
  type CustomBatchingPrioritizationStrategy,
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaGrammarEvaluationState,
  LlamaLogLevel,
  type LlamaModel,
  type LlamaText,
  resolveChatWrapper,
  SpecialTokensText,
  type Token,
} from 'node-llama-cpp';
import { HttpError, invalidRequest } from './openai';

export interface EngineOptions {
  readonly modelFile: string;
  readonly modelName: string;
  readonly sequences: number;
  readonly contextSize: number;
  readonly batchSize?: number | undefined;
  readonly threads: number;
  readonly maxQueue: number;
  readonly gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | false;
  /** llama.cpp flash attention; default: node-llama-cpp's choice. */
  readonly flashAttention?: boolean | undefined;
  /**
   * `lockstep` (default) advances all active sequences together; `independent` lets each request run its
   * own `sequence.evaluate()` loop (node-llama-cpp's default behaviour; kept for the benchmark's comparison).
   */
  readonly scheduling?: 'lockstep' | 'independent';
}

/** A chat message as the engine sees it. */
export interface EngineMessage {
  readonly role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  readonly text: string;
}

export interface GenerationParams {
  readonly messages: readonly EngineMessage[];
  /** Upper bound on generated tokens; defaults to what is left of the slot's context. */
  readonly maxTokens?: number | undefined;
  readonly temperature?: number | undefined;
  readonly topP?: number | undefined;
  readonly seed?: number | undefined;
  readonly stop?: readonly string[] | undefined;
  /** Never sample end-of-generation tokens and ignore the chat template's end-of-turn text. */
  readonly ignoreEos?: boolean | undefined;
  /** Constrain the output to JSON (any object) or to a JSON schema. */
  readonly json?: { readonly schema: Readonly<Record<string, unknown>> | undefined } | undefined;
}

export interface GenerationOptions {
  /** Aborts the request (client disconnect); the slot is freed at the next step. */
  readonly signal?: AbortSignal | undefined;
  /** Epoch ms after which the request fails with a deadline error. */
  readonly deadlineAt?: number | undefined;
  /** Called with each new piece of output text, in order. */
  readonly onText?: ((text: string) => void) | undefined;
  /** Called once the request holds a slot and its prompt is tokenized. */
  readonly onStart?: ((info: { promptTokens: number; queueWaitMs: number }) => void) | undefined;
}

export type FinishReason = 'stop' | 'length';

export interface GenerationResult {
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly queueWaitMs: number;
  readonly timeToFirstTokenMs: number | null;
  readonly decodeTokensPerSecond: number | null;
  /** Slots in use when this request started generating (itself included). */
  readonly slotsBusy: number;
  /** The prompt text given to the model. */
  readonly promptText: string;
}

/** The client went away; nothing to answer. */
export class RequestCancelledError extends Error {
  constructor() {
    super('The request was cancelled by the client.');
    this.name = 'RequestCancelledError';
  }
}

export function deadlineExceeded(): HttpError {
  return new HttpError(
    504,
    'The request did not finish before its deadline.',
    'timeout_error',
    null,
    'deadline_exceeded',
  );
}

export function queueFull(retryAfterSeconds: number): HttpError {
  return new HttpError(
    429,
    'All inference slots are busy and the wait queue is full. Retry shortly.',
    'rate_limit_error',
    null,
    'queue_full',
    { 'retry-after': String(retryAfterSeconds), 'retry-after-ms': String(retryAfterSeconds * 1000) },
  );
}

export function shuttingDown(): HttpError {
  return new HttpError(503, 'The server is shutting down.', 'server_error', null, 'shutting_down');
}

interface Slot {
  readonly sequence: LlamaContextSequence;
  readonly index: number;
}

interface Prepared {
  readonly tokens: Token[];
  readonly promptText: string;
  readonly stops: string[];
  readonly maxTokens: number;
  readonly grammar: LlamaGrammarEvaluationState | undefined;
}

interface Pending {
  readonly params: GenerationParams;
  readonly options: GenerationOptions;
  readonly prepared: Prepared;
  readonly enqueuedAt: number;
  readonly resolve: (result: GenerationResult) => void;
  readonly reject: (err: unknown) => void;
  settled: boolean;
  cleanup: () => void;
}

type TokenIterator = ReturnType<LlamaContextSequence['evaluate']>;

interface Active {
  readonly pending: Pending;
  readonly slot: Slot;
  readonly iterator: TokenIterator;
  readonly startedAt: number;
  readonly queueWaitMs: number;
  readonly slotsBusy: number;
  readonly output: OutputText;
  firstTokenAt: number | null;
  generated: number;
  /** Text produced but not yet handed to `onText` (delivered while the next step decodes). */
  outbox: string;
  finish: { reason: FinishReason } | { error: unknown } | null;
}

/** Incremental detokenizer + stop-string matcher: emits text only once it cannot be part of a stop string. */
class OutputText {
  private readonly tokens: Token[] = [];
  private pending: Token[] = [];
  private text = '';
  private emitted = 0;
  private readonly holdBack: number;
  stopped = false;

  constructor(
    private readonly model: LlamaModel,
    private readonly stops: readonly string[],
  ) {
    // Text that could still turn out to be the start of a stop string is held back.
    this.holdBack = Math.max(0, stops.reduce((max, s) => Math.max(max, s.length), 0) - 1);
  }

  /** Adds a token; returns the text that became final. */
  push(token: Token): string {
    this.pending.push(token);
    const piece = this.model.detokenize(this.pending, false, this.tokens.slice(-8));
    // A multi-byte character split across byte tokens: wait for the rest (at most 4 bytes).
    if (piece.endsWith('\uFFFD') && this.pending.length < 4) return '';
    this.tokens.push(...this.pending);
    this.pending = [];
    const searchFrom = Math.max(0, this.text.length - this.holdBack);
    this.text += piece;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, searchFrom);
      if (at >= 0) {
        this.text = this.text.slice(0, at);
        this.stopped = true;
      }
    }
    const safeEnd = this.stopped
      ? this.text.length
      : Math.max(this.emitted, this.text.length - this.holdBack);
    const out = this.text.slice(this.emitted, safeEnd);
    this.emitted = Math.max(this.emitted, safeEnd);
    return out;
  }

  /** Flushes text held back for stop matching. */
  flush(): string {
    if (this.pending.length > 0) {
      this.text += this.model.detokenize(this.pending, false, this.tokens.slice(-8));
      this.tokens.push(...this.pending);
      this.pending = [];
    }
    const out = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return out;
  }

  get fullText(): string {
    return this.text;
  }
}

/** What went into llama.cpp's decode calls. */
export interface DecodeStats {
  /** `llama_decode` calls. */
  decodes: number;
  /** Sequences that had tokens in them, summed over calls (÷ decodes = mean batch width). */
  sequences: number;
  tokens: number;
}

/**
 * node-llama-cpp's "maximum parallelism" batch policy (every waiting sequence gets a token before any gets
 * a second; leftover room goes to prompts in arrival order), counting what each decode carries.
 */
function countingMaximumParallelism(stats: DecodeStats): CustomBatchingPrioritizationStrategy {
  return ({ items, size }) => {
    const ordered = [...items].sort((a, b) => b.evaluationPriority - a.evaluationPriority);
    const amounts = new Map<BatchItem, number>();
    let left = size;
    for (const item of ordered) {
      if (left === 0) break;
      if (item.tokens.length === 0) continue;
      amounts.set(item, 1);
      left--;
    }
    for (const item of ordered) {
      if (left === 0) break;
      const current = amounts.get(item);
      if (current === undefined) continue;
      const extra = Math.min(item.tokens.length - current, left);
      amounts.set(item, current + extra);
      left -= extra;
    }
    stats.decodes++;
    stats.sequences += amounts.size;
    for (const amount of amounts.values()) stats.tokens += amount;
    return [...amounts].map(([item, processAmount]) => ({ item, processAmount }));
  };
}

/**
 * Resolves after node-llama-cpp has dispatched the decode queued in the current tick: its dispatch runs
 * in a `setImmediate` queued during this tick, so two check phases later it has started.
 */
function afterDecodeDispatch(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Text pieces of chat-template stop triggers (special tokens such as EOS are handled as end-of-generation). */
function textTriggers(triggers: readonly LlamaText[]): string[] {
  const out: string[] = [];
  for (const trigger of triggers) {
    let text = '';
    let plain = true;
    for (const value of trigger.values) {
      if (typeof value === 'string') text += value;
      else if (value instanceof SpecialTokensText) text += value.value;
      else plain = false;
    }
    if (plain && text !== '') out.push(text);
  }
  return out;
}

/** Loads a model and serves generations through a pool of context sequences. */
export class InferenceEngine {
  private readonly free: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly active = new Set<Active>();
  private loopRunning = false;
  private closing = false;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    readonly chatWrapper: ChatWrapper,
    readonly options: EngineOptions,
    /** Counters of the batches sent to llama.cpp (how full the batches are). */
    readonly decodeStats: DecodeStats,
  ) {
    for (let index = 0; index < options.sequences; index++) {
      this.free.push({ sequence: context.getSequence(), index });
    }
  }

  /** Loads the model and creates the context. Never compiles llama.cpp: prebuilt binaries only. */
  static async load(options: EngineOptions): Promise<InferenceEngine> {
    const llama = await getLlama({
      gpu: options.gpu,
      build: 'never',
      logLevel: LlamaLogLevel.error,
      ...(options.threads > 0 ? { maxThreads: options.threads } : {}),
    });
    const model = await llama.loadModel({ modelPath: options.modelFile });
    const stats: DecodeStats = { decodes: 0, sequences: 0, tokens: 0 };
    const context = await model.createContext({
      sequences: options.sequences,
      batching: { itemPrioritizationStrategy: countingMaximumParallelism(stats) },
      contextSize: options.contextSize,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.flashAttention !== undefined ? { flashAttention: options.flashAttention } : {}),
      ...(options.threads > 0 ? { threads: { ideal: options.threads, min: options.threads } } : {}),
    });
    const chatWrapper = resolveChatWrapper(model);
    if (chatWrapper === null) throw new Error(`No chat template could be resolved for ${options.modelFile}`);
    return new InferenceEngine(llama, model, context, chatWrapper, options, stats);
  }

  get slotsTotal(): number {
    return this.options.sequences;
  }
  get slotsBusy(): number {
    return this.options.sequences - this.free.length;
  }
  get queueLength(): number {
    return this.queue.length;
  }

  /** Renders and tokenizes the prompt; throws a 400 when it cannot fit the slot's context. */
  private async prepare(params: GenerationParams): Promise<Prepared> {
    const chatHistory: ChatHistoryItem[] = [];
    for (const message of params.messages) {
      if (message.role === 'system' || message.role === 'developer') {
        chatHistory.push({ type: 'system', text: message.text });
      } else if (message.role === 'assistant') {
        chatHistory.push({ type: 'model', response: [message.text] });
      } else {
        chatHistory.push({ type: 'user', text: message.text });
      }
    }
    chatHistory.push({ type: 'model', response: [] });
    const state = this.chatWrapper.generateContextState({ chatHistory });
    const tokens = state.contextText.tokenize(this.model.tokenizer);
    const room = this.context.contextSize - tokens.length;
    if (room < 1) {
      throw invalidRequest(
        `The prompt is ${tokens.length} tokens; this model's context holds ${this.context.contextSize} per request.`,
        'messages',
        'context_length_exceeded',
      );
    }
    if (params.maxTokens !== undefined && params.maxTokens > room) {
      throw invalidRequest(
        `max_tokens (${params.maxTokens}) plus the prompt (${tokens.length} tokens) exceeds the context of ` +
          `${this.context.contextSize} tokens.`,
        'max_tokens',
        'context_length_exceeded',
      );
    }
    const stops = [...(params.stop ?? [])];
    if (!params.ignoreEos) stops.push(...textTriggers(state.stopGenerationTriggers));
    let grammar: LlamaGrammarEvaluationState | undefined;
    if (params.json !== undefined) {
      const jsonGrammar =
        params.json.schema === undefined
          ? await this.llama.getGrammarFor('json')
          : await this.llama
              .createGrammarForJsonSchema(
                // Client schemas are arbitrary JSON; node-llama-cpp validates them and rejects unsupported ones.
                params.json.schema as never,
              )
              .catch((err: unknown) => {
                throw invalidRequest(
                  `Unsupported JSON schema: ${err instanceof Error ? err.message : String(err)}`,
                  'response_format.json_schema.schema',
                );
              });
      grammar = new LlamaGrammarEvaluationState({ model: this.model, grammar: jsonGrammar });
    }
    return {
      tokens,
      promptText: state.contextText.toString(),
      stops: [...new Set(stops)],
      maxTokens: params.maxTokens ?? room,
      grammar,
    };
  }

  /**
   * Generates a chat completion. Waits in a FIFO queue when all slots are busy; rejects with a 429
   * `HttpError` when the queue is full, a 504 on deadline, `RequestCancelledError` on abort.
   */
  async generate(params: GenerationParams, options: GenerationOptions = {}): Promise<GenerationResult> {
    if (this.closing) throw shuttingDown();
    if (this.free.length === 0 && this.queue.length >= this.options.maxQueue) {
      throw queueFull(Math.max(1, Math.ceil(this.queue.length / this.options.sequences)));
    }
    const prepared = await this.prepare(params);
    if (options.signal?.aborted) throw new RequestCancelledError();
    // Checked again: other requests may have queued while this prompt was being prepared.
    if (this.closing) throw shuttingDown();
    if (this.free.length === 0 && this.queue.length >= this.options.maxQueue) {
      throw queueFull(Math.max(1, Math.ceil(this.queue.length / this.options.sequences)));
    }
    return await new Promise<GenerationResult>((resolve, reject) => {
      const pending: Pending = {
        params,
        options,
        prepared,
        enqueuedAt: performance.now(),
        resolve,
        reject,
        settled: false,
        cleanup: () => {},
      };
      const leaveQueue = (err: unknown) => {
        const at = this.queue.indexOf(pending);
        if (at < 0) return;
        this.queue.splice(at, 1);
        this.settle(pending, err);
      };
      const onAbort = () => leaveQueue(new RequestCancelledError());
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        options.deadlineAt === undefined
          ? undefined
          : setTimeout(() => leaveQueue(deadlineExceeded()), Math.max(0, options.deadlineAt - Date.now()));
      pending.cleanup = () => {
        options.signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearTimeout(timer);
      };
      this.queue.push(pending);
      this.kick();
    });
  }

  private settle(pending: Pending, outcome: GenerationResult | unknown, ok = false): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.cleanup();
    if (ok) pending.resolve(outcome as GenerationResult);
    else pending.reject(outcome);
    if (this.active.size === 0 && this.queue.length === 0) {
      for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  private kick(): void {
    if (this.options.scheduling === 'independent') {
      this.admitIndependent();
      return;
    }
    if (this.loopRunning) return;
    this.loopRunning = true;
    void this.runLockstep().finally(() => {
      this.loopRunning = false;
      if (this.queue.length > 0 && this.free.length > 0) this.kick();
    });
  }

  /** Moves queued requests into free slots, oldest first. */
  private admit(): Active[] {
    const admitted: Active[] = [];
    while (this.free.length > 0 && this.queue.length > 0) {
      const pending = this.queue.shift();
      const slot = this.free.shift();
      if (pending === undefined || slot === undefined) break;
      const { prepared, params } = pending;
      const iterator = slot.sequence.evaluate(prepared.tokens, {
        temperature: params.temperature ?? 1,
        ...(params.topP !== undefined ? { topP: params.topP } : {}),
        ...(params.seed !== undefined ? { seed: params.seed } : {}),
        ...(prepared.grammar !== undefined ? { grammarEvaluationState: prepared.grammar } : {}),
        // vLLM semantics: an end-of-generation token is yielded and generation simply continues past it.
        ...(params.ignoreEos && prepared.grammar === undefined ? { yieldEogToken: true } : {}),
      });
      const startedAt = performance.now();
      const active: Active = {
        pending,
        slot,
        iterator,
        startedAt,
        queueWaitMs: startedAt - pending.enqueuedAt,
        slotsBusy: this.slotsBusy,
        output: new OutputText(this.model, prepared.stops),
        firstTokenAt: null,
        generated: 0,
        outbox: '',
        finish: null,
      };
      this.active.add(active);
      pending.options.onStart?.({ promptTokens: prepared.tokens.length, queueWaitMs: active.queueWaitMs });
      admitted.push(active);
    }
    return admitted;
  }

  private async runLockstep(): Promise<void> {
    while (true) {
      this.admit();
      if (this.active.size === 0) return;
      // One step: every active sequence asks for its next token in this same tick → one batched decode.
      const current = [...this.active];
      const stepped = Promise.all(current.map((active) => this.step(active)));
      // Hand out the previous step's text while this step decodes on llama.cpp's thread, so
      // detokenizing and HTTP writes overlap the decode instead of delaying the next one.
      await afterDecodeDispatch();
      for (const active of current) this.deliver(active);
      await stepped;
      await Promise.all(current.filter((a) => a.finish !== null).map((a) => this.release(a)));
    }
  }

  private admitIndependent(): void {
    for (const active of this.admit()) {
      void (async () => {
        while (active.finish === null) await this.step(active);
        await this.release(active);
      })();
    }
  }

  /** Advances one sequence by one token and records why it should stop, if it should. */
  private async step(active: Active): Promise<void> {
    const { pending } = active;
    if (pending.options.signal?.aborted) {
      active.finish = { error: new RequestCancelledError() };
      return;
    }
    if (pending.options.deadlineAt !== undefined && Date.now() > pending.options.deadlineAt) {
      active.finish = { error: deadlineExceeded() };
      return;
    }
    let next: IteratorResult<Token, void>;
    try {
      next = await active.iterator.next();
    } catch (err) {
      active.finish = { error: err };
      return;
    }
    if (next.done) {
      active.finish = { reason: 'stop' };
      return;
    }
    active.firstTokenAt ??= performance.now();
    active.generated++;
    active.outbox += active.output.push(next.value);
    if (this.options.scheduling === 'independent') this.deliver(active);
    if (active.output.stopped) active.finish = { reason: 'stop' };
    else if (active.generated >= pending.prepared.maxTokens) active.finish = { reason: 'length' };
  }

  private deliver(active: Active): void {
    if (active.outbox === '') return;
    const text = active.outbox;
    active.outbox = '';
    active.pending.options.onText?.(text);
  }

  /** Ends a generation: closes its evaluation, clears the slot's memory, returns the slot, settles the request. */
  private async release(active: Active): Promise<void> {
    const { pending, finish } = active;
    this.active.delete(active);
    const finishedAt = performance.now();
    if (finish !== null && 'reason' in finish) {
      active.outbox += active.output.flush();
      this.deliver(active);
    }
    try {
      await active.iterator.return();
      await active.slot.sequence.clearHistory();
      this.free.push(active.slot);
    } catch {
      // A sequence that failed to clear is not reused: replace it if the context still has room.
      try {
        this.free.push({ sequence: this.context.getSequence(), index: active.slot.index });
      } catch {
        /* the slot is lost; capacity shrinks by one */
      }
    }
    if (finish === null || 'error' in finish) {
      this.settle(pending, finish?.error ?? new Error('generation ended without a result'));
    } else {
      const decodeMs = active.firstTokenAt === null ? 0 : finishedAt - active.firstTokenAt;
      this.settle(
        pending,
        {
          text: active.output.fullText,
          finishReason: finish.reason,
          promptTokens: pending.prepared.tokens.length,
          completionTokens: active.generated,
          queueWaitMs: active.queueWaitMs,
          timeToFirstTokenMs: active.firstTokenAt === null ? null : active.firstTokenAt - pending.enqueuedAt,
          decodeTokensPerSecond:
            active.generated > 1 && decodeMs > 0 ? ((active.generated - 1) * 1000) / decodeMs : null,
          slotsBusy: active.slotsBusy,
          promptText: pending.prepared.promptText,
        } satisfies GenerationResult,
        true,
      );
    }
    if (this.options.scheduling === 'independent') this.admitIndependent();
  }

  /** Stops admitting new requests (they get 503). */
  stopAccepting(): void {
    this.closing = true;
  }

  /** Resolves once no request is queued or generating. */
  async idle(): Promise<void> {
    if (this.active.size === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async dispose(): Promise<void> {
    this.closing = true;
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
