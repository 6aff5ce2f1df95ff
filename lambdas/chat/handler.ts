import type { Readable } from 'node:stream';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  type ChatCompletionRequest,
  chatCompletionRequestSchema,
  type TokenLogprob,
  type ToolCallDelta,
} from '../contracts/api';
import { rateLimitHeaders } from '../quota';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { apiMiddlewares, baseHeaders, json } from '../shared/http';
import {
  IDEMPOTENCY_TTL_SECONDS,
  idempotencyDynamoClient,
  idempotencyKeyOf,
  runIdempotently,
} from '../shared/idempotency';
import { parseJsonBody, readBody } from '../validation';
import { createChatDeps } from './deps';
import { type ChatDeps, DEADLINE_MARGIN_MS, runTurn, type TurnHead, type TurnRecord } from './pipeline';
import { replayAsSse, SSE_HEADERS, SseWriter } from './sse';

/** `POST /v1/chat/completions`: OpenAI Chat Completions (streamed or not), plus `conversation_id`. */
const cfg = config();
const requestSchema = chatCompletionRequestSchema(cfg.maxCompletionTokens);
let deps: ChatDeps | undefined;

/** Dependencies, built on first use (module scope: once per execution environment). */
function chatDeps(): ChatDeps {
  deps ??= createChatDeps(cfg);
  return deps;
}

type StreamingResult = Omit<APIGatewayProxyResult, 'body'> & { body: string | Readable };

/** A turn that did not finish: never stored as an idempotent outcome, so a retry with the same key runs again. */
class UnfinishedTurn extends Error {
  constructor(readonly record: TurnRecord) {
    super('unfinished turn');
  }
}

function turnHeaders(
  event: APIGatewayProxyEvent,
  turn: Pick<TurnHead, 'conversationId' | 'turnsDropped' | 'quota'>,
): Record<string, string> {
  return {
    ...baseHeaders(event),
    ...(turn.quota ? rateLimitHeaders(turn.quota) : {}),
    'x-conversation-id': turn.conversationId,
    'x-context-turns-dropped': String(turn.turnsDropped),
  };
}

function headersOfRecord(event: APIGatewayProxyEvent, record: TurnRecord, replayed: boolean) {
  return {
    ...turnHeaders(event, { ...record, conversationId: record.completion.conversation_id }),
    ...(replayed
      ? { 'idempotent-replayed': 'true', 'x-idempotency-ttl': String(IDEMPOTENCY_TTL_SECONDS) }
      : {}),
  };
}

/** parse → pipeline → respond. */
async function chat(
  event: APIGatewayProxyEvent,
  context: Context | undefined,
  signal?: AbortSignal,
): Promise<StreamingResult> {
  const caller = callerOf(event);
  const request: ChatCompletionRequest = parseJsonBody(event, requestSchema);
  const idempotencyKey = idempotencyKeyOf(event.headers);
  const streaming = request.stream === true;
  const includeUsage = request.stream_options?.include_usage === true;
  const sse = streaming ? new SseWriter() : undefined;
  let started: ((head: TurnHead) => void) | undefined;
  const firstToken = new Promise<TurnHead>((resolve) => {
    started = resolve;
  });
  const remainingMs = context?.getRemainingTimeInMillis?.();
  const signals = [signal, sse?.signal].filter((one): one is AbortSignal => one !== undefined);
  const turn = () =>
    runTurn(
      chatDeps(),
      {
        sub: caller.sub,
        clientId: caller.clientId,
        requestId: event.requestContext.requestId,
        apiKeyId: caller.apiKeyId,
      },
      request,
      {
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
        ...(remainingMs === undefined ? {} : { deadlineAt: Date.now() + remainingMs - DEADLINE_MARGIN_MS }),
        ...(sse
          ? {
              onStart: (head: TurnHead) => {
                sse.start(head);
                started?.(head);
              },
              onText: (text: string, logprobs: readonly TokenLogprob[]) =>
                sse.text(text, request.logprobs === true ? logprobs : null),
              onReasoning: (text: string) => sse.reasoning(text),
              onToolCall: (delta: ToolCallDelta) => sse.toolCall(delta),
            }
          : {}),
      },
    );

  const outcome: Promise<{ readonly value: TurnRecord; readonly replayed: boolean }> = idempotencyKey
    ? runIdempotently(
        {
          client: idempotencyDynamoClient(),
          tableName: chatDeps().store.tableName,
        },
        {
          sub: caller.sub,
          endpoint: 'chat',
          key: idempotencyKey,
          body: readBody(event),
          ...(context ? { context } : {}),
        },
        async () => {
          const record = await turn();
          if (record.error) throw new UnfinishedTurn(record);
          return record;
        },
      ).catch((error: unknown) => {
        if (error instanceof UnfinishedTurn) return { value: error.record, replayed: false };
        throw error;
      })
    : turn().then((value) => ({ value, replayed: false }));

  // A live stream answers as soon as its first token is in; everything else once the turn is over.
  const first = await Promise.race([firstToken.then((head) => ({ head })), outcome]);
  if (sse && 'head' in first) {
    outcome.then(
      ({ value }) => sse.end(value, includeUsage),
      () => sse.fail('The answer failed. Please retry.'),
    );
    return {
      statusCode: 200,
      headers: { ...SSE_HEADERS, ...turnHeaders(event, first.head) },
      body: sse.body,
    };
  }
  const { value: record, replayed } = await outcome;
  const headers = headersOfRecord(event, record, replayed);
  if (streaming) {
    return {
      statusCode: 200,
      headers: { ...SSE_HEADERS, ...headers },
      body: replayAsSse(record, includeUsage),
    };
  }
  if (record.error) return json(event, record.error.status, { error: record.error.error }, headers);
  return json(event, 200, record.completion, headers);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ streamifyResponse: true })
  .use(apiMiddlewares())
  .handler(
    (event, context, options) => chat(event, context, options?.signal) as Promise<APIGatewayProxyResult>,
  );
