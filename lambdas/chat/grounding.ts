import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CHARS_PER_TOKEN, estimateTokens } from '../context';
import type { ChatCompletionRequest } from '../contracts/api';
import type { Citation } from '../contracts/files';
import { keys } from '../contracts/keys';
import { type ConversationStore, getConversation } from '../conversations/store';
import { findFile } from '../files/service';
import type { InputMessage, MessagesVerdict, Moderation } from '../moderation/types';
import { citationsOf, quoteUntrusted, type RetrievalDeps, retrieve } from '../retrieval';
import { ContentFilteredError, NotFoundError, ValidationError } from '../shared/errors';
import {
  askedCompletionTokens,
  completionCap,
  DEFAULT_SYSTEM_PROMPT,
  type PreparedTurn,
  promptBudget,
  type TurnLimits,
  tokensWanted,
} from './prepare';

/**
 * The grounding stage of a turn: the files attached to the conversation (the request's `file_ids` and those
 * earlier turns attached) give their best passages for the user's question, within a share of the prompt budget.
 * The passages are untrusted quoted material: moderated like input, quoted in delimiters the document cannot
 * forge, placed in the user's turn (never in the system prompt), and cited on the answer.
 */

export interface GroundingDeps {
  readonly store: ConversationStore;
  readonly moderation: Moderation;
  readonly limits: TurnLimits;
  readonly systemPrompt?: string | undefined;
  /** Retrieval over the user's files; without it (files not configured) `file_ids` is refused. */
  readonly files?: RetrievalDeps | undefined;
}

export interface Grounding {
  /** Ids the request attaches (stored on the conversation once its turn has its place). */
  readonly attach: readonly string[];
  /** The quoted block for the prompt ('' when no passage matched), moderated. */
  readonly quoted: string;
  /** Estimated prompt tokens of `quoted`, counted in the context window. */
  readonly tokens: number;
  readonly citations: readonly Citation[];
}

/** Share of the prompt budget the passages may take: a quarter (1,500 of 6,000; see docs/BENCHMARKS.md). */
const RETRIEVAL_SHARE = 0.25;

/** The question retrieval answers: the turn's last user message, as moderation left it. */
function questionOf(checked: {
  readonly messages: readonly InputMessage[];
  readonly verdict: MessagesVerdict;
}) {
  for (let index = checked.messages.length - 1; index >= 0; index--) {
    if (checked.messages[index]?.role === 'user') return checked.verdict.texts[index] ?? '';
  }
  return '';
}

/** Files an earlier turn attached that are still the caller's and processed (a deleted file simply drops out). */
async function stillAttached(files: RetrievalDeps, sub: string, ids: readonly string[]): Promise<string[]> {
  const found = await Promise.all(
    ids.map((id) =>
      findFile(files.store, sub, id).then(
        (file) => (file.status === 'processed' ? id : undefined),
        (error: unknown) => {
          if (error instanceof NotFoundError) return undefined;
          throw error;
        },
      ),
    ),
  );
  return found.filter((id): id is string => id !== undefined);
}

/**
 * How many tokens the passages may take: `budget`, a share of the prompt budget; and `room`, what the turn's own
 * messages, the system prompt and a shorter answer (an eighth of the context at most) leave. The best passage may
 * use the room when it alone exceeds the share, as on a small-context model: history and answer length give way.
 */
function budgetsOf(
  deps: GroundingDeps,
  request: ChatCompletionRequest,
  checked: { readonly messages: readonly InputMessage[] },
): { budget: number; room: number } {
  const { limits } = deps;
  const estimate = (text: string) => estimateTokens(text, limits.charsPerToken);
  const own =
    estimate(deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT) +
    checked.messages.reduce((sum, message) => sum + estimate(message.text), 0);
  const budget = Math.floor(promptBudget(request, limits) * RETRIEVAL_SHARE);
  const promptRoom = Math.min(
    limits.promptTokenBudget ?? Number.POSITIVE_INFINITY,
    limits.modelContextTokens - shortAnswer(request, limits),
  );
  const margin = Math.ceil(limits.modelContextTokens * 0.05) + 8;
  return { budget, room: Math.max(budget, promptRoom - own - margin) };
}

/** The answer's room when a passage takes more than its share of the prompt. */
function shortAnswer(request: ChatCompletionRequest, limits: TurnLimits): number {
  return Math.min(askedCompletionTokens(request, limits), Math.floor(limits.modelContextTokens / 8));
}

/**
 * Tokens a turn reserves on the quota before it runs: a turn attaching files may fill the whole context with
 * passages, prompt and answer (what it does not use is given back when it settles).
 */
export function groundedTokensWanted(
  request: ChatCompletionRequest,
  limits: TurnLimits,
  systemPrompt: string | undefined,
): number {
  if (request.file_ids !== undefined && request.file_ids.length > 0) return limits.modelContextTokens;
  return tokensWanted(request, limits, systemPrompt);
}

/** The best passages within `budget` (weakest dropped first), or else the best one alone if it fits `room`. */
function fitting<T>(
  ranked: readonly T[],
  budget: number,
  room: number,
  tokensOf: (some: T[]) => number,
): T[] {
  const kept = [...ranked];
  while (kept.length > 0 && tokensOf(kept) > budget) kept.pop();
  if (kept.length > 0) return kept;
  const best = ranked.slice(0, 1);
  return best.length > 0 && tokensOf(best) <= room ? best : [];
}

/** Step 2b: retrieves, quotes and moderates the passages; undefined when the conversation has no files. */
export async function ground(
  deps: GroundingDeps,
  sub: string,
  request: ChatCompletionRequest,
  checked: { readonly messages: readonly InputMessage[]; readonly verdict: MessagesVerdict },
): Promise<Grounding | undefined> {
  const requested = [...new Set(request.file_ids ?? [])];
  const conversation = request.conversation_id
    ? await getConversation(deps.store, sub, request.conversation_id)
    : undefined;
  const earlier = (conversation?.fileIds ?? []).filter((id) => !requested.includes(id));
  if (requested.length === 0 && earlier.length === 0) return undefined;
  if (deps.files === undefined) {
    throw new ValidationError('Files are not enabled on this deployment.', 'file_ids', 'files_disabled');
  }
  // The request's ids first, so an error names their place in `file_ids`.
  const fileIds = [...requested, ...(await stillAttached(deps.files, sub, earlier))];
  const { budget, room } = budgetsOf(deps, request, checked);
  const charsPerToken = deps.limits.charsPerToken ?? DEFAULT_CHARS_PER_TOKEN;
  // Retrieval estimates at the default characters per token; the model's tokenizer may count more tokens…
  const retrieved = await retrieve(deps.files, {
    ownerId: sub,
    fileIds,
    query: questionOf(checked),
    tokenBudget: Math.floor((room * charsPerToken) / DEFAULT_CHARS_PER_TOKEN),
    param: 'file_ids',
  });
  // …so the passages are counted again with the model's estimate.
  const tokensOf = (quoted: string) =>
    quoted === '' ? 0 : estimateTokens(quoted, deps.limits.charsPerToken);
  const passages = fitting(retrieved.passages, budget, room, (some) => tokensOf(quoteUntrusted(some)));
  const tokens = tokensOf(quoteUntrusted(passages));
  let quoted = quoteUntrusted(passages);
  if (quoted !== '') {
    // Document text is input like any other: a block refuses the turn, a redaction applies to the quote.
    const verdict = await deps.moderation.checkMessages([{ role: 'user', text: quoted }]);
    if (verdict.action === 'block') {
      throw new ContentFilteredError(
        verdict.categories[0] ?? 'policy',
        `An attached file's passage was blocked by the content policy (${verdict.categories[0] ?? 'policy'}).`,
      );
    }
    quoted = verdict.texts[0] ?? quoted;
  }
  return { attach: requested, quoted, tokens, citations: citationsOf(passages) };
}

/**
 * The limits the context window is built with: the passages' tokens come out of the prompt budget; when they take
 * more than their share, the answer is held to the shorter length their room assumed.
 */
export function groundedLimits(
  request: ChatCompletionRequest,
  limits: TurnLimits,
  grounding: Grounding | undefined,
): TurnLimits {
  if (grounding === undefined || grounding.tokens === 0) return limits;
  const share = Math.floor(promptBudget(request, limits) * RETRIEVAL_SHARE);
  const answer = grounding.tokens > share ? shortAnswer(request, limits) : undefined;
  const shaped =
    answer === undefined
      ? limits
      : { ...limits, maxCompletionTokens: Math.min(limits.maxCompletionTokens, answer) };
  return { ...shaped, promptTokenBudget: promptBudget(request, shaped) - grounding.tokens };
}

/** Adds the ids to the conversation's attached files (a string set: attaching twice is harmless). */
async function attachFiles(
  store: ConversationStore,
  sub: string,
  conversationId: string,
  ids: readonly string[],
) {
  await store.db.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: keys.conversation(sub, conversationId),
      UpdateExpression: 'ADD fileIds :ids',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':ids': new Set(ids) },
    }),
  );
}

/**
 * The prepared turn with the quoted passages in the user's turn (just before the question), the prompt estimate
 * and `max_tokens` counting them, the citations for the answer, and the attachment stored with the question.
 */
export function groundTurn(
  deps: GroundingDeps,
  sub: string,
  request: ChatCompletionRequest,
  turn: PreparedTurn,
  grounding: Grounding,
  reservedTokens: number | undefined,
): PreparedTurn {
  const questionStored =
    grounding.attach.length === 0
      ? turn.questionStored
      : turn.questionStored.then(() => attachFiles(deps.store, sub, turn.conversationId, grounding.attach));
  questionStored.catch(() => undefined);
  if (grounding.quoted === '') return { ...turn, questionStored, citations: [] };
  const messages = [...turn.prompt.messages];
  const last = messages.findLastIndex((message) => message.role === 'user');
  messages.splice(Math.max(0, last), 0, { role: 'user', content: grounding.quoted });
  const estimatedPromptTokens = turn.estimatedPromptTokens + grounding.tokens;
  const maxTokens = Math.min(
    turn.prompt.max_tokens ?? Number.POSITIVE_INFINITY,
    completionCap(
      request,
      groundedLimits(request, deps.limits, grounding),
      estimatedPromptTokens,
      reservedTokens,
    ),
  );
  return {
    ...turn,
    questionStored,
    prompt: { ...turn.prompt, messages, max_tokens: maxTokens },
    estimatedPromptTokens,
    citations: grounding.citations,
  };
}
