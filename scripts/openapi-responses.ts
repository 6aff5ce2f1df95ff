/** The Responses API's operations for docs/openapi.json (scripts/openapi.ts), from lambdas/contracts/responses.ts. */
import * as z from 'zod';
import type { ZodOpenApiOperationObject } from 'zod-openapi';
import { ErrorResponse } from '../lambdas/contracts/api';
import {
  InputItemsQuery,
  ResponseCreateRequest,
  ResponseDeleted,
  ResponseId,
  ResponseItemList,
  ResponseObject,
  ResponseRetrieveQuery,
  ResponseStreamEvent,
} from '../lambdas/contracts/responses';

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: jsonContent(ErrorResponse) });
const errors = {
  '400': error('Invalid request (the `param` names the field), or input blocked by moderation.'),
  '401': error('Missing, invalid, expired or revoked access token or API key.'),
  '403': error('The token or key lacks the required scope.'),
  '404': error('No such response (also for other users’ responses and `store: false` ones).'),
  '429': error('Rate limit, daily token quota or concurrent answers exceeded; see `retry-after`.'),
};
const idParam = { path: z.object({ id: ResponseId }) };
const events = { 'text/event-stream': { schema: ResponseStreamEvent } };

export const RESPONSES_OPERATIONS: Record<string, ZodOpenApiOperationObject> = {
  'POST /v1/responses': {
    operationId: 'createResponse',
    summary:
      'Create a response (OpenAI Responses API) on the chat pipeline; `stream: true` sends the typed events, `background: true` answers at once and generates on.',
    requestBody: { required: true, content: jsonContent(ResponseCreateRequest) },
    responses: {
      '200': {
        description:
          'A `response` object, or (with `stream: true`) `text/event-stream` of typed events (`event: <type>`, each with a `sequence_number`).',
        headers: z.object({
          'x-request-id': z.string().meta({ description: 'Request id, also in the logs.' }),
          'x-conversation-id': z
            .string()
            .meta({ description: 'The conversation the exchange is stored in.' }),
        }),
        content: { ...jsonContent(ResponseObject), ...events },
      },
      ...errors,
      '503': error('The model is unavailable or busy; retry after `retry-after` seconds.'),
    },
  },
  'GET /v1/responses/{id}': {
    operationId: 'retrieveResponse',
    summary:
      'A stored response as it stands; `stream=true` streams its events from the store (`starting_after` a sequence number) until it ends.',
    requestParams: { ...idParam, query: ResponseRetrieveQuery },
    responses: {
      '200': {
        description: 'The response, or its events.',
        content: { ...jsonContent(ResponseObject), ...events },
      },
      ...errors,
    },
  },
  'DELETE /v1/responses/{id}': {
    operationId: 'deleteResponse',
    summary: 'Delete a stored response (its exchange stays in the conversation).',
    requestParams: idParam,
    responses: { '200': { description: 'Deleted.', content: jsonContent(ResponseDeleted) }, ...errors },
  },
  'GET /v1/responses/{id}/input_items': {
    operationId: 'listResponseInputItems',
    summary:
      'The input items of a stored response, newest first unless `order=asc`, paged by `after` / `before`.',
    requestParams: { ...idParam, query: InputItemsQuery },
    responses: { '200': { description: 'One page.', content: jsonContent(ResponseItemList) }, ...errors },
  },
  'POST /v1/responses/{id}/cancel': {
    operationId: 'cancelResponse',
    summary: 'Cancel a background response: it stops at its next progress step and ends `cancelled`.',
    requestParams: idParam,
    responses: { '200': { description: 'The response.', content: jsonContent(ResponseObject) }, ...errors },
  },
};
