/**
 * Generates docs/openapi.json from the zod schemas in lambdas/contracts/api.ts (the single source of truth) and
 * the route list. `npx tsx scripts/openapi.ts` writes the file; `--check` fails when the committed file is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Conversation,
  ConversationId,
  ConversationList,
  ConversationListQuery,
  ConversationPatch,
  ConversationWithMessages,
  Deleted,
  ErrorResponse,
  Export,
  Model,
  ModelList,
  UsageQuery,
  UsageReport,
  UserSettings,
  UserSettingsUpdate,
} from '../lambdas/contracts/api';
import { ApiKeyCreateRequest, ApiKeyId, ApiKeyList, CreatedApiKey } from '../lambdas/contracts/api-keys';
import { DataExport, DataExportRequest, ExportId } from '../lambdas/contracts/data-export';
import {
  FileDeleted,
  FileId,
  FileList,
  FileListQuery,
  FileObject,
  FilePurpose,
  FileUploadRequest,
} from '../lambdas/contracts/files';
import { ROUTES, type RouteDefinition } from '../lambdas/contracts/routes';
import { ADMIN_OPERATIONS } from './openapi-admin';
import { RESPONSES_OPERATIONS } from './openapi-responses';
import { SHARING_OPERATIONS } from './openapi-sharing';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_PATH = join(ROOT, 'docs', 'openapi.json');

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });
const header = (description: string) => z.string().meta({ description });

const rateLimitHeaders = {
  'x-request-id': header('Request id, also in the logs.'),
  'x-ratelimit-limit-requests': header('Requests allowed per minute.'),
  'x-ratelimit-remaining-requests': header('Requests left in this minute.'),
  'x-ratelimit-reset-requests': header('Time until the request window resets, e.g. `12s`.'),
  'x-ratelimit-limit-tokens': header('Tokens allowed per day.'),
  'x-ratelimit-remaining-tokens': header('Tokens left today.'),
  'x-ratelimit-reset-tokens': header('Time until the token window resets.'),
};

const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description:
          {
            400: 'Invalid request (the `param` names the field), or input blocked by moderation (`code: content_filter`).',
            401: 'Missing, invalid, expired or revoked access token or API key.',
            403: 'The token or key lacks the required scope (API keys cannot manage API keys).',
            404: 'Not found (also for other users’ resources).',
            409: 'A request with the same Idempotency-Key is still running, or the API key limit is reached.',
            429: 'Rate limit, daily token quota or concurrent answers exceeded; see `retry-after`.',
            500: 'The answer could not be stored (`code: answer_not_saved`); retry.',
            503: 'The model is unavailable or busy (`model_overloaded`), or broke off; retry after `retry-after` seconds.',
            504: 'The answer did not finish before the request’s deadline; the partial answer is in the conversation.',
          }[status] ?? 'Error',
        content: jsonContent(ErrorResponse),
      },
    ]),
  );

const idParam = { path: z.object({ id: ConversationId }) };

const fileIdParam = { path: z.object({ id: FileId }) };
const MultipartUpload = z.object({
  file: z.string().meta({ format: 'binary', description: 'The file (at most 4 MB this way).' }),
  purpose: FilePurpose,
});

/** Operations by `METHOD path`, each matching a route in ROUTES. */
const OPERATIONS: Record<string, ZodOpenApiOperationObject> = {
  'POST /v1/chat/completions': {
    operationId: 'createChatCompletion',
    summary: 'Create a chat completion (OpenAI-compatible), streamed as SSE when `stream` is true.',
    requestParams: {
      header: z.object({
        'Idempotency-Key': z.string().max(255).optional().meta({
          description:
            'A retry with the same key returns the original outcome of a finished answer; an answer that broke off runs again.',
        }),
      }),
    },
    requestBody: { required: true, content: jsonContent(ChatCompletionRequest) },
    responses: {
      '200': {
        description:
          'A `chat.completion` object, or (with `stream: true`) `text/event-stream` of `chat.completion.chunk` events ending with `data: [DONE]`.',
        headers: z.object({
          ...rateLimitHeaders,
          'x-conversation-id': header('The conversation the messages were stored in.'),
          'x-context-turns-dropped': header('Earlier turns left out of the model’s context.'),
        }),
        content: { ...jsonContent(ChatCompletion), 'text/event-stream': { schema: ChatCompletionChunk } },
      },
      ...errors(400, 401, 403, 404, 409, 429, 500, 503, 504),
    },
  },
  'GET /v1/models': {
    operationId: 'listModels',
    summary: 'List the models this deployment serves.',
    responses: { '200': { description: 'Models.', content: jsonContent(ModelList) }, ...errors(401, 403) },
  },
  'GET /v1/models/{id}': {
    operationId: 'retrieveModel',
    summary: 'One model this deployment serves; an unknown id is a 404 `model_not_found`.',
    requestParams: { path: z.object({ id: z.string().meta({ description: 'The model id.' }) }) },
    responses: {
      '200': { description: 'The model.', content: jsonContent(Model) },
      ...errors(401, 403, 404),
    },
  },
  'GET /v1/conversations': {
    operationId: 'listConversations',
    summary:
      'List the caller’s conversations, pinned then newest first; with `q`, search them by words (newest first, each with a `snippet`).',
    requestParams: { query: ConversationListQuery },
    responses: {
      '200': { description: 'One page.', content: jsonContent(ConversationList) },
      ...errors(400, 401, 403),
    },
  },
  'GET /v1/conversations/{id}': {
    operationId: 'getConversation',
    summary: 'A conversation with its messages.',
    requestParams: idParam,
    responses: {
      '200': { description: 'The conversation.', content: jsonContent(ConversationWithMessages) },
      ...errors(401, 403, 404),
    },
  },
  'PATCH /v1/conversations/{id}': {
    operationId: 'renameConversation',
    summary: 'Rename, pin or unpin a conversation, set its system prompt or switch its branch.',
    requestParams: idParam,
    requestBody: { required: true, content: jsonContent(ConversationPatch) },
    responses: {
      '200': { description: 'Changed.', content: jsonContent(Conversation) },
      ...errors(400, 401, 403, 404),
    },
  },
  'DELETE /v1/conversations/{id}': {
    operationId: 'deleteConversation',
    summary: 'Delete a conversation and its messages.',
    requestParams: idParam,
    responses: {
      '200': { description: 'Deleted.', content: jsonContent(Deleted) },
      ...errors(401, 403, 404),
    },
  },
  'GET /v1/me/export': {
    operationId: 'exportMyData',
    summary:
      'All of the caller’s data as one JSON document, within API Gateway’s 29 s and 6 MB. Deprecated: use `POST /v1/me/export`, which works for any account.',
    deprecated: true,
    responses: { '200': { description: 'The export.', content: jsonContent(Export) }, ...errors(401, 403) },
  },
  'POST /v1/me/export': {
    operationId: 'startDataExport',
    summary:
      'Start an export of all of the caller’s data as a job; poll `GET /v1/me/export/{id}` for its download link (a JSON Lines file: a header line, one `{kind, item}` line per item of every kind of user data, an `export.end` line with the counts).',
    requestBody: { required: false, content: jsonContent(DataExportRequest) },
    responses: {
      '202': { description: 'The export, queued.', content: jsonContent(DataExport) },
      ...errors(400, 401, 403, 429),
    },
  },
  'GET /v1/me/export/{id}': {
    operationId: 'getDataExport',
    summary:
      'An export’s status; once `completed`, a presigned download link that works for 15 minutes (ask again for a fresh one while the export lasts, one day).',
    requestParams: { path: z.object({ id: ExportId }) },
    responses: {
      '200': { description: 'The export.', content: jsonContent(DataExport) },
      ...errors(401, 403, 404),
    },
  },
  'GET /v1/me/usage': {
    operationId: 'getMyUsage',
    summary: 'The caller’s usage per day and limits.',
    requestParams: { query: UsageQuery },
    responses: {
      '200': { description: 'Usage.', content: jsonContent(UsageReport) },
      ...errors(400, 401, 403),
    },
  },
  'POST /v1/me/api-keys': {
    operationId: 'createApiKey',
    summary: 'Create a personal API key (needs a sign-in token). The secret `key` is returned only here.',
    requestBody: { required: true, content: jsonContent(ApiKeyCreateRequest) },
    responses: {
      '201': { description: 'The key, with its secret.', content: jsonContent(CreatedApiKey) },
      ...errors(400, 401, 403, 409),
    },
  },
  'GET /v1/me/api-keys': {
    operationId: 'listApiKeys',
    summary: 'The caller’s API keys that are not revoked, without their secrets (needs a sign-in token).',
    responses: {
      '200': { description: 'The keys.', content: jsonContent(ApiKeyList) },
      ...errors(401, 403),
    },
  },
  'DELETE /v1/me/api-keys/{id}': {
    operationId: 'revokeApiKey',
    summary: 'Revoke one of the caller’s API keys; it stops working within a minute (needs a sign-in token).',
    requestParams: { path: z.object({ id: ApiKeyId }) },
    responses: {
      '200': { description: 'Revoked.', content: jsonContent(Deleted) },
      ...errors(401, 403, 404),
    },
  },
  'POST /v1/files': {
    operationId: 'createFile',
    summary:
      'Upload a file (OpenAI-compatible multipart), or announce a larger one as JSON and PUT its bytes to the returned `upload.url`.',
    requestBody: {
      required: true,
      content: { 'multipart/form-data': { schema: MultipartUpload }, ...jsonContent(FileUploadRequest) },
    },
    responses: {
      '200': {
        description: 'The file, `status: uploaded` until it is processed.',
        content: jsonContent(FileObject),
      },
      ...errors(400, 401, 403, 429),
    },
  },
  'GET /v1/files': {
    operationId: 'listFiles',
    summary: 'List the caller’s files.',
    requestParams: { query: FileListQuery },
    responses: { '200': { description: 'Files.', content: jsonContent(FileList) }, ...errors(400, 401, 403) },
  },
  'GET /v1/files/{id}': {
    operationId: 'retrieveFile',
    summary: 'A file: `status` is `uploaded`, then `processed` or `error` (reason in `status_details`).',
    requestParams: fileIdParam,
    responses: {
      '200': { description: 'The file.', content: jsonContent(FileObject) },
      ...errors(401, 403, 404),
    },
  },
  'GET /v1/files/{id}/content': {
    operationId: 'downloadFile',
    summary:
      'The file’s bytes: a redirect to a short-lived download URL, or (with `Accept: application/json`) the URL itself.',
    requestParams: fileIdParam,
    responses: {
      '200': {
        description: 'The download URL (asked for with `Accept: application/json`).',
        content: jsonContent(
          z.object({ object: z.literal('file.content_url'), url: z.string(), expires_in: z.number().int() }),
        ),
      },
      '302': {
        description: 'Redirect to the bytes.',
        headers: z.object({ location: header('Download URL.') }),
      },
      ...errors(401, 403, 404),
    },
  },
  'DELETE /v1/files/{id}': {
    operationId: 'deleteFile',
    summary: 'Delete a file, its passages and vectors.',
    requestParams: fileIdParam,
    responses: {
      '200': { description: 'Deleted.', content: jsonContent(FileDeleted) },
      ...errors(401, 403, 404),
    },
  },
  'GET /v1/me/settings': {
    operationId: 'getMySettings',
    summary: 'The caller’s custom instructions and default model.',
    responses: {
      '200': { description: 'Settings.', content: jsonContent(UserSettings) },
      ...errors(401, 403),
    },
  },
  'PUT /v1/me/settings': {
    operationId: 'updateMySettings',
    summary:
      'Change the caller’s custom instructions (moderated) and/or default model (one of GET /v1/models).',
    requestBody: { required: true, content: jsonContent(UserSettingsUpdate) },
    responses: {
      '200': { description: 'The settings now.', content: jsonContent(UserSettings) },
      ...errors(400, 401, 403),
    },
  },
  'DELETE /v1/me': {
    operationId: 'eraseMyData',
    summary: 'Erase all of the caller’s data (idempotent).',
    responses: { '200': { description: 'Erased.', content: jsonContent(Deleted) }, ...errors(401, 403) },
  },
  ...ADMIN_OPERATIONS,
  ...SHARING_OPERATIONS,
  ...RESPONSES_OPERATIONS,
};

function operationFor(route: RouteDefinition): ZodOpenApiOperationObject | undefined {
  const operation = OPERATIONS[`${route.method} ${route.path}`];
  if (!operation) return undefined;
  return { ...operation, security: route.scopes.length > 0 ? [{ bearer: [...route.scopes] }] : [] };
}

/** The OpenAPI 3.1 document of the routes that have a schema here. */
export function buildOpenApiDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of ROUTES) {
    const operation = operationFor(route);
    if (!operation) continue;
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'chatstack API',
      version: '1.0.0',
      description:
        'An OpenAI-compatible chat API. Any OpenAI client works by changing its base URL to `<api>/v1` and passing, as its API key, a personal API key (`csk_…`, made in the web app or with `POST /v1/me/api-keys`) or an OAuth access token with the `chat:read` / `chat:write` scopes.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A personal API key (`csk_…`) or an OAuth access token (JWT).',
        },
      },
    },
  });
}

export function renderOpenApi(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rendered = renderOpenApi();
  if (process.argv.includes('--check')) {
    const committed = await readFile(OPENAPI_PATH, 'utf8').catch(() => '');
    if (committed !== rendered) {
      console.error('docs/openapi.json is out of date: run `npx tsx scripts/openapi.ts`');
      process.exit(1);
    }
  } else {
    await writeFile(OPENAPI_PATH, rendered);
    console.log(`wrote ${OPENAPI_PATH}`);
  }
}
