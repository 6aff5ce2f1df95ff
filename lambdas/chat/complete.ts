import type { ChatCompletion, ChatCompletionRequest, FinishReason } from '../contracts/api';
import { invokeChat } from '../inference';
import type { QuotaState } from '../quota';
import {
  type ChatCaller,
  type ChatDeps,
  persistTurn,
  persistUnansweredTurn,
  prepareTurn,
  usageOrEstimate,
} from './turn';

export type { ChatCaller, ChatDeps } from './turn';

/** A completion plus what the HTTP layer reports in headers. */
export interface CompletionResult {
  readonly completion: ChatCompletion;
  readonly turnsDropped: number;
  readonly quota: QuotaState | undefined;
}

export function completionId(): string {
  return `chatcmpl-${crypto.randomUUID().replaceAll('-', '')}`;
}

/**
 * The non-streamed chat turn: quota → input moderation → context → `InvokeEndpoint` → output moderation →
 * persist. Shared by `POST /v1/chat/completions` with `stream: false` and the job worker.
 */
export async function runCompletion(
  deps: ChatDeps,
  caller: ChatCaller,
  request: ChatCompletionRequest,
  signal?: AbortSignal,
): Promise<CompletionResult> {
  const turn = await prepareTurn(deps, caller, request);
  let result: Awaited<ReturnType<typeof invokeChat>>;
  try {
    result = await invokeChat(deps.inference, turn.prompt, signal);
  } catch (error) {
    await persistUnansweredTurn(deps, caller, turn, 'model_unavailable');
    throw error;
  }
  const filter = deps.moderation.createOutputFilter({ prompt: turn.promptText });
  const pushed = await filter.push(result.text);
  let text = pushed.emit;
  let verdict = pushed.verdict;
  if (verdict?.action !== 'block') {
    const flushed = await filter.flush();
    text += flushed.emit;
    verdict = flushed.verdict ?? verdict;
  }
  const blocked = verdict?.action === 'block';
  const finishReason: FinishReason = blocked ? 'content_filter' : result.finishReason;
  const usage = usageOrEstimate(result.usage, turn, result.text);
  await persistTurn(deps, caller, turn, {
    text,
    status: blocked ? 'content_filter' : 'complete',
    finishReason,
    usage,
    outputVerdict: verdict ?? undefined,
    timeToFirstTokenMs: undefined,
  });
  return {
    completion: {
      id: completionId(),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: deps.modelId,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          finish_reason: finishReason,
          logprobs: null,
        },
      ],
      usage,
      conversation_id: turn.conversation.conversationId,
    },
    turnsDropped: turn.turnsDropped,
    quota: turn.quota,
  };
}

/** The non-streamed chat turn as a plain function: `completeChat(deps, caller, request) → ChatCompletion`. */
export async function completeChat(
  deps: ChatDeps,
  caller: ChatCaller,
  request: ChatCompletionRequest,
  signal?: AbortSignal,
): Promise<ChatCompletion> {
  return (await runCompletion(deps, caller, request, signal)).completion;
}
