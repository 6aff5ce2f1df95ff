import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  buildContextWindow,
  type ContextDeps,
  type ContextMessage,
  type ConversationRecord,
  claimRegeneration,
  createConversation,
  DEFAULT_WINDOW,
  estimateTokens,
  newMessageId,
  putMessage,
  recentMessages,
  replaceMessage,
  requireConversation,
  reserveSequences,
  type StoredMessage,
  titleFrom,
  type WindowOptions,
} from '../context';
import type {
  ChatCompletionRequest,
  ChatMessageInput,
  FinishReason,
  MessageStatus,
  Usage,
} from '../contracts/api';
import { type AnalyticsEvent, buildEvent, type EventStatus } from '../contracts/events';
import { METRICS_NAMESPACE, MetricName } from '../contracts/metrics';
import type { InferenceDeps, InferenceRequest } from '../inference';
import type { Moderation, Verdict } from '../moderation/types';
import { consumeRequest, type QuotaDeps, type QuotaState, recordTokens } from '../quota';
import { ConflictError, ContentFilteredError, ValidationError } from '../shared/errors';
import { logger } from '../shared/powertools';

/** Everything a chat turn needs, passed in (SDK clients created once by the handler or worker). */
export interface ChatDeps {
  readonly context: ContextDeps;
  readonly inference: InferenceDeps;
  readonly moderation: Moderation;
  /** Per-user quotas; omit when the caller already enforced them (e.g. a job accepted earlier). */
  readonly quota?: QuotaDeps;
  readonly modelId: string;
  readonly window?: WindowOptions;
  /** System prompt used when neither the request nor the conversation has one. */
  readonly systemPrompt?: string;
  /** Analytics sink (`lambdas/events` emitter); called after the response, never on the hot path. */
  readonly emitEvents?: (events: readonly AnalyticsEvent[]) => Promise<unknown>;
  readonly region?: string;
}

/** Who is asking, as the handler or job worker knows it. */
export interface ChatCaller {
  readonly sub: string;
  readonly clientId?: string | undefined;
  readonly requestId?: string | undefined;
  /** The personal API key the request came with: its usage is also counted per key. */
  readonly apiKeyId?: string | undefined;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful, honest assistant. Answer clearly and concisely; say so when you do not know.';

/** How many stored messages are read to build the context (comfortably more than 10 turns). */
const HISTORY_MESSAGES = 48;

/** Text of a message, whatever form its content has. */
export function textOf(message: ChatMessageInput): string {
  return typeof message.content === 'string'
    ? message.content
    : message.content.map((part) => part.text).join('\n');
}

/** A prepared turn: the stored user messages, the prompt for the model, and where the answer goes. */
export interface PreparedTurn {
  readonly conversation: ConversationRecord;
  readonly created: boolean;
  readonly assistantSequence: number;
  readonly prompt: InferenceRequest;
  readonly promptText: string;
  readonly turnsDropped: number;
  readonly estimatedPromptTokens: number;
  readonly quota: QuotaState | undefined;
  readonly inputVerdict: Verdict | undefined;
  readonly startedAt: number;
  /** Settles when the request's own messages are stored. */
  readonly userMessagesStored: Promise<void>;
  /** Set when regenerating: the id of the stored answer the new one replaces (at `assistantSequence`). */
  readonly replacesMessageId?: string;
}

/** The stored conversation and the history the context window is built from. */
async function loadConversation(deps: ChatDeps, sub: string, conversationId: string) {
  const [conversation, stored] = await Promise.all([
    requireConversation(deps.context, sub, conversationId),
    recentMessages(deps.context, sub, conversationId, HISTORY_MESSAGES),
  ]);
  const history = contextOf(stored);
  const loadedTurns = history.filter((message) => message.role === 'user').length;
  return {
    conversation,
    stored,
    history,
    earlierTurnsNotLoaded: Math.max(0, conversation.turnCount - loadedTurns),
  };
}

/** Stored messages as context for the model (empty answers of failed turns left out). */
function contextOf(stored: readonly StoredMessage[]): ContextMessage[] {
  return stored
    .filter((message) => message.content !== '' && (message.role === 'user' || message.role === 'assistant'))
    .map((message) => ({ role: message.role === 'user' ? 'user' : 'assistant', content: message.content }));
}

function roleOf(message: ChatMessageInput): 'system' | 'user' | 'assistant' {
  return message.role === 'developer' ? 'system' : message.role;
}

function worstVerdict(verdicts: readonly Verdict[]): Verdict | undefined {
  return (
    verdicts.find((verdict) => verdict.action === 'block') ??
    verdicts.find((verdict) => verdict.action === 'redact')
  );
}

/**
 * Quota → input moderation → context → stored user messages. Nothing is written before the quota and
 * moderation checks pass, so a rejected request leaves no trace but the request counter.
 */
export async function prepareTurn(
  deps: ChatDeps,
  caller: ChatCaller,
  request: ChatCompletionRequest,
): Promise<PreparedTurn> {
  const startedAt = Date.now();
  if (request.regenerate === true) return prepareRegeneration(deps, caller, request, startedAt);
  const systemTexts = request.messages.filter((message) => roleOf(message) === 'system').map(textOf);
  const conversational = request.messages
    .filter((message) => roleOf(message) !== 'system')
    .map((message) => ({ role: roleOf(message), content: textOf(message) }));

  // Reads and checks run together; nothing is written until quota and moderation have passed.
  const [quota, verdicts, existing] = await Promise.all([
    deps.quota ? consumeRequest(deps.quota, caller.sub) : undefined,
    Promise.all(
      conversational.map((message) =>
        message.role === 'user' ? deps.moderation.checkInput(message.content) : Promise.resolve(undefined),
      ),
    ),
    request.conversation_id ? loadConversation(deps, caller.sub, request.conversation_id) : undefined,
  ]);
  const blocked = verdicts.find((verdict) => verdict?.action === 'block');
  if (blocked) {
    const category = blocked.categories[0] ?? 'policy';
    await emitBlockedInput(deps, caller, category);
    throw new ContentFilteredError(category);
  }
  const newMessages: ContextMessage[] = conversational.map((message, index) => ({
    role: message.role,
    content: verdicts[index]?.text ?? message.content,
  }));
  const inputVerdict = worstVerdict(verdicts.filter((verdict) => verdict !== undefined));

  const requestSystemPrompt = systemTexts.length > 0 ? systemTexts.join('\n\n') : undefined;
  const userTurns = newMessages.filter((message) => message.role === 'user').length;
  // One reservation for the new messages and the answer, so the answer sits right after its question.
  const reserveCount = newMessages.length + 1;
  let conversation: ConversationRecord;
  let firstSequence: number;
  if (existing) {
    const reserved = await reserveSequences(
      deps.context,
      caller.sub,
      existing.conversation,
      reserveCount,
      userTurns,
    );
    conversation = reserved.conversation;
    firstSequence = reserved.firstSequence;
  } else {
    const firstUser = newMessages.find((message) => message.role === 'user');
    conversation = await createConversation(deps.context, caller.sub, {
      title: titleFrom(firstUser?.content ?? ''),
      ...(requestSystemPrompt === undefined ? {} : { systemPrompt: requestSystemPrompt }),
      reserve: { count: reserveCount, userTurns },
    });
    firstSequence = 0;
  }
  const systemPrompt =
    requestSystemPrompt ?? conversation.systemPrompt ?? deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const window = buildContextWindow(
    systemPrompt,
    existing?.history ?? [],
    newMessages,
    deps.window ?? DEFAULT_WINDOW,
    existing?.earlierTurnsNotLoaded ?? 0,
  );

  // The new messages are written while the model starts on the answer (their sequence numbers are ours
  // already); the answer is persisted only after they landed.
  const now = new Date().toISOString();
  const stored = Promise.all(
    newMessages.map((message, index) =>
      putMessage(deps.context, caller.sub, {
        messageId: newMessageId(),
        conversationId: conversation.conversationId,
        sequence: firstSequence + index,
        role: message.role,
        content: message.content,
        createdAt: now,
        status: 'complete',
        ...(message.role === 'user' && inputVerdict
          ? { moderation: { action: inputVerdict.action, categories: inputVerdict.categories } }
          : {}),
        ...(caller.requestId ? { requestId: caller.requestId } : {}),
      }),
    ),
  ).then(() => undefined);
  // Observed here so a failure is never unhandled; `persistTurn` awaits and reports it.
  stored.catch(() => undefined);

  const prompt = inferenceRequestOf(request, window.messages);
  const promptText = newMessages
    .filter((message) => message.role === 'user')
    .map((message) => message.content)
    .join('\n');
  return {
    conversation,
    created: existing === undefined,
    assistantSequence: firstSequence + newMessages.length,
    userMessagesStored: stored,
    prompt,
    promptText,
    turnsDropped: window.turnsDropped,
    estimatedPromptTokens: window.estimatedPromptTokens,
    quota,
    inputVerdict,
    startedAt,
  };
}

/** The model call: the context window plus the request's sampling options. */
function inferenceRequestOf(
  request: ChatCompletionRequest,
  messages: InferenceRequest['messages'],
): InferenceRequest {
  const stop = request.stop ?? undefined;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  return {
    messages,
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    ...(request.temperature == null ? {} : { temperature: request.temperature }),
    ...(request.top_p == null ? {} : { top_p: request.top_p }),
    ...(stop === undefined ? {} : { stop }),
    ...(request.seed == null ? {} : { seed: request.seed }),
    ...(request.presence_penalty == null ? {} : { presence_penalty: request.presence_penalty }),
    ...(request.frequency_penalty == null ? {} : { frequency_penalty: request.frequency_penalty }),
  };
}

/**
 * A regenerated turn: the conversation's last user message is answered again, and the answer replaces the last
 * stored answer in place. Its input was moderated when first asked; quota and output moderation apply as usual.
 */
async function prepareRegeneration(
  deps: ChatDeps,
  caller: ChatCaller,
  request: ChatCompletionRequest,
  startedAt: number,
): Promise<PreparedTurn> {
  if (!request.conversation_id) throw new ValidationError('Required when regenerating.', 'conversation_id');
  const [quota, existing] = await Promise.all([
    deps.quota ? consumeRequest(deps.quota, caller.sub) : undefined,
    loadConversation(deps, caller.sub, request.conversation_id),
  ]);
  const answer = existing.stored.at(-1);
  const questionIndex = existing.stored.findLastIndex((message) => message.role === 'user');
  const question = existing.stored[questionIndex];
  if (answer?.role !== 'assistant' || question === undefined) {
    throw new ValidationError(
      "The conversation's last message is not an answer that can be regenerated.",
      'regenerate',
      'nothing_to_regenerate',
    );
  }
  // A sequence handed out but not yet written is a turn still in progress: its answer is not ours to replace.
  if (answer.sequence !== existing.conversation.messageCount - 1) {
    throw new ConflictError(
      'The conversation has a turn in progress; retry when it is answered.',
      'conversation_busy',
    );
  }
  const conversation = await claimRegeneration(deps.context, caller.sub, existing.conversation);
  const history = contextOf(existing.stored.slice(0, questionIndex));
  const loadedTurns = history.filter((message) => message.role === 'user').length + 1;
  const systemPrompt = conversation.systemPrompt ?? deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const window = buildContextWindow(
    systemPrompt,
    history,
    [{ role: 'user', content: question.content }],
    deps.window ?? DEFAULT_WINDOW,
    Math.max(0, conversation.turnCount - loadedTurns),
  );
  // A question stored redacted keeps that decision on the answer, as on the first turn.
  const inputVerdict: Verdict | undefined =
    question.moderation?.action === 'redact'
      ? { action: 'redact', categories: [...question.moderation.categories], text: question.content }
      : undefined;
  return {
    conversation,
    created: false,
    assistantSequence: answer.sequence,
    replacesMessageId: answer.messageId,
    userMessagesStored: Promise.resolve(),
    prompt: inferenceRequestOf(request, window.messages),
    promptText: question.content,
    turnsDropped: window.turnsDropped,
    estimatedPromptTokens: window.estimatedPromptTokens,
    quota,
    inputVerdict,
    startedAt,
  };
}

/** How a turn ended, as the handler or worker observed it. */
export interface TurnOutcome {
  readonly text: string;
  readonly status: MessageStatus;
  readonly finishReason: FinishReason | undefined;
  readonly usage: Usage;
  readonly outputVerdict: Verdict | undefined;
  readonly timeToFirstTokenMs: number | undefined;
  readonly errorCode?: string;
}

/** Usage from the model when it reported it, else estimated (so quotas still count something real). */
export function usageOrEstimate(reported: Usage | undefined, turn: PreparedTurn, text: string): Usage {
  if (reported) return reported;
  const completion = text === '' ? 0 : estimateTokens(text);
  return {
    prompt_tokens: turn.estimatedPromptTokens,
    completion_tokens: completion,
    total_tokens: turn.estimatedPromptTokens + completion,
  };
}

/** Stores the turn of a model call that failed before its first token: no text, status `interrupted`. */
export function persistUnansweredTurn(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: PreparedTurn,
  errorCode: string,
): Promise<StoredMessage> {
  return persistTurn(deps, caller, turn, {
    text: '',
    status: 'interrupted',
    finishReason: undefined,
    usage: usageOrEstimate(undefined, turn, ''),
    outputVerdict: undefined,
    timeToFirstTokenMs: undefined,
    errorCode,
  });
}

/**
 * Stores the answer (also partial ones: `interrupted`, `content_filter`), counts its tokens against the
 * quota and emits the turn's analytics event. Failures here are logged, never thrown at a finished answer.
 */
export async function persistTurn(
  deps: ChatDeps,
  caller: ChatCaller,
  turn: PreparedTurn,
  outcome: TurnOutcome,
): Promise<StoredMessage> {
  const verdict = outcome.outputVerdict ?? turn.inputVerdict;
  const message: StoredMessage = {
    messageId: newMessageId(),
    conversationId: turn.conversation.conversationId,
    sequence: turn.assistantSequence,
    role: 'assistant',
    content: outcome.text,
    createdAt: new Date().toISOString(),
    status: outcome.status,
    model: deps.modelId,
    usage: outcome.usage,
    ...(outcome.finishReason ? { finishReason: outcome.finishReason } : {}),
    ...(verdict ? { moderation: { action: verdict.action, categories: verdict.categories } } : {}),
    latencyMs: Date.now() - turn.startedAt,
    ...(outcome.timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs: outcome.timeToFirstTokenMs }),
    ...(caller.requestId ? { requestId: caller.requestId } : {}),
  };
  // The answer goes after its question: wait for the request's messages (a failure there is logged, not fatal).
  const questionFailure = await turn.userMessagesStored.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (questionFailure)
    logger.error('storing the request messages failed', { error: questionFailure as Error });
  const results = await Promise.allSettled([
    turn.replacesMessageId === undefined
      ? putMessage(deps.context, caller.sub, message)
      : replaceMessage(deps.context, caller.sub, message, turn.replacesMessageId),
    deps.quota ? recordTokens(deps.quota, caller.sub, outcome.usage.total_tokens) : Promise.resolve(),
  ]);
  for (const result of results) {
    if (result.status === 'rejected')
      logger.error('persisting the turn failed', { error: result.reason as Error });
  }
  publishTurnMetrics(turn, outcome);
  await emitTurnEvent(deps, caller, turn, outcome);
  return message;
}

/**
 * The turn's latency and token metrics, published at once in one EMF line: a streamed answer ends after the
 * handler returned (and the middleware flushed), and concurrent local requests must not mix their values.
 */
function publishTurnMetrics(turn: PreparedTurn, outcome: TurnOutcome): void {
  const turnMetrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'chatstack',
  });
  if (outcome.timeToFirstTokenMs !== undefined) {
    turnMetrics.addMetric(MetricName.timeToFirstToken, MetricUnit.Milliseconds, outcome.timeToFirstTokenMs);
  }
  turnMetrics.addMetric(MetricName.responseLatency, MetricUnit.Milliseconds, Date.now() - turn.startedAt);
  turnMetrics.addMetric(MetricName.tokensIn, MetricUnit.Count, outcome.usage.prompt_tokens);
  turnMetrics.addMetric(MetricName.tokensOut, MetricUnit.Count, outcome.usage.completion_tokens);
  turnMetrics.publishStoredMetrics();
}

function eventStatusOf(outcome: TurnOutcome): EventStatus {
  if (outcome.status === 'content_filter') return 'blocked';
  if (outcome.status === 'interrupted')
    return outcome.errorCode === 'client_disconnected' ? 'cancelled' : 'error';
  return 'ok';
}

/** A blocked input is an audit event (category only, never the text); the request itself ends with a 400. */
async function emitBlockedInput(deps: ChatDeps, caller: ChatCaller, category: string): Promise<void> {
  if (!deps.emitEvents) return;
  const event = buildEvent({
    type: 'moderation.blocked',
    sub: caller.sub,
    ...(caller.clientId ? { clientId: caller.clientId.slice(0, 64) } : {}),
    ...(caller.requestId ? { requestId: caller.requestId.slice(0, 64) } : {}),
    moderation: { verdict: 'blocked', direction: 'input', category: category.slice(0, 48) },
    status: 'blocked',
    errorCode: 'content_filter',
  });
  try {
    await deps.emitEvents([event]);
  } catch (error) {
    logger.warn('moderation event not emitted', { error: error as Error });
  }
}

/** One `chat.turn` event per answered request, through the events emitter (which never throws). */
async function emitTurnEvent(deps: ChatDeps, caller: ChatCaller, turn: PreparedTurn, outcome: TurnOutcome) {
  if (!deps.emitEvents) return;
  const blocked = outcome.outputVerdict?.action === 'block';
  const category = outcome.outputVerdict?.categories[0];
  const event = buildEvent({
    type: 'chat.turn',
    sub: caller.sub,
    ...(caller.clientId ? { clientId: caller.clientId.slice(0, 64) } : {}),
    ...(caller.apiKeyId ? { apiKeyId: caller.apiKeyId } : {}),
    ...(caller.requestId ? { requestId: caller.requestId.slice(0, 64) } : {}),
    conversationId: turn.conversation.conversationId,
    model: deps.modelId.slice(0, 64),
    ...(deps.region ? { region: deps.region } : {}),
    ...(outcome.timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs: outcome.timeToFirstTokenMs }),
    totalMs: Math.min(86_400_000, Date.now() - turn.startedAt),
    tokensIn: outcome.usage.prompt_tokens,
    tokensOut: outcome.usage.completion_tokens,
    moderation: blocked
      ? { verdict: 'blocked', direction: 'output', ...(category ? { category: category.slice(0, 48) } : {}) }
      : { verdict: 'allowed' },
    status: eventStatusOf(outcome),
    ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
  });
  try {
    await deps.emitEvents([event]);
  } catch (error) {
    logger.warn('turn event not emitted', { error: error as Error });
  }
}
