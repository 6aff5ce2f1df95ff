import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { ConversationId } from '../contracts/api';
import { EnvName } from '../contracts/env';
import { ShareId } from '../contracts/sharing';
import { conversationStoreFromEnv } from '../conversations/deps';
import { routeLimitHeaders } from '../quota/route-limit';
import { ConfigError, config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { ApiError, MethodNotAllowedError, NotFoundError } from '../shared/errors';
import { json } from '../shared/http';
import { consumeSharedRead } from './address-limit';
import { revokeShare, shareConversation, sharedConversation, shareView } from './store';

/**
 * `POST` / `DELETE /v1/conversations/{id}/share` (the owner's) and `GET /v1/shared/{share_id}` (anyone's, no
 * token: API Gateway runs no authorizer on it).
 */
export const SHARED_ROUTE_PATH = '/v1/shared/{share_id}';

const perAddress = z.coerce
  .number()
  .int()
  .positive()
  .default(60)
  .safeParse(process.env[EnvName.sharedReadsPerMinutePerAddress]);
if (!perAddress.success) {
  throw new ConfigError(
    `Invalid configuration: ${EnvName.sharedReadsPerMinutePerAddress}: expected a positive whole number`,
  );
}
const sharedReadsPerMinute = perAddress.data;

/** Search engines must not index a shared page, and no cache may keep it once revoked. */
const PUBLIC_HEADERS = { 'x-robots-tag': 'noindex, nofollow', 'cache-control': 'no-store' };

export async function shareRoute(event: APIGatewayProxyEvent, sub: string): Promise<APIGatewayProxyResult> {
  const parsed = ConversationId.safeParse(event.pathParameters?.id);
  if (!parsed.success) throw new NotFoundError('Conversation', 'id');
  const conversationId = parsed.data;
  if (event.httpMethod === 'POST') {
    const share = await shareConversation(conversationStoreFromEnv(), sub, conversationId);
    return json(event, 200, shareView(share, config().webOrigin));
  }
  if (event.httpMethod === 'DELETE') {
    await revokeShare(conversationStoreFromEnv(), sub, conversationId);
    return json(event, 200, { id: conversationId, object: 'conversation.share.deleted', deleted: true });
  }
  throw new MethodNotAllowedError(event.httpMethod);
}

export async function sharedRoute(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  let headers: Record<string, string> = PUBLIC_HEADERS;
  try {
    const cfg = config();
    const limit = await consumeSharedRead(
      {
        db: documentClient(),
        tableName: required(cfg.tableName, EnvName.tableName),
        region: cfg.region,
        regions: cfg.tableRegions ?? [],
      },
      event,
      sharedReadsPerMinute,
    );
    headers = { ...routeLimitHeaders(limit), ...PUBLIC_HEADERS };
    const parsed = ShareId.safeParse(event.pathParameters?.share_id);
    if (!parsed.success) throw new NotFoundError('Shared conversation', 'share_id');
    return json(event, 200, await sharedConversation(conversationStoreFromEnv(), parsed.data), headers);
  } catch (error) {
    // Refusals (404 once revoked, 429) carry the window and are not to be indexed or cached either.
    if (!(error instanceof ApiError)) throw error;
    throw new ApiError(error.statusCode, error.type, error.message, error.param, error.code, {
      ...headers,
      ...error.headers,
    });
  }
}
