import type { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import { LIMITS } from '../contracts/api';
import {
  InputItemsQuery,
  type ResponseCreateRequest,
  ResponseId,
  ResponseInputItem,
  ResponseRetrieveQuery,
} from '../contracts/responses';
import { rateLimitHeaders } from '../quota';
import { type CreatedHead, createResponse } from '../responses/create';
import {
  cancelResponse,
  listInputItems,
  readResponse,
  removeResponse,
  replayResponse,
} from '../responses/read';
import { requireResponse } from '../responses/store';
import { callerOf } from '../shared/auth';
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../shared/errors';
import { baseHeaders, json } from '../shared/http';
import { parseJsonBody, parseQuery, parseWith, readBody } from '../validation';
import { continueAfterResponse } from './background';
import { type ChatDeps, DEADLINE_MARGIN_MS } from './pipeline';
import { SSE_HEADERS } from './sse';

/**
 * The Responses API routes, served by the chat function (response streaming): `POST /v1/responses` runs a chat
 * turn; `GET`/`DELETE /v1/responses/{id}`, `GET …/input_items` and `POST …/cancel` read the stored response.
 */

type StreamingResult = Omit<APIGatewayProxyResult, 'body'> & { body: string | Readable };

/** The routes whose admission is the turn's own (the others count on the per-user route limits). */
export const RESPONSES_TURN_RESOURCE = '/v1/responses';

function headersOf(event: APIGatewayProxyEvent, head: CreatedHead): Record<string, string> {
  return {
    ...baseHeaders(event),
    ...(head.quota ? rateLimitHeaders(head.quota) : {}),
    ...(head.conversationId ? { 'x-conversation-id': head.conversationId } : {}),
    'x-context-turns-dropped': String(head.turnsDropped),
  };
}

/** The `{id}` of a `/v1/responses/{id}…` route; a malformed id is the same 404 as a missing one. */
function responseIdOf(event: APIGatewayProxyEvent): string {
  const id = ResponseId.safeParse(event.pathParameters?.id);
  if (!id.success) throw new NotFoundError('Response', 'response_id');
  return id.data;
}

/**
 * The request, parsed; a broken `input` array names its item (`input[2].content`), not just `input` (the field is
 * a string or a list, and a union's error is the field's own).
 */
function parseCreateRequest(
  event: APIGatewayProxyEvent,
  schema: z.ZodType<ResponseCreateRequest>,
): ResponseCreateRequest {
  try {
    return parseJsonBody(event, schema);
  } catch (error) {
    if (!(error instanceof ValidationError) || error.param !== 'input') throw error;
    // The body is a JSON object (the schema ran on it): only its items are looked at again.
    const input: unknown = (JSON.parse(readBody(event)) as { input?: unknown }).input;
    if (Array.isArray(input) && input.length > 0 && input.length <= LIMITS.maxMessages)
      for (const [index, item] of input.entries()) parseWith(ResponseInputItem, item, ['input', index]);
    throw error;
  }
}

export async function responsesRoute(
  deps: ChatDeps,
  requestSchema: z.ZodType<ResponseCreateRequest>,
  event: APIGatewayProxyEvent,
  context: Context | undefined,
  signal: AbortSignal | undefined,
): Promise<StreamingResult> {
  const caller = callerOf(event);
  const { sub } = caller;
  if (event.resource === RESPONSES_TURN_RESOURCE) {
    const request = parseCreateRequest(event, requestSchema);
    const remainingMs = context?.getRemainingTimeInMillis?.();
    const created = await createResponse(
      deps,
      {
        sub,
        clientId: caller.clientId,
        requestId: event.requestContext.requestId,
        apiKeyId: caller.apiKeyId,
      },
      request,
      {
        signal,
        deadlineAt: remainingMs === undefined ? undefined : Date.now() + remainingMs - DEADLINE_MARGIN_MS,
        continueAfterResponse: (work) => continueAfterResponse(event, work),
      },
    );
    const headers = headersOf(event, created.head);
    if (created.kind === 'stream')
      return { statusCode: 200, headers: { ...SSE_HEADERS, ...headers }, body: created.body };
    return json(event, created.status, created.body, headers);
  }
  const responseId = responseIdOf(event);
  const route = `${event.httpMethod} ${event.resource}`;
  switch (route) {
    case 'GET /v1/responses/{id}': {
      const query = parseQuery(event.queryStringParameters, ResponseRetrieveQuery);
      if (query.stream === 'true') {
        const stored = await requireResponse(deps.store, sub, responseId);
        return {
          statusCode: 200,
          headers: { ...SSE_HEADERS, ...baseHeaders(event) },
          body: replayResponse(deps.store, sub, stored, query.starting_after ?? -1),
        };
      }
      return json(event, 200, await readResponse(deps.store, sub, responseId));
    }
    case 'DELETE /v1/responses/{id}':
      await removeResponse(deps.store, sub, responseId);
      return json(event, 200, { id: responseId, object: 'response', deleted: true });
    case 'GET /v1/responses/{id}/input_items': {
      const query = parseQuery(event.queryStringParameters, InputItemsQuery);
      return json(event, 200, await listInputItems(deps.store, sub, responseId, query));
    }
    case 'POST /v1/responses/{id}/cancel':
      return json(event, 200, await cancelResponse(deps.store, sub, responseId));
    default:
      throw new MethodNotAllowedError(event.httpMethod);
  }
}
