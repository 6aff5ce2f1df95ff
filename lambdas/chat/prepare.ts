import { buildContextWindow, type ContextMessage, DEFAULT_WINDOW, estimateTokens } from '../context';
import type { ChatCompletionRequest, ChatMessageInput, ToolCall } from '../contracts/api';
import type { Citation } from '../contracts/files';
import { activeLeaf, pathTo, withParents } from '../conversations/branches';
import { branchPathTo } from '../conversations/message-index';
import {
  type ConversationStore,
  createConversation,
  newConversationId,
  newMessageId,
  putMessage,
  recentMessages,
  requireConversation,
  reserveSequences,
  type StoredMessage,
  titleFrom,
} from '../conversations/store';
import type { EngineMessage, InferenceRequest } from '../inference';
import type { InputMessage, MessagesVerdict } from '../moderation/types';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';

/**
 * The stages of a turn before the model runs, as plain functions: what the client may send, the context window
 * (sized to the model's context) and the stored question. `pipeline.ts` calls each once, in order.
 */

/** How big the model's context is and how much of it an answer may take. */
export interface TurnLimits {
  /** Tokens of one engine slot's context: prompt and answer together. */
  readonly modelContextTokens: number;
  /** Ceiling of any answer (`MAX_COMPLETION_TOKENS`). */
  readonly maxCompletionTokens: number;
  /** Earlier turns kept at most. */
  readonly maxTurns: number;
  /** A prompt budget lower than the model context allows, when the deployment sets one. */
  readonly promptTokenBudget?: number | undefined;
  /** ASCII characters per token of the model's tokenizer (`MODEL_CHARS_PER_TOKEN`), for the estimates. */
  readonly charsPerToken?: number | undefined;
}

export const DEFAULT_LIMITS: TurnLimits = {
  modelContextTokens: 4096,
  maxCompletionTokens: 4096,
  maxTurns: DEFAULT_WINDOW.maxTurns,
};

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful, honest assistant. Answer clearly and concisely; say so when you do not know.';

/** How many stored messages are read to build the context (comfortably more than 10 turns). */
const HISTORY_MESSAGES = 48;
/**
 * How many are read when the turn continues a branch: the path to its parent is among them unless the
 * conversation has many more messages (its branches included) than a context window holds.
 */
const BRANCH_MESSAGES = 400;

/** Text of a message, whatever form its content has (an assistant's refusal parts are its text too). */
export function textOf(message: ChatMessageInput): string {
  const content = message.content;
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : part.refusal)).join('\n');
}

/** The tool calls of an assistant message in the request (none for other roles). */
function toolCallsOf(message: ChatMessageInput): readonly ToolCall[] {
  return message.role === 'assistant' ? (message.tool_calls ?? []) : [];
}

/** The answer's ceiling before the prompt is known: what the client asked for, never above the configured one. */
export function askedCompletionTokens(request: ChatCompletionRequest, limits: TurnLimits): number {
  const asked = request.max_completion_tokens ?? request.max_tokens ?? limits.maxCompletionTokens;
  return Math.min(asked, limits.maxCompletionTokens, limits.modelContextTokens - 1);
}

/** The prompt's budget: the model context minus room for the answer (at least half the context stays for the prompt). */
export function promptBudget(request: ChatCompletionRequest, limits: TurnLimits): number {
  const answerRoom = Math.min(
    askedCompletionTokens(request, limits),
    Math.floor(limits.modelContextTokens / 2),
  );
  return Math.min(
    limits.promptTokenBudget ?? Number.POSITIVE_INFINITY,
    limits.modelContextTokens - answerRoom,
  );
}

/**
 * The most tokens a turn can use, reserved on the quota before it runs: its prompt (the whole prompt budget when
 * it continues a conversation, else its messages and the system prompt) and its answer, within the context.
 */
export function tokensWanted(
  request: ChatCompletionRequest,
  limits: TurnLimits,
  systemPrompt: string = DEFAULT_SYSTEM_PROMPT,
): number {
  const budget = promptBudget(request, limits);
  const estimate = (text: string) => estimateTokens(text, limits.charsPerToken);
  const ownText = request.messages.reduce(
    (sum, message) =>
      sum +
      estimate(textOf(message)) +
      toolCallsOf(message).reduce((calls, call) => calls + estimate(call.function.arguments), 0),
    0,
  );
  const prompt = request.conversation_id ? budget : Math.min(budget, ownText + estimate(systemPrompt));
  return Math.min(limits.modelContextTokens, prompt + askedCompletionTokens(request, limits));
}

/**
 * The client's messages as the moderation stage sees them: one entry per message, in order, then one per tool call
 * of an assistant message (its arguments), in order. On a `conversation_id` turn the conversation's past comes from
 * storage: only `user` messages and `tool` results are accepted, so a client cannot put words in the model's mouth.
 */
export function clientMessages(request: ChatCompletionRequest): InputMessage[] {
  if (request.conversation_id) {
    const index = request.messages.findIndex((message) => message.role !== 'user' && message.role !== 'tool');
    if (index >= 0) {
      throw new ValidationError(
        `Only 'user' and 'tool' messages can be sent with conversation_id; the conversation's earlier turns come from its history (got '${request.messages[index]?.role}').`,
        `messages[${index}].role`,
      );
    }
  }
  const calls = request.messages.flatMap((message) =>
    toolCallsOf(message).map((call) => ({ role: 'assistant' as const, text: call.function.arguments })),
  );
  return [...request.messages.map((message) => ({ role: message.role, text: textOf(message) })), ...calls];
}

/** Where a turn's messages go: its question at `[firstSequence, assistantSequence)`, its answer at `assistantSequence`. */
export interface TurnPlace {
  readonly firstSequence: number;
  readonly assistantSequence: number;
}

/** What the model is asked and where its answer goes. */
export interface PreparedTurn {
  readonly conversationId: string;
  /**
   * Settles once the conversation holds the turn's sequence numbers. A new turn takes them while the model
   * prefills; the first token is only shown once it settled, so a failure here is still a clean error.
   */
  readonly place: Promise<TurnPlace>;
  readonly prompt: InferenceRequest;
  /** The user's text the answer responds to (the output classifier judges the exchange). */
  readonly promptText: string;
  readonly turnsDropped: number;
  readonly estimatedPromptTokens: number;
  /** The strongest input decision (redact), stored with the question and the answer. */
  readonly inputModeration: { readonly action: string; readonly categories: readonly string[] } | undefined;
  /** Settles when the request's own messages are stored (they are written while the model starts). */
  readonly questionStored: Promise<void>;
  /** The answer's id, chosen before the model runs (the active branch's leaf from the reservation on). */
  readonly answerMessageId: string;
  /** The message the answer follows: the turn's last question. */
  readonly answerParentId: string | null;
  /** Set when resuming: an unfinished answer an earlier attempt stored may be overwritten. */
  readonly resumed?: boolean;
  /** Set when resuming a turn an earlier attempt finished and stored: that answer is the turn's answer. */
  readonly answered?: StoredMessage;
  /** Set by the grounding stage: the passages of attached files the answer is given, cited on it. */
  readonly citations?: readonly Citation[];
}

/** Where a turn's question is stored, so a retry (a job's next attempt) answers it instead of asking again. */
export interface TurnRef {
  readonly conversationId: string;
  readonly firstSequence: number;
  readonly answerSequence: number;
}

/** Stored messages as context for the model (empty answers of failed turns left out; tool calls and results kept). */
function historyOf(stored: readonly StoredMessage[]): ContextMessage[] {
  return stored.flatMap((message): ContextMessage[] => {
    if (message.role === 'tool')
      return [{ role: 'tool', content: message.content, toolCallId: message.toolCallId ?? '' }];
    if (message.role === 'assistant' && message.toolCalls && message.toolCalls.length > 0)
      return [{ role: 'assistant', content: message.content, toolCalls: message.toolCalls }];
    if (message.content === '' || (message.role !== 'user' && message.role !== 'assistant')) return [];
    return [{ role: message.role, content: message.content }];
  });
}

function roleOf(role: InputMessage['role']): ContextMessage['role'] {
  return role === 'developer' ? 'system' : role;
}

/** The context window in the engine's message shape. */
function engineMessagesOf(messages: readonly ContextMessage[]): EngineMessage[] {
  return messages.map((message) => {
    if (message.role === 'tool')
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId ?? '' };
    if (message.toolCalls && message.toolCalls.length > 0)
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: message.toolCalls,
      };
    return { role: message.role, content: message.content };
  });
}

function windowOptions(request: ChatCompletionRequest, limits: TurnLimits) {
  return {
    maxTurns: limits.maxTurns,
    tokenBudget: promptBudget(request, limits),
    ...(limits.charsPerToken === undefined ? {} : { charsPerToken: limits.charsPerToken }),
  };
}

/** An estimate is an estimate: this share of the context (and a few tokens) stays free of prompt and answer. */
const CONTEXT_MARGIN = 0.05;

/** `max_tokens` for the model: what was asked, what the context has left after the prompt, what the quota reserved. */
export function completionCap(
  request: ChatCompletionRequest,
  limits: TurnLimits,
  promptTokens: number,
  reservedTokens: number | undefined,
): number {
  const contextLeft =
    limits.modelContextTokens - promptTokens - Math.ceil(limits.modelContextTokens * CONTEXT_MARGIN) - 8;
  if (contextLeft < 1) {
    throw new ValidationError(
      `The messages take about ${promptTokens} tokens; the model's context holds ${limits.modelContextTokens}.`,
      'messages',
      'context_length_exceeded',
    );
  }
  const quotaLeft = reservedTokens === undefined ? Number.POSITIVE_INFINITY : reservedTokens - promptTokens;
  return Math.max(1, Math.min(askedCompletionTokens(request, limits), contextLeft, quotaLeft));
}

/** The model call: the context window, the request's sampling, format and tool options and the bounded `max_tokens`. */
function inferenceRequestOf(
  request: ChatCompletionRequest,
  messages: readonly ContextMessage[],
  maxTokens: number,
): InferenceRequest {
  const stop = request.stop ?? undefined;
  const tools = request.tools ?? [];
  // `tool_choice: none` with tools: the model answers in text; the tools are not even shown.
  const offerTools = tools.length > 0 && request.tool_choice !== 'none';
  const format = request.response_format;
  return {
    messages: engineMessagesOf(messages),
    max_tokens: maxTokens,
    ...(request.temperature == null ? {} : { temperature: request.temperature }),
    ...(request.top_p == null ? {} : { top_p: request.top_p }),
    ...(stop === undefined ? {} : { stop }),
    ...(request.seed == null ? {} : { seed: request.seed }),
    ...(request.presence_penalty == null ? {} : { presence_penalty: request.presence_penalty }),
    ...(request.frequency_penalty == null ? {} : { frequency_penalty: request.frequency_penalty }),
    ...(request.logit_bias == null ? {} : { logit_bias: request.logit_bias }),
    ...(request.logprobs === true ? { logprobs: true } : {}),
    ...(request.logprobs === true && request.top_logprobs != null
      ? { top_logprobs: request.top_logprobs }
      : {}),
    ...(format == null || format.type === 'text' ? {} : { response_format: format }),
    ...(offerTools
      ? {
          tools,
          ...(request.tool_choice == null ? {} : { tool_choice: request.tool_choice }),
          ...(request.parallel_tool_calls == null
            ? {}
            : { parallel_tool_calls: request.parallel_tool_calls }),
        }
      : {}),
    ...(request.reasoning_effort == null
      ? {}
      : {
          reasoning_effort: request.reasoning_effort,
          chat_template_kwargs: { reasoning_effort: request.reasoning_effort },
        }),
  };
}

export interface PrepareDeps {
  readonly store: ConversationStore;
  readonly limits: TurnLimits;
  readonly systemPrompt?: string | undefined;
}

/**
 * A new turn: the context window from the stored history and the (moderated) new messages, then the sequence
 * numbers for the question and its answer, and the question's write (started, awaited by the persist stage).
 */
export async function prepareTurn(
  deps: PrepareDeps,
  sub: string,
  request: ChatCompletionRequest,
  checked: { readonly messages: readonly InputMessage[]; readonly verdict: MessagesVerdict },
  meta: { readonly requestId?: string | undefined; readonly reservedTokens?: number | undefined },
): Promise<PreparedTurn> {
  const systemTexts: string[] = [];
  const newMessages: ContextMessage[] = [];
  // Tool calls' arguments were checked after the messages, in order (see `clientMessages`).
  let argumentsIndex = request.messages.length;
  const checkedArguments = () => checked.verdict.texts[argumentsIndex++] ?? '';
  request.messages.forEach((message, index) => {
    const text = checked.verdict.texts[index] ?? '';
    const role = roleOf(message.role);
    if (role === 'system') systemTexts.push(text);
    else if (message.role === 'tool')
      newMessages.push({ role, content: text, toolCallId: message.tool_call_id });
    else if (message.role === 'assistant' && message.tool_calls) {
      const toolCalls = message.tool_calls.map((call) => ({
        ...call,
        function: { ...call.function, arguments: checkedArguments() },
      }));
      newMessages.push({ role, content: text, toolCalls });
    } else newMessages.push({ role, content: text });
  });
  const existing = request.conversation_id
    ? await loadConversation(deps.store, sub, request.conversation_id, request.parent_message_id)
    : undefined;
  const requestSystemPrompt = systemTexts.length > 0 ? systemTexts.join('\n\n') : undefined;
  const systemPrompt =
    requestSystemPrompt ?? existing?.conversation.systemPrompt ?? deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const window = buildContextWindow(
    systemPrompt,
    existing?.history ?? [],
    newMessages,
    windowOptions(request, deps.limits),
    existing?.earlierTurnsNotLoaded ?? 0,
  );
  const maxTokens = completionCap(request, deps.limits, window.estimatedPromptTokens, meta.reservedTokens);

  const userTurns = newMessages.filter((message) => message.role === 'user').length;
  // One reservation for the new messages and the answer, so the answer sits right after its question.
  const reserve = { count: newMessages.length + 1, userTurns };
  const conversationId = existing?.conversation.conversationId ?? newConversationId();
  const firstUser = newMessages.find((message) => message.role === 'user');
  // Ids chosen now: each new message follows the one before it, the first follows the branch's parent.
  const messageIds = newMessages.map(() => newMessageId());
  const answerMessageId = newMessageId();
  const parentOf = (index: number): string | null =>
    index === 0 ? (existing?.parentId ?? null) : (messageIds[index - 1] ?? null);
  const firstSequence: Promise<number> = existing
    ? reserveSequences(
        deps.store,
        sub,
        existing.conversation,
        reserve.count,
        reserve.userTurns,
        answerMessageId,
      ).then((reserved) => reserved.firstSequence)
    : createConversation(deps.store, sub, {
        conversationId,
        title: titleFrom(firstUser?.content ?? ''),
        ...(requestSystemPrompt === undefined ? {} : { systemPrompt: requestSystemPrompt }),
        reserve,
        currentMessageId: answerMessageId,
      }).then(() => 0);
  const place = firstSequence.then((first) => ({
    firstSequence: first,
    assistantSequence: first + newMessages.length,
  }));
  const inputModeration =
    checked.verdict.action === 'redact'
      ? { action: checked.verdict.action, categories: checked.verdict.categories }
      : undefined;
  const now = new Date().toISOString();
  const questionStored = place.then(({ firstSequence: first }) =>
    Promise.all(
      newMessages.map((message, index) =>
        putMessage(deps.store, sub, {
          messageId: messageIds[index] ?? newMessageId(),
          conversationId,
          sequence: first + index,
          role: message.role,
          content: message.content,
          parentId: parentOf(index),
          ...(message.toolCalls ? { toolCalls: message.toolCalls } : {}),
          ...(message.toolCallId ? { toolCallId: message.toolCallId } : {}),
          createdAt: now,
          status: 'complete',
          ...(message.role === 'user' && inputModeration ? { moderation: inputModeration } : {}),
          ...(meta.requestId ? { requestId: meta.requestId } : {}),
        }),
      ),
    ).then(() => undefined),
  );
  // Observed here so a failure is never unhandled; the pipeline awaits both and reports them.
  place.catch(() => undefined);
  questionStored.catch(() => undefined);
  return {
    conversationId,
    place,
    questionStored,
    answerMessageId,
    answerParentId: parentOf(newMessages.length),
    prompt: inferenceRequestOf(request, window.messages, maxTokens),
    promptText: newMessages
      .filter((message) => message.role === 'user')
      .map((message) => message.content)
      .join('\n'),
    turnsDropped: window.turnsDropped,
    estimatedPromptTokens: window.estimatedPromptTokens,
    inputModeration,
  };
}

/**
 * The stored conversation and the branch the turn continues: the path from the root to `parent` (`undefined`:
 * the active leaf; `null`: the root, nothing before it). The newest messages are read in one query; a branch that
 * starts outside them (a message older than `BRANCH_MESSAGES`) is found on the messages' links instead.
 */
async function loadConversation(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  parent: string | null | undefined,
) {
  const [conversation, stored] = await Promise.all([
    requireConversation(store, sub, conversationId),
    recentMessages(store, sub, conversationId, BRANCH_MESSAGES).then(withParents),
  ]);
  const leafId = parent === undefined ? conversation.currentMessageId : (parent ?? undefined);
  let branch = pathTo(stored, leafId);
  const inRecent = branch.path.length > 0;
  if (leafId !== undefined && (!inRecent || (!branch.complete && branch.path.length < HISTORY_MESSAGES))) {
    const found = await branchPathTo(store, sub, conversationId, leafId, HISTORY_MESSAGES);
    if (found.found) branch = found;
    else if (typeof parent === 'string') throw new NotFoundError('Message', 'parent_message_id');
  }
  if (branch.path.length === 0 && parent === undefined) {
    // No current message (or a missing one): the newest message is the active leaf.
    branch = pathTo(stored, activeLeaf(stored, undefined)?.messageId);
  }
  const history = historyOf(branch.path);
  const loadedTurns = history.filter((message) => message.role === 'user').length;
  return {
    conversation,
    branch: branch.path,
    parentId: branch.path.at(-1)?.messageId ?? null,
    history,
    earlierTurnsNotLoaded: branch.complete ? 0 : Math.max(0, conversation.turnCount - loadedTurns),
  };
}

/**
 * A regenerated turn: a question answered again (the active branch's last one, or `parent_message_id`), the new
 * answer a sibling of the earlier ones, which stay reachable. Its input was moderated when first asked.
 */
export async function prepareRegeneration(
  deps: PrepareDeps,
  sub: string,
  request: ChatCompletionRequest,
  meta: { readonly reservedTokens?: number | undefined },
): Promise<PreparedTurn> {
  if (!request.conversation_id) throw new ValidationError('Required when regenerating.', 'conversation_id');
  const named = request.parent_message_id ?? undefined;
  const existing = await loadConversation(deps.store, sub, request.conversation_id, named);
  const leaf = existing.branch.at(-1);
  // Without a named question, the active leaf must be an answer: its question is answered again.
  const question =
    named === undefined ? (leaf?.role === 'assistant' ? existing.branch.at(-2) : undefined) : leaf;
  if (question?.role !== 'user') {
    throw new ValidationError(
      named === undefined
        ? "The conversation's last message is not an answer that can be regenerated."
        : 'Must name a question (a user message) to answer again.',
      named === undefined ? 'regenerate' : 'parent_message_id',
      'nothing_to_regenerate',
    );
  }
  const before = existing.branch.slice(0, existing.branch.indexOf(question));
  const history = historyOf(before);
  const systemPrompt = existing.conversation.systemPrompt ?? deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const window = buildContextWindow(
    systemPrompt,
    history,
    [{ role: 'user', content: question.content }],
    windowOptions(request, deps.limits),
    existing.earlierTurnsNotLoaded,
  );
  const maxTokens = completionCap(request, deps.limits, window.estimatedPromptTokens, meta.reservedTokens);
  const answerMessageId = newMessageId();
  const reserved = await reserveSequences(deps.store, sub, existing.conversation, 1, 0, answerMessageId);
  return {
    conversationId: existing.conversation.conversationId,
    place: Promise.resolve({
      firstSequence: reserved.firstSequence,
      assistantSequence: reserved.firstSequence,
    }),
    answerMessageId,
    answerParentId: question.messageId,
    questionStored: Promise.resolve(),
    prompt: inferenceRequestOf(request, window.messages, maxTokens),
    promptText: question.content,
    turnsDropped: window.turnsDropped,
    estimatedPromptTokens: window.estimatedPromptTokens,
    // A question stored redacted keeps that decision on the answer, as on the first turn.
    inputModeration:
      question.moderation?.action === 'redact'
        ? { action: 'redact', categories: [...question.moderation.categories] }
        : undefined,
  };
}

/**
 * A turn an earlier attempt prepared (a retried job): its question is already stored, moderated and counted, so
 * the window is rebuilt from the history before it and the question itself, and the answer goes to its slot.
 */
export async function prepareResumed(
  deps: PrepareDeps,
  sub: string,
  request: ChatCompletionRequest,
  ref: TurnRef,
  meta: { readonly reservedTokens?: number | undefined },
): Promise<PreparedTurn> {
  const questionCount = ref.answerSequence - ref.firstSequence;
  const [conversation, stored] = await Promise.all([
    requireConversation(deps.store, sub, ref.conversationId),
    recentMessages(deps.store, sub, ref.conversationId, HISTORY_MESSAGES + questionCount + 1),
  ]);
  const question = withParents(stored).filter(
    (message) => message.sequence >= ref.firstSequence && message.sequence < ref.answerSequence,
  );
  if (question.length !== questionCount) {
    throw new ConflictError("The turn's question is not stored yet; retry shortly.", 'conversation_busy');
  }
  const branchParent = question[0]?.parentId ?? null;
  const history = historyOf(
    branchParent === null
      ? []
      : pathTo(withParents(stored.filter((message) => message.sequence < ref.firstSequence)), branchParent)
          .path,
  );
  const loadedTurns = history.filter((message) => message.role === 'user').length + 1;
  const requestSystem = request.messages.filter(
    (message) => message.role === 'system' || message.role === 'developer',
  );
  const systemPrompt =
    (requestSystem.length > 0 ? requestSystem.map(textOf).join('\n\n') : undefined) ??
    conversation.systemPrompt ??
    deps.systemPrompt ??
    DEFAULT_SYSTEM_PROMPT;
  const window = buildContextWindow(
    systemPrompt,
    history,
    historyOf(question),
    windowOptions(request, deps.limits),
    Math.max(0, conversation.turnCount - loadedTurns),
  );
  const moderated = question.find((message) => message.moderation?.action === 'redact')?.moderation;
  // The earlier attempt stored its answer and then failed (e.g. before the job's result was written).
  const answered = stored.find(
    (message) =>
      message.sequence === ref.answerSequence &&
      message.role === 'assistant' &&
      (message.status === 'complete' || message.status === 'content_filter'),
  );
  return {
    conversationId: conversation.conversationId,
    place: Promise.resolve({ firstSequence: ref.firstSequence, assistantSequence: ref.answerSequence }),
    questionStored: Promise.resolve(),
    resumed: true,
    ...(answered ? { answered } : {}),
    // The answer an earlier attempt planned is found again as the conversation's newest message.
    answerMessageId: newMessageId(),
    answerParentId: question.at(-1)?.messageId ?? null,
    prompt: inferenceRequestOf(
      request,
      window.messages,
      completionCap(request, deps.limits, window.estimatedPromptTokens, meta.reservedTokens),
    ),
    promptText: question
      .filter((message) => message.role === 'user')
      .map((message) => message.content)
      .join('\n'),
    turnsDropped: window.turnsDropped,
    estimatedPromptTokens: window.estimatedPromptTokens,
    inputModeration: moderated ? { action: 'redact', categories: [...moderated.categories] } : undefined,
  };
}
