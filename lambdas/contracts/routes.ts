/**
 * The public API's routes, described once. The CDK `ChatApi` construct builds API Gateway resources, methods,
 * authorizer scopes and Lambda integrations from this list; the local adapter routes HTTP requests with it.
 */
export type Scope = 'chat:read' | 'chat:write';

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway resource path, with `{param}` placeholders. */
  readonly path: string;
  /** The Lambda function serving it: its entry is `lambdas/<fn>/handler.ts`, exporting `handler`. */
  readonly fn: FunctionName;
  /** OAuth scopes the caller's access token must carry; empty means no authorizer. */
  readonly scopes: readonly Scope[];
  /** Lambda response streaming (`ResponseTransferMode.STREAM`). */
  readonly streaming?: boolean;
  /** Only a sign-in (OAuth access) token may call it, never an API key: key management. @default false */
  readonly signInOnly?: boolean;
  /** Only members of the `admin` group (`cognito:groups`) may call it: the admin API. @default false */
  readonly adminOnly?: boolean;
}

/** The Cognito group the admin API requires (lib/constructs/identity.ts creates it). */
export const ADMIN_GROUP = 'admin';

/** The authorizer context key API Gateway's AccessDenied response reads its error `code` from. */
export const DENIAL_CODE_KEY = 'denial_code';

export const FunctionName = {
  chat: 'chat',
  models: 'models',
  conversations: 'conversations',
  me: 'me',
  jobs: 'jobs',
  clientErrors: 'client-errors',
  apiKeys: 'api-keys',
  files: 'files',
  admin: 'admin',
} as const;
export type FunctionName = (typeof FunctionName)[keyof typeof FunctionName];

const read: readonly Scope[] = ['chat:read'];
const write: readonly Scope[] = ['chat:write'];

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/v1/chat/completions', fn: 'chat', scopes: write, streaming: true },
  { method: 'GET', path: '/v1/models', fn: 'models', scopes: read },
  { method: 'GET', path: '/v1/models/{id}', fn: 'models', scopes: read },
  { method: 'GET', path: '/v1/conversations', fn: 'conversations', scopes: read },
  { method: 'GET', path: '/v1/conversations/{id}', fn: 'conversations', scopes: read },
  { method: 'PATCH', path: '/v1/conversations/{id}', fn: 'conversations', scopes: write },
  { method: 'DELETE', path: '/v1/conversations/{id}', fn: 'conversations', scopes: write },
  {
    method: 'GET',
    path: '/v1/conversations/{id}/messages/{message_id}/stream',
    fn: 'chat',
    scopes: read,
    streaming: true,
  },
  { method: 'POST', path: '/v1/conversations/{id}/messages/{message_id}/stop', fn: 'chat', scopes: write },
  {
    method: 'POST',
    path: '/v1/conversations/{id}/messages/{message_id}/feedback',
    fn: 'conversations',
    scopes: write,
  },
  { method: 'POST', path: '/v1/conversations/{id}/share', fn: 'conversations', scopes: write },
  { method: 'DELETE', path: '/v1/conversations/{id}/share', fn: 'conversations', scopes: write },
  // Public: a share link opens without a token (limited per client address by the handler).
  { method: 'GET', path: '/v1/shared/{share_id}', fn: 'conversations', scopes: [] },
  // The Responses API: a turn streams from the chat function, its stored response is read there too.
  { method: 'POST', path: '/v1/responses', fn: 'chat', scopes: write, streaming: true },
  { method: 'GET', path: '/v1/responses/{id}', fn: 'chat', scopes: read, streaming: true },
  { method: 'DELETE', path: '/v1/responses/{id}', fn: 'chat', scopes: write },
  { method: 'GET', path: '/v1/responses/{id}/input_items', fn: 'chat', scopes: read },
  { method: 'POST', path: '/v1/responses/{id}/cancel', fn: 'chat', scopes: write },
  { method: 'GET', path: '/v1/me/export', fn: 'me', scopes: read },
  { method: 'POST', path: '/v1/me/export', fn: 'me', scopes: write },
  { method: 'GET', path: '/v1/me/export/{id}', fn: 'me', scopes: read },
  { method: 'GET', path: '/v1/me/usage', fn: 'me', scopes: read },
  { method: 'DELETE', path: '/v1/me', fn: 'me', scopes: write },
  { method: 'GET', path: '/v1/me/settings', fn: 'me', scopes: read },
  { method: 'PUT', path: '/v1/me/settings', fn: 'me', scopes: write },
  { method: 'POST', path: '/v1/jobs', fn: 'jobs', scopes: write },
  { method: 'GET', path: '/v1/jobs/{id}', fn: 'jobs', scopes: read },
  { method: 'POST', path: '/v1/client-errors', fn: 'client-errors', scopes: write },
  { method: 'POST', path: '/v1/me/api-keys', fn: 'api-keys', scopes: write, signInOnly: true },
  { method: 'GET', path: '/v1/me/api-keys', fn: 'api-keys', scopes: read, signInOnly: true },
  { method: 'DELETE', path: '/v1/me/api-keys/{id}', fn: 'api-keys', scopes: write, signInOnly: true },
  { method: 'POST', path: '/v1/files', fn: 'files', scopes: write },
  { method: 'GET', path: '/v1/files', fn: 'files', scopes: read },
  { method: 'GET', path: '/v1/files/{id}', fn: 'files', scopes: read },
  { method: 'GET', path: '/v1/files/{id}/content', fn: 'files', scopes: read },
  { method: 'DELETE', path: '/v1/files/{id}', fn: 'files', scopes: write },
  // Few resources on purpose: a release alarm sums the metrics of five routes at most (ChatApi `routeGroups`).
  ...(
    [
      ['GET', '/v1/admin/users', read],
      ['GET', '/v1/admin/users/{id}', read],
      // `suspend`, `unsuspend` and `quota` (lambdas/contracts/admin.ts `AdminUserAction`).
      ['POST', '/v1/admin/users/{id}/{action}', write],
      ['GET', '/v1/admin/usage', read],
      ['GET', '/v1/admin/audit', read],
      ['GET', '/v1/admin/feedback', read],
    ] as const
  ).map(([method, path, scopes]) => ({ method, path, fn: FunctionName.admin, scopes, adminOnly: true })),
];

/** Every API scope, in the order tokens list them. */
export const API_SCOPES: readonly Scope[] = ['chat:read', 'chat:write'];
