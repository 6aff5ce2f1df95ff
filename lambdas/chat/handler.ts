import type { Readable } from 'node:stream';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  type AnswerStop,
  type ChatCompletionRequest,
  ConversationId,
  chatCompletionRequestSchema,
  MessageId,
  ReattachQuery,
  type TokenLogprob,
  type ToolCallDelta,
} from '../contracts/api';
import { responseCreateRequestSchema } from '../contracts/responses';
import { rateLimitHeaders } from '../quota';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { NotFoundError } from '../shared/errors';
import { apiMiddlewares, baseHeaders, json } from '../shared/http';
import {
  IDEMPOTENCY_TTL_SECONDS,
  idempotencyDynamoClient,
  idempotencyKeyOf,
  runIdempotently,
} from '../shared/idempotency';
import { parseJsonBody, parseQuery, readBody } from '../validation';
import { awaitBackgroundWork } from './background';
import { createChatDeps } from './deps';
import { type ChatDeps, DEADLINE_MARGIN_MS, runTurn, type TurnHead, type TurnRecord } from './pipeline';
import { reattachStream, requireAnswer, stopAnswer } from './reattach';
import { RESPONSES_TURN_RESOURCE, responsesRoute } from './responses';
import { replayAsSse, SSE_HEADERS, SseWriter } from './sse';

/**
 * `POST /v1/chat/completions`: OpenAI Chat Completions (streamed or not), plus `conversation_id`; the resumable
 * answers' routes; and OpenAI's Responses API (`/v1/responses…`, `responses.ts`) on the same pipeline.
 */
const cfg = config();
const requestSchema = chatCompletionRequestSchema(cfg.maxCompletionTokens);
const responsesSchema = responseCreateRequestSchema(cfg.maxCompletionTokens);
/** Requests whose limit is the turn's admission (requests, tokens, concurrent answers). */
const TURN_RESOURCES = new Set(['/v1/chat/completions', RESPONSES_TURN_RESOURCE]);
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
  turn: Pick<TurnHead, 'conversationId' | 'turnsDropped' | 'quota'> & { readonly messageId?: string },
): Record<string, string> {
  return {
    ...baseHeaders(event),
    ...(turn.quota ? rateLimitHeaders(turn.quota) : {}),
    'x-conversation-id': turn.conversationId,
    ...(turn.messageId ? { 'x-message-id': turn.messageId } : {}),
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
  // A resumable answer outlives its client: only an explicit stop (or the deadline) ends it early.
  const resumable = streaming && request.resumable === true;
  const signals = resumable
    ? []
    : [signal, sse?.signal].filter((one): one is AbortSignal => one !== undefined);
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
        resumable,
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

/** The answer a `…/messages/{message_id}/…` route names; malformed ids are the same 404 as missing ones. */
function answerOf(event: APIGatewayProxyEvent) {
  const conversationId = ConversationId.safeParse(event.pathParameters?.id);
  if (!conversationId.success) throw new NotFoundError('Conversation', 'id');
  const messageId = MessageId.safeParse(event.pathParameters?.message_id);
  if (!messageId.success) throw new NotFoundError('Message', 'message_id');
  return requireAnswer(chatDeps().store, callerOf(event).sub, conversationId.data, messageId.data);
}

/** `GET …/stream`: the stored answer as SSE, followed while it is generated; `POST …/stop`: ask it to stop. */
async function answerRoute(event: APIGatewayProxyEvent, signal?: AbortSignal): Promise<StreamingResult> {
  const { sub } = callerOf(event);
  const answer = await answerOf(event);
  if (event.httpMethod === 'GET') {
    const { after } = parseQuery(event.queryStringParameters, ReattachQuery);
    return {
      statusCode: 200,
      headers: {
        ...SSE_HEADERS,
        ...baseHeaders(event),
        'x-conversation-id': answer.conversationId,
        'x-message-id': answer.messageId,
      },
      body: reattachStream(chatDeps().store, sub, answer, after, signal),
    };
  }
  const { stopping } = await stopAnswer(chatDeps().store, sub, answer);
  const body: AnswerStop = { id: answer.messageId, object: 'conversation.message.stop', stopping };
  return json(event, 200, body);
}

function route(event: APIGatewayProxyEvent, context: Context, signal: AbortSignal | undefined) {
  if (event.resource === '/v1/chat/completions') return chat(event, context, signal);
  if (event.resource.startsWith('/v1/responses'))
    return responsesRoute(chatDeps(), responsesSchema, event, context, signal);
  return answerRoute(event, signal);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({
  streamifyResponse: true,
  // A background response generates after its client has the answer: the invocation lasts until it is done.
  requestEnd: awaitBackgroundWork,
})
  // A turn's admission is its per-user limit; the other routes count on the per-user route limits.
  .use(apiMiddlewares({ routeLimit: 'own', ownAdmission: (event) => TURN_RESOURCES.has(event.resource) }))
  .handler(
    (event, context, options) => route(event, context, options?.signal) as Promise<APIGatewayProxyResult>,
  );
