import type { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ChatCompletionRequest, chatCompletionRequestSchema } from '../contracts/api';
import { rateLimitHeaders } from '../quota';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { apiMiddlewares, baseHeaders, json } from '../shared/http';
import { parseJsonBody, readBody } from '../validation';
import { runCompletion } from './complete';
import { createChatDeps } from './deps';
import { IDEMPOTENCY_TTL_SECONDS, idempotencyKeyOf, runIdempotently } from './idempotency';
import { replayAsSse, startStreamingTurn, type TurnRecord } from './sse';
import { type ChatCaller, type ChatDeps, prepareTurn } from './turn';

/** `POST /v1/chat/completions`: OpenAI Chat Completions (streamed or not), plus `conversation_id`. */
const cfg = config();
const requestSchema = chatCompletionRequestSchema(cfg.maxCompletionTokens);
let deps: ChatDeps | undefined;
/** Idempotency records go through a plain DynamoDB client (Powertools marshals them itself). */
let idempotencyClient: DynamoDBClient | undefined;
function idempotencyDynamo(): DynamoDBClient {
  idempotencyClient ??= new DynamoDBClient({ maxAttempts: 5 });
  return idempotencyClient;
}

/** Dependencies, built on first use (module scope: once per execution environment). */
function chatDeps(): ChatDeps {
  deps ??= createChatDeps(cfg);
  return deps;
}

type StreamingResult = Omit<APIGatewayProxyResult, 'body'> & { body: string | Readable };

function responseHeaders(
  event: APIGatewayProxyEvent,
  record: Pick<TurnRecord, 'turnsDropped'> & { conversationId: string },
  quota: Record<string, string>,
) {
  return {
    ...baseHeaders(event),
    ...quota,
    'x-conversation-id': record.conversationId,
    'x-context-turns-dropped': String(record.turnsDropped),
  };
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

async function chat(
  event: APIGatewayProxyEvent,
  context: Context,
  signal?: AbortSignal,
): Promise<StreamingResult> {
  const caller = callerOf(event);
  const request: ChatCompletionRequest = parseJsonBody(event, requestSchema);
  const idempotencyKey = idempotencyKeyOf(event.headers);
  const who: ChatCaller = {
    sub: caller.sub,
    clientId: caller.clientId,
    requestId: event.requestContext.requestId,
    apiKeyId: caller.apiKeyId,
  };
  const streaming = request.stream === true;
  const includeUsage = request.stream_options?.include_usage === true;
  const pipeline = chatDeps();

  // Settles when a live stream has its first token (its headers can go out).
  let started: (() => void) | undefined;
  const firstByte = new Promise<void>((resolve) => {
    started = resolve;
  });
  // The turn itself; with an Idempotency-Key it runs at most once and its record is replayed on retries.
  let live: { response: StreamingResult; end: () => void } | undefined;
  let quotaHeaders: Record<string, string> = {};
  const runTurn = async (): Promise<TurnRecord> => {
    if (!streaming) {
      const result = await runCompletion(pipeline, who, request, signal);
      if (result.quota) quotaHeaders = rateLimitHeaders(result.quota);
      return { completion: result.completion, turnsDropped: result.turnsDropped };
    }
    const turn = await prepareTurn(pipeline, who, request);
    if (turn.quota) quotaHeaders = rateLimitHeaders(turn.quota);
    // The stream outlives this invocation's handler promise: it ends on its own or when the client leaves.
    const stream = await startStreamingTurn(pipeline, who, turn, { includeUsage });
    live = {
      response: {
        statusCode: 200,
        headers: {
          ...SSE_HEADERS,
          ...responseHeaders(
            event,
            { conversationId: turn.conversation.conversationId, turnsDropped: turn.turnsDropped },
            quotaHeaders,
          ),
        },
        body: stream.body,
      },
      end: stream.end,
    };
    started?.();
    return stream.record;
  };

  const outcome = idempotencyKey
    ? runIdempotently(
        {
          client: idempotencyDynamo(),
          tableName: pipeline.context.tableName,
        },
        { sub: caller.sub, key: idempotencyKey, body: readBody(event), context },
        runTurn,
      )
    : runTurn().then((value) => ({ value, replayed: false }));

  // A live stream answers as soon as its first token is there; everything else once the turn is settled.
  await Promise.race([firstByte, outcome]);
  if (live) {
    const { end } = live;
    outcome.then(end, end);
    return live.response;
  }
  const { value: record, replayed } = await outcome;
  const headers = {
    ...responseHeaders(
      event,
      { conversationId: record.completion.conversation_id, turnsDropped: record.turnsDropped },
      quotaHeaders,
    ),
    ...(replayed
      ? { 'idempotent-replayed': 'true', 'x-idempotency-ttl': String(IDEMPOTENCY_TTL_SECONDS) }
      : {}),
  };
  if (streaming) {
    return {
      statusCode: 200,
      headers: { ...SSE_HEADERS, ...headers },
      body: replayAsSse(record, includeUsage),
    };
  }
  return json(event, 200, record.completion, headers);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ streamifyResponse: true })
  .use(apiMiddlewares())
  .handler(
    (event, context, options) => chat(event, context, options?.signal) as Promise<APIGatewayProxyResult>,
  );
