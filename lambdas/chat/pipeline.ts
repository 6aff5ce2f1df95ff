import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { estimateTokens } from '../context';
import type {
  ChatCompletion,
  ChatCompletionRequest,
  FinishReason,
  MessageStatus,
  TokenLogprob,
  ToolCall,
  ToolCallDelta,
  Usage,
} from '../contracts/api';
import { type AnalyticsEvent, buildEvent, type EventStatus } from '../contracts/events';
import { METRICS_NAMESPACE, MetricName } from '../contracts/metrics';
import {
  type ConversationStore,
  endAsInterrupted,
  putAnswerOverGenerating,
  putAnswerOverUnfinished,
  putMessage,
  type StoredMessage,
} from '../conversations/store';
import {
  InferenceAbortedError,
  type InferenceDeps,
  InferenceInterruptedError,
  streamChat,
} from '../inference';
import type { ToolCallFragment } from '../inference/chunks';
import type { ModelCatalog } from '../models/catalog';
import type { Moderation, OutputFilter } from '../moderation/types';
import { type Admission, admitTurn, type QuotaDeps, type QuotaState, settleTurn } from '../quota';
import type { RetrievalDeps } from '../retrieval';
import { withCustomInstructions } from '../settings/service';
import { getSettings } from '../settings/store';
import { ApiError, ContentFilteredError, type OpenAiErrorBody } from '../shared/errors';
import { logger, metrics } from '../shared/powertools';
import { afterTurn } from './after-turn';
import { ground, groundedLimits, groundedTokensWanted, groundTurn } from './grounding';
import { depsForModel } from './model-choice';
import {
  clientMessages,
  DEFAULT_SYSTEM_PROMPT,
  type PreparedTurn,
  prepareRegeneration,
  prepareResumed,
  prepareTurn,
  type TurnLimits,
  type TurnPlace,
  type TurnRef,
} from './prepare';
import { AnswerProgress } from './resumable';

/**
 * One chat turn, read top to bottom — the only path an answer takes, streamed or not, from the API or a job:
 *
 *   admit (request count, token reservation, concurrency slot) → moderate the client's messages → ground in the
 *   conversation's files (`grounding.ts`) → build the context window (and store the question) → infer (stream)
 *   → moderate the output (windowed) → persist the answer → settle the quota → metrics and the analytics event.
 *
 * A streamed answer goes out through `onStart` / `onText` as it is produced; a non-streamed one is the same stream
 * collected. Errors before the first token are thrown (typed, mapped to HTTP once by the handler's middleware);
 * after it, the turn always ends with a record, `error` set when it did not finish.
 */

/** Everything a chat turn needs, passed in (SDK clients created once by the handler or worker). */
export interface ChatDeps {
  readonly store: ConversationStore;
  readonly inference: InferenceDeps;
  readonly moderation: Moderation;
  readonly quota: QuotaDeps;
  /** The default model's id (the one `inference` and `limits` describe). */
  readonly modelId: string;
  readonly limits: TurnLimits;
  /**
   * Every model served; a request's `model` picks one (its endpoints, context and id replace the defaults).
   * @default none: the one model above serves every request, whatever it names
   */
  readonly models?: ModelCatalog | undefined;
  /** System prompt used when neither the request nor the conversation has one. */
  readonly systemPrompt?: string;
  /** Analytics sink (`lambdas/events` emitter); called after the answer, never on the hot path. */
  readonly emitEvents?: (events: readonly AnalyticsEvent[]) => Promise<unknown>;
  readonly region?: string;
  /** Attempts at writing an answer before it counts as lost (`AnswerPersistFailures`). */
  readonly persistAttempts?: number;
  /** Retrieval over the user's files (`file_ids`). @default none: `file_ids` is refused */
  readonly files?: RetrievalDeps | undefined;
  /** Asks for a title to be written (a job on the queue) after a conversation's first answer. @default none */
  readonly requestTitle?: ((sub: string, conversationId: string) => Promise<unknown>) | undefined;
}

/** Who is asking, as the handler or job worker knows it. */
export interface ChatCaller {
  readonly sub: string;
  readonly clientId?: string | undefined;
  readonly requestId?: string | undefined;
  /** The personal API key the request came with: its usage is also counted per key. */
  readonly apiKeyId?: string | undefined;
}

/** What the handler needs to answer once the first token is in (status line and headers). */
export interface TurnHead {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly conversationId: string;
  /** The stored answer's id (a resumable answer is re-attached and stopped by it). */
  readonly messageId: string;
  /** The stored answer's place in its conversation. */
  readonly sequence: number;
  readonly turnsDropped: number;
  readonly quota: QuotaState | undefined;
}

export interface TurnOptions {
  /** The client went away: stop generating, keep what was said as `interrupted`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Store the answer while it is generated (`generating`, its text in bounded steps) and end it early only on an
   * explicit stop (the flag read at each step); the caller then passes no client `signal`.
   */
  readonly resumable?: boolean | undefined;
  /** Epoch ms by which generation must stop (the invocation's time left minus a margin). */
  readonly deadlineAt?: number | undefined;
  /** The first token is in: a streamed answer sends its headers and role chunk. */
  readonly onStart?: (head: TurnHead) => void;
  /** Moderated answer text, in order, as it becomes safe to show (with the log probabilities that came since). */
  readonly onText?: (text: string, logprobs: readonly TokenLogprob[]) => void;
  /** Moderated reasoning, apart from the answer. */
  readonly onReasoning?: (text: string) => void;
  /** A moderated fragment of a tool call: the first of an index carries its id and name. */
  readonly onToolCall?: (delta: ToolCallDelta) => void;
  /** Whether the turn holds one of the user's concurrent-turn slots (jobs have their own limit). */
  readonly concurrencySlot?: boolean;
  /** A turn an earlier attempt prepared (its question stored, counted and moderated): answer it, ask nothing again. */
  readonly resume?: TurnRef | undefined;
  /** Called once a new turn's question has its place, before the model runs (a job records it for its retries). */
  readonly onPrepared?: (ref: TurnRef) => Promise<unknown>;
}

/** How a turn ended: its completion object (also what an idempotent retry replays) and, if it broke, why. */
export interface TurnRecord {
  readonly completion: ChatCompletion;
  readonly status: MessageStatus;
  readonly turnsDropped: number;
  readonly quota: QuotaState | undefined;
  /** Where the answer is stored (unset when the turn never took its place). */
  readonly answer?: { readonly messageId: string; readonly sequence: number };
  /** Set when the answer did not finish (model broke, deadline, client gone) or could not be stored. */
  readonly error?: OpenAiErrorBody & { readonly status: number };
}

/** A stored answer as the pipeline's answer (its first attempt was charged and counted already). */
function storedAnswer(message: StoredMessage): Answer {
  return {
    id: completionId(),
    created: Math.floor(Date.parse(message.createdAt) / 1000),
    text: message.content,
    toolCalls: message.toolCalls ?? [],
    reasoning: message.reasoning ?? '',
    logprobs: undefined,
    status: message.status,
    finishReason: message.finishReason ?? 'stop',
    usage: message.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    outputModeration: message.moderation,
    timeToFirstTokenMs: message.timeToFirstTokenMs,
  };
}

/** The turn could not finish before the invocation's deadline. */
export class TurnDeadlineError extends ApiError {
  constructor() {
    super(
      504,
      'server_error',
      'The answer took longer than this request may run; what was generated is saved in the conversation.',
      null,
      'deadline_exceeded',
    );
  }
}

/** Generation stops this long before the invocation would time out, leaving time to store the partial answer. */
export const DEADLINE_MARGIN_MS = 5_000;
const DEFAULT_PERSIST_ATTEMPTS = 3;
/** A slot left behind by a container that died is freed this long after its turn began, at the latest. */
const SLOT_LIFETIME_MS = 15 * 60_000;

export function completionId(): string {
  return `chatcmpl-${crypto.randomUUID().replaceAll('-', '')}`;
}

/** Runs one chat turn; see the module comment for its stages. */
export async function runTurn(
  catalogDeps: ChatDeps,
  caller: ChatCaller,
  request: ChatCompletionRequest,
  options: TurnOptions = {},
): Promise<TurnRecord> {
  const startedAt = Date.now();
  // 0. The model the request names (an unknown one is a 404 before anything is counted or written).
  const deps = depsForModel(catalogDeps, request.model);
  // The user's custom instructions join every new turn's system message (and its token reservation).
  const fresh = request.regenerate !== true && options.resume === undefined;
  const customInstructions = fresh ? (await getSettings(deps.store, caller.sub)).custom_instructions : '';
  // 1. Admit: count the request, reserve the turn's tokens, take a concurrency slot.
  const admission = await admitTurn(
    options.concurrencySlot === false ? { ...deps.quota, maxConcurrentTurns: undefined } : deps.quota,
    caller.sub,
    {
      turnId: caller.requestId ?? crypto.randomUUID(),
      wantedTokens: groundedTokensWanted(
        request,
        deps.limits,
        withCustomInstructions(deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT, customInstructions),
      ),
      expiresAtMs: options.deadlineAt ?? startedAt + SLOT_LIFETIME_MS,
      // A resumed turn was counted when it was first admitted.
      countRequest: options.resume === undefined,
    },
  );
  let usedTokens = 0;
  try {
    // 2. Moderate every message the client sent and the user's custom instructions (a regenerated or resumed
    // question was moderated when first asked).
    const checked = fresh ? await moderateInput(deps, caller, request, customInstructions) : undefined;
    // 2b. Ground in the conversation's files: their best passages, quoted as untrusted input and moderated.
    const grounding = checked ? await ground(deps, caller.sub, request, checked) : undefined;
    // 3. The context window, sized to the model's context (less the passages); the question is stored meanwhile.
    const reservedTokens = admission.reservedTokens;
    const prepared = options.resume
      ? await prepareResumed(deps, caller.sub, request, options.resume, { reservedTokens })
      : checked
        ? await prepareTurn(
            { ...deps, limits: groundedLimits(request, deps.limits, grounding) },
            caller.sub,
            request,
            checked,
            { requestId: caller.requestId, reservedTokens, customInstructions: checked.instructions },
          )
        : await prepareRegeneration(deps, caller.sub, request, { reservedTokens });
    const turn = grounding
      ? groundTurn(deps, caller.sub, request, prepared, grounding, reservedTokens)
      : prepared;
    if (!options.resume && options.onPrepared) {
      const place = await turn.place;
      await options.onPrepared({
        conversationId: turn.conversationId,
        firstSequence: place.firstSequence,
        answerSequence: place.assistantSequence,
      });
    }
    // A retry of a turn its first attempt answered and stored: that answer, without asking the model again.
    if (turn.answered)
      return recordOf(deps, storedAnswer(turn.answered), turn, admission, true, await turn.place);
    // 4–5. Infer, streaming, through the windowed output filter.
    const answer = await infer(deps, caller, turn, admission, options, startedAt).catch(
      async (error: unknown) => {
        if (!(error instanceof UnansweredTurn)) throw error;
        // The model never answered: the turn is stored as unanswered (and costs no tokens), then the request fails.
        await persistAnswer(deps, caller, turn, error.answer, startedAt);
        await emitTurnEvent(deps, caller, turn, error.answer, startedAt);
        throw error.cause;
      },
    );
    usedTokens = answer.usage.total_tokens;
    // 6. Persist the answer (partial ones too), retried; a lost answer is counted and reported, never hidden.
    const persisted = await persistAnswer(deps, caller, turn, answer, startedAt);
    // 7. Metrics and the analytics event; the turn's words go into the search index, a new conversation gets a title.
    publishTurnMetrics(answer, startedAt, checked?.messages.length ?? 0);
    await Promise.all([
      emitTurnEvent(deps, caller, turn, answer, startedAt),
      persisted ? afterTurn(deps, caller.sub, turn, answer, request.regenerate === true) : undefined,
    ]);
    const place = await turn.place.catch(() => undefined);
    return recordOf(deps, answer, turn, admission, persisted, place);
  } finally {
    // Settle the quota: the day's counter keeps what the turn used, the slot is free again.
    await settleTurn(deps.quota, caller.sub, admission, usedTokens).catch((error: unknown) =>
      logger.error('settling the turn quota failed', { error: error as Error }),
    );
  }
}

/** Step 2: the rules per message and the classifier once for all; a block refuses the request before anything is stored. */
async function moderateInput(
  deps: ChatDeps,
  caller: ChatCaller,
  request: ChatCompletionRequest,
  customInstructions: string,
) {
  // The instructions go last, as the system text they become (the stages after read the client's by index).
  const messages = [
    ...clientMessages(request),
    ...(customInstructions === '' ? [] : [{ role: 'system' as const, text: customInstructions }]),
  ];
  const verdict = await deps.moderation.checkMessages(messages);
  if (verdict.action === 'block') {
    const category = verdict.categories[0] ?? 'policy';
    await emitBlockedInput(deps, caller, category);
    throw new ContentFilteredError(category);
  }
  const instructions = customInstructions === '' ? undefined : verdict.texts[messages.length - 1];
  return { messages, verdict, instructions };
}

/** What the model said, after the output filter, and how it ended. */
interface Answer {
  readonly id: string;
  readonly created: number;
  readonly text: string;
  /** Calls the model made (arguments after the output filter). */
  readonly toolCalls: readonly ToolCall[];
  readonly reasoning: string;
  /** Set when the request asked for `logprobs`. */
  readonly logprobs: readonly TokenLogprob[] | undefined;
  readonly status: MessageStatus;
  readonly finishReason: FinishReason;
  readonly usage: Usage;
  readonly outputModeration: { readonly action: string; readonly categories: readonly string[] } | undefined;
  readonly timeToFirstTokenMs: number | undefined;
  /** Why the answer stopped early: `stopped`, `client_disconnected`, `deadline_exceeded`, `stream_interrupted`… */
  readonly errorCode?: string;
  /** A resumable answer: the pieces a re-attached stream replays, and the writes they cost. */
  readonly progress?: { readonly chunks: readonly string[]; readonly progressWrites: number };
}

/** The model failed before its first token: the turn is stored as unanswered, then `cause` is thrown. */
class UnansweredTurn extends Error {
  constructor(
    override readonly cause: unknown,
    readonly answer: Answer,
  ) {
    super('unanswered');
  }
}

/** The turn's sequence numbers could not be taken (e.g. the conversation kept changing): `cause` is thrown. */
class NotPlaced extends Error {
  constructor(override readonly cause: unknown) {
    super('not placed');
  }
}

/** Usage from the model when it reported it, else estimated (so quotas still count something real). */
function usageOrEstimate(
  reported: Usage | undefined,
  turn: PreparedTurn,
  modelText: string,
  charsPerToken: number | undefined,
): Usage {
  if (reported) return reported;
  const completion = modelText === '' ? 0 : estimateTokens(modelText, charsPerToken);
  return {
    prompt_tokens: turn.estimatedPromptTokens,
    completion_tokens: completion,
    total_tokens: turn.estimatedPromptTokens + completion,
  };
}

/**
 * Steps 4–5: streams the model's answer through the output filter. Stops at a block, when the client leaves, at
 * the deadline or when the model breaks; in every case the request to the model is cancelled (its slot freed).
 */
async function infer(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: PreparedTurn,
  admission: Admission,
  options: TurnOptions,
  startedAt: number,
): Promise<Answer> {
  const abort = new AbortController();
  let deadlineHit = false;
  let stopped = false;
  let progress: AnswerProgress | undefined;
  const onClientAbort = () => abort.abort();
  if (options.signal?.aborted) abort.abort();
  options.signal?.addEventListener('abort', onClientAbort, { once: true });
  const deadline =
    options.deadlineAt === undefined
      ? undefined
      : setTimeout(
          () => {
            deadlineHit = true;
            abort.abort();
          },
          Math.max(0, options.deadlineAt - Date.now()),
        );
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const newFilter = () => deps.moderation.createOutputFilter({ prompt: turn.promptText });
  const filter = newFilter();
  // Reasoning and each tool call's arguments go through filters of their own: they are output as much as the answer.
  let reasoningFilter: OutputFilter | undefined;
  const calls = new Map<number, OpenToolCall>();
  const logprobs: TokenLogprob[] = [];
  let logprobsUnsent: TokenLogprob[] = [];
  const events = streamChat(deps.inference, turn.prompt, abort.signal);
  let text = '';
  let reasoning = '';
  let modelText = '';
  let finishReason: FinishReason = 'stop';
  let reportedUsage: Usage | undefined;
  let blocked: { categories: string[] } | undefined;
  let timeToFirstTokenMs: number | undefined;
  let errorCode: string | undefined;
  const emit = (emitted: string) => {
    if (emitted === '') return;
    text += emitted;
    progress?.push(emitted);
    options.onText?.(emitted, logprobsUnsent);
    logprobsUnsent = [];
  };
  const emitReasoning = (emitted: string) => {
    if (emitted === '') return;
    reasoning += emitted;
    options.onReasoning?.(emitted);
  };
  const emitArguments = (call: OpenToolCall, emitted: string) => {
    if (emitted === '') return;
    call.arguments += emitted;
    options.onToolCall?.({ index: call.index, function: { arguments: emitted } });
  };
  try {
    for await (const event of { [Symbol.asyncIterator]: () => events }) {
      if (timeToFirstTokenMs === undefined) {
        // The turn's place in the conversation was taken during the prefill; nothing is shown before it is.
        const place = await turn.place.catch((error: unknown) => {
          throw new NotPlaced(error);
        });
        if (options.resumable) {
          progress = new AnswerProgress(
            deps.store,
            caller.sub,
            {
              messageId: turn.answerMessageId,
              conversationId: turn.conversationId,
              sequence: place.assistantSequence,
              role: 'assistant',
              content: '',
              parentId: turn.answerParentId,
              createdAt: new Date().toISOString(),
              status: 'generating',
              model: deps.modelId,
              ...(caller.requestId ? { requestId: caller.requestId } : {}),
            },
            () => {
              stopped = true;
              abort.abort();
            },
          );
          await progress.begin();
        }
        // As the client sees it: from the request's arrival (admission, moderation, context included).
        timeToFirstTokenMs = Date.now() - startedAt;
        options.onStart?.({
          id,
          created,
          model: deps.modelId,
          conversationId: turn.conversationId,
          messageId: turn.answerMessageId,
          sequence: place.assistantSequence,
          turnsDropped: turn.turnsDropped,
          quota: admission.state,
        });
      }
      if (event.type === 'usage') reportedUsage = event.usage;
      else if (event.type === 'finish') finishReason = event.reason;
      else if (event.type === 'logprobs') {
        logprobs.push(...event.content);
        logprobsUnsent.push(...event.content);
      } else if (event.type === 'delta') {
        modelText += event.text;
        const result = await filter.push(event.text);
        emit(result.emit);
        if (result.verdict?.action === 'block') {
          blocked = { categories: result.verdict.categories };
          break;
        }
      } else if (event.type === 'reasoning') {
        modelText += event.text;
        reasoningFilter ??= newFilter();
        const result = await reasoningFilter.push(event.text);
        emitReasoning(result.emit);
        if (result.verdict?.action === 'block') {
          blocked = { categories: result.verdict.categories };
          break;
        }
      } else {
        modelText += event.arguments;
        const call = openToolCall(calls, event, newFilter, options.onToolCall);
        const result = await call.filter.push(event.arguments);
        emitArguments(call, result.emit);
        if (result.verdict?.action === 'block') {
          blocked = { categories: result.verdict.categories };
          break;
        }
      }
    }
  } catch (error) {
    // The conversation could not take the turn: nothing is stored, the request fails as the store failed.
    if (error instanceof NotPlaced) throw error.cause;
    if (timeToFirstTokenMs === undefined) {
      // Nothing was said: store the turn as unanswered, then fail the request (a clean HTTP error).
      const aborted = error instanceof InferenceAbortedError;
      throw new UnansweredTurn(deadlineHit ? new TurnDeadlineError() : error, {
        id,
        created,
        text: '',
        toolCalls: [],
        reasoning: '',
        logprobs: undefined,
        status: 'interrupted',
        finishReason: 'stop',
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        outputModeration: undefined,
        timeToFirstTokenMs: undefined,
        errorCode: deadlineHit ? 'deadline_exceeded' : aborted ? 'client_disconnected' : 'model_unavailable',
      });
    }
    if (deadlineHit) errorCode = 'deadline_exceeded';
    else if (stopped) errorCode = 'stopped';
    else if (error instanceof InferenceAbortedError || options.signal?.aborted)
      errorCode = 'client_disconnected';
    else {
      errorCode = 'stream_interrupted';
      if (!(error instanceof InferenceInterruptedError))
        logger.error('streaming failed', { error: error as Error });
    }
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onClientAbort);
    await events.return(undefined).catch(() => undefined);
  }
  const quiet = errorCode === 'client_disconnected';
  if (!blocked && reasoningFilter) {
    const flushed = await reasoningFilter.flush();
    if (flushed.verdict?.action === 'block') blocked = { categories: flushed.verdict.categories };
    else if (quiet) reasoning += flushed.emit;
    else emitReasoning(flushed.emit);
  }
  if (!blocked) {
    // The held-back tail, checked like any window (also for a partial answer, so what was said is whole).
    const flushed = await filter.flush();
    if (flushed.verdict?.action === 'block') blocked = { categories: flushed.verdict.categories };
    else if (quiet) text += flushed.emit;
    else emit(flushed.emit);
  }
  for (const call of calls.values()) {
    if (blocked) break;
    const flushed = await call.filter.flush();
    if (flushed.verdict?.action === 'block') blocked = { categories: flushed.verdict.categories };
    else if (quiet) call.arguments += flushed.emit;
    else emitArguments(call, flushed.emit);
  }
  const filters = [
    filter,
    ...(reasoningFilter ? [reasoningFilter] : []),
    ...[...calls.values()].map((call) => call.filter),
  ];
  const decision = strongestDecision(filters);
  const outputModeration = decision ?? turn.inputModeration;
  const status: MessageStatus = blocked ? 'content_filter' : errorCode ? 'interrupted' : 'complete';
  const progressed = progress ? await progress.end(text) : undefined;
  const toolCalls: ToolCall[] = blocked
    ? []
    : [...calls.values()].map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
  // A model that called tools and stopped on its own ends on `tool_calls`, whatever the engine named it.
  const modelFinish = toolCalls.length > 0 && finishReason === 'stop' ? 'tool_calls' : finishReason;
  return {
    id,
    created,
    text,
    toolCalls,
    reasoning,
    logprobs: turn.prompt.logprobs === true ? logprobs : undefined,
    status,
    finishReason: blocked ? 'content_filter' : modelFinish,
    usage: usageOrEstimate(reportedUsage, turn, modelText, deps.limits.charsPerToken),
    outputModeration,
    timeToFirstTokenMs,
    ...(errorCode ? { errorCode } : {}),
    ...(progressed ? { progress: progressed } : {}),
  };
}

/** A tool call being streamed: its arguments so far (filtered) and its own output filter. */
interface OpenToolCall {
  readonly index: number;
  readonly id: string;
  name: string;
  arguments: string;
  readonly filter: OutputFilter;
}

/** The call a fragment belongs to, opened (and announced with its id and name) on its first fragment. */
function openToolCall(
  calls: Map<number, OpenToolCall>,
  fragment: ToolCallFragment,
  newFilter: () => OutputFilter,
  onToolCall: TurnOptions['onToolCall'],
): OpenToolCall {
  const known = calls.get(fragment.index);
  if (known) {
    // Engines send the name once; a late name completes a call opened without one.
    if (known.name === '' && fragment.name) known.name = fragment.name;
    return known;
  }
  const call: OpenToolCall = {
    index: fragment.index,
    id: fragment.id ?? `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`,
    name: fragment.name ?? '',
    arguments: '',
    filter: newFilter(),
  };
  calls.set(fragment.index, call);
  onToolCall?.({
    index: call.index,
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: '' },
  });
  return call;
}

/** The strongest output decision of the answer's filters (block, then redact), categories merged; none when all allowed. */
function strongestDecision(
  filters: readonly OutputFilter[],
): { readonly action: string; readonly categories: readonly string[] } | undefined {
  const decisions = filters.flatMap((one) => {
    const decision = one.decision();
    return decision && decision.action !== 'allow' ? [decision] : [];
  });
  const strongest = decisions.find((one) => one.action === 'block') ?? decisions[0];
  if (!strongest) return undefined;
  const categories = [
    ...new Set(decisions.filter((one) => one.action === strongest.action).flatMap((one) => one.categories)),
  ];
  return { action: strongest.action, categories };
}

/** Retries a write with a short backoff; each retry is counted, the last failure is rethrown. */
async function withRetries(attempts: number, write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt >= attempts || (error instanceof Error && error.name === 'ConditionalCheckFailedException'))
        throw error;
      metrics.singleMetric().addMetric(MetricName.answerPersistRetries, MetricUnit.Count, 1);
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

/**
 * Step 6: the answer goes after its question (the question's write is awaited first), whatever its status.
 * `false` when it could not be stored after every attempt: counted in `AnswerPersistFailures`, and the client is
 * told instead of being shown a finish.
 */
async function persistAnswer(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: PreparedTurn,
  answer: Answer,
  startedAt: number,
): Promise<boolean> {
  const verdict = answer.outputModeration;
  const place = await turn.place.catch(() => undefined);
  if (place === undefined) return false;
  const message: StoredMessage = {
    messageId: turn.answerMessageId,
    conversationId: turn.conversationId,
    sequence: place.assistantSequence,
    role: 'assistant',
    content: answer.text,
    parentId: turn.answerParentId,
    ...(answer.toolCalls.length > 0 ? { toolCalls: answer.toolCalls } : {}),
    ...(answer.reasoning === '' ? {} : { reasoning: answer.reasoning }),
    createdAt: new Date().toISOString(),
    status: answer.status,
    model: deps.modelId,
    usage: answer.usage,
    ...(answer.status === 'interrupted' ? {} : { finishReason: answer.finishReason }),
    ...(verdict ? { moderation: { action: verdict.action, categories: verdict.categories } } : {}),
    latencyMs: Date.now() - startedAt,
    ...(answer.timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs: answer.timeToFirstTokenMs }),
    ...(caller.requestId ? { requestId: caller.requestId } : {}),
    ...(turn.citations?.length ? { citations: turn.citations } : {}),
    ...(answer.progress
      ? { chunks: [...answer.progress.chunks], progressWrites: answer.progress.progressWrites }
      : {}),
  };
  const attempts = deps.persistAttempts ?? DEFAULT_PERSIST_ATTEMPTS;
  try {
    await turn.questionStored;
    await withRetries(attempts, () =>
      answer.progress
        ? putAnswerOverGenerating(deps.store, caller.sub, message)
        : turn.resumed
          ? putAnswerOverUnfinished(deps.store, caller.sub, message)
          : putMessage(deps.store, caller.sub, message).catch(async (error: unknown) => {
              // A retried write that landed before its error reached us: the same answer is there already.
              if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
              throw error;
            }),
    );
    return true;
  } catch (error) {
    metrics.singleMetric().addMetric(MetricName.answerPersistFailures, MetricUnit.Count, 1);
    logger.error('the answer could not be stored', {
      error: error as Error,
      conversationId: turn.conversationId,
      sequence: place.assistantSequence,
    });
    // A resumable answer must not stay `generating`: it ends `interrupted` with the text its steps stored. (If even
    // that fails, readers treat it as interrupted once its generation is provably over: `abandoned.ts`.)
    if (answer.progress) {
      await withRetries(attempts, async () => {
        await endAsInterrupted(deps.store, caller.sub, {
          ...message,
          region: message.region ?? deps.store.region,
        });
      }).catch((cause: unknown) =>
        logger.error('the unsaved answer could not be ended', {
          error: cause as Error,
          conversationId: turn.conversationId,
          sequence: place.assistantSequence,
        }),
      );
    }
    return false;
  }
}

const ERRORS: Record<string, { status: number; message: string }> = {
  stream_interrupted: {
    status: 503,
    message: 'The model stopped before finishing the answer. Please retry.',
  },
  deadline_exceeded: {
    status: 504,
    message:
      'The answer took longer than this request may run; what was generated is saved in the conversation.',
  },
  client_disconnected: { status: 499, message: 'The client closed the connection.' },
  answer_not_saved: { status: 500, message: 'The answer could not be saved. Please retry.' },
};

function errorOf(code: string): OpenAiErrorBody & { readonly status: number } {
  const known = ERRORS[code] ?? { status: 500, message: 'The answer failed.' };
  return {
    status: known.status,
    error: { message: known.message, type: 'server_error', param: null, code },
  };
}

/** The one completion builder: the answer as a `chat.completion` (the streamed chunks carry the same id). */
function recordOf(
  deps: ChatDeps,
  answer: Answer,
  turn: PreparedTurn,
  admission: Admission,
  persisted: boolean,
  place: TurnPlace | undefined,
): TurnRecord {
  // An explicit stop is the user's choice, not a failure: the partial answer ends like a finished one.
  const code =
    (answer.errorCode === 'stopped' ? undefined : answer.errorCode) ??
    (persisted ? undefined : 'answer_not_saved');
  return {
    completion: {
      id: answer.id,
      object: 'chat.completion',
      created: answer.created,
      model: deps.modelId,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            // OpenAI's shape: a message that only calls tools has `content: null`.
            content: answer.text === '' && answer.toolCalls.length > 0 ? null : answer.text,
            refusal: null,
            ...(answer.toolCalls.length > 0 ? { tool_calls: [...answer.toolCalls] } : {}),
            ...(answer.reasoning === '' ? {} : { reasoning_content: answer.reasoning }),
          },
          finish_reason: answer.finishReason,
          logprobs: answer.logprobs === undefined ? null : { content: [...answer.logprobs], refusal: null },
        },
      ],
      usage: answer.usage,
      conversation_id: turn.conversationId,
      ...(turn.citations === undefined ? {} : { citations: [...turn.citations] }),
    },
    status: answer.status,
    turnsDropped: turn.turnsDropped,
    quota: admission.state,
    ...(place ? { answer: { messageId: turn.answerMessageId, sequence: place.assistantSequence } } : {}),
    ...(code === undefined ? {} : { error: errorOf(code) }),
  };
}

/**
 * The turn's latency and token metrics, published at once in one EMF line: a streamed answer ends after the
 * handler returned (and the middleware flushed), and concurrent local requests must not mix their values.
 */
function publishTurnMetrics(answer: Answer, startedAt: number, messagesModerated: number): void {
  const turnMetrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'chatstack',
  });
  if (answer.timeToFirstTokenMs !== undefined) {
    turnMetrics.addMetric(MetricName.timeToFirstToken, MetricUnit.Milliseconds, answer.timeToFirstTokenMs);
  }
  turnMetrics.addMetric(MetricName.responseLatency, MetricUnit.Milliseconds, Date.now() - startedAt);
  turnMetrics.addMetric(MetricName.tokensIn, MetricUnit.Count, answer.usage.prompt_tokens);
  turnMetrics.addMetric(MetricName.tokensOut, MetricUnit.Count, answer.usage.completion_tokens);
  if (messagesModerated > 0)
    turnMetrics.addMetric(MetricName.moderationInputMessages, MetricUnit.Count, messagesModerated);
  turnMetrics.publishStoredMetrics();
}

function eventStatusOf(answer: Answer): EventStatus {
  if (answer.status === 'content_filter') return 'blocked';
  if (answer.status === 'interrupted')
    return answer.errorCode === 'client_disconnected' || answer.errorCode === 'stopped'
      ? 'cancelled'
      : 'error';
  return 'ok';
}

function callerFields(caller: ChatCaller) {
  return {
    sub: caller.sub,
    ...(caller.clientId ? { clientId: caller.clientId.slice(0, 64) } : {}),
    ...(caller.apiKeyId ? { apiKeyId: caller.apiKeyId } : {}),
    ...(caller.requestId ? { requestId: caller.requestId.slice(0, 64) } : {}),
  };
}

async function emit(deps: ChatDeps, event: AnalyticsEvent): Promise<void> {
  if (!deps.emitEvents) return;
  try {
    await deps.emitEvents([event]);
  } catch (error) {
    logger.warn('analytics event not emitted', { error: error as Error, type: event.type });
  }
}

/** A blocked input is an audit event (category only, never the text); the request itself ends with a 400. */
function emitBlockedInput(deps: ChatDeps, caller: ChatCaller, category: string): Promise<void> {
  return emit(
    deps,
    buildEvent({
      type: 'moderation.blocked',
      ...callerFields(caller),
      moderation: { verdict: 'blocked', direction: 'input', category: category.slice(0, 48) },
      status: 'blocked',
      errorCode: 'content_filter',
    }),
  );
}

/** One `chat.turn` event per answered request (the usage aggregator counts these). */
function emitTurnEvent(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: PreparedTurn,
  answer: Answer,
  startedAt: number,
): Promise<void> {
  const blocked = answer.status === 'content_filter';
  const category = answer.outputModeration?.categories[0];
  return emit(
    deps,
    buildEvent({
      type: 'chat.turn',
      ...callerFields(caller),
      conversationId: turn.conversationId,
      model: deps.modelId.slice(0, 64),
      ...(deps.region ? { region: deps.region } : {}),
      ...(answer.timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs: answer.timeToFirstTokenMs }),
      totalMs: Math.min(86_400_000, Date.now() - startedAt),
      tokensIn: answer.usage.prompt_tokens,
      tokensOut: answer.usage.completion_tokens,
      moderation: blocked
        ? {
            verdict: 'blocked',
            direction: 'output',
            ...(category ? { category: category.slice(0, 48) } : {}),
          }
        : { verdict: 'allowed' },
      status: eventStatusOf(answer),
      ...(answer.errorCode ? { errorCode: answer.errorCode } : {}),
    }),
  );
}
