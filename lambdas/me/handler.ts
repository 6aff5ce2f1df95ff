import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type ApiKeyItem, apiKeyView } from '../api-keys/store';
import {
  type Export,
  type ExportedJob,
  type UsageDay,
  UsageQuery,
  type UsageReport,
  UserSettingsUpdate,
} from '../contracts/api';
import { DataExportRequest, ExportId } from '../contracts/data-export';
import { type AnalyticsEvent, buildEvent } from '../contracts/events';
import { keys } from '../contracts/keys';
import { userDataKindOf } from '../contracts/user-data';
import { conversationStoreFromEnv } from '../conversations/deps';
import { conversationView, messageView } from '../conversations/handler';
import {
  type ConversationStore,
  isExpired,
  partitionItems,
  readMessage,
  toConversation,
  usageItems,
} from '../conversations/store';
import { createEventEmitter, type EventEmitter } from '../events/emitter';
import { exportedFeedback } from '../feedback/store';
import { exportFiles } from '../files/service';
import { exportedResponse } from '../responses/store';
import { settingsOf } from '../settings/store';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { MethodNotAllowedError, NotFoundError } from '../shared/errors';
import { apiMiddlewares, json } from '../shared/http';
import { kinesisClient } from '../shared/kinesis-client';
import { shareRecordOf, shareView } from '../sharing/store';
import { parseJsonBody, parseQuery } from '../validation';
import { erasureDepsFromEnv, exportDepsFromEnv, filesDeps } from './deps';
import { eraseUserData } from './erasure';
import { exportStatus, requestExport } from './exports';
import { settingsRoute } from './settings-route';
import { exportedJob, usageDayOf } from './views';

/** `/v1/me/*`: the caller's own data — usage, export (GDPR portability) and erasure (GDPR erasure). */
const cfg = config();
let emitter: EventEmitter | undefined;
const store = conversationStoreFromEnv;
/** Audit events for export and erasure; sent after the work, never failing the request. */
async function audit(event: APIGatewayProxyEvent, type: AnalyticsEvent['type'], sub: string): Promise<void> {
  if (!cfg.eventsStreamName) return;
  emitter ??= createEventEmitter({ kinesis: kinesisClient(), streamName: cfg.eventsStreamName });
  await emitter.emitEvents([
    buildEvent({ type, sub, requestId: event.requestContext.requestId.slice(0, 64), status: 'ok' }),
  ]);
}

/**
 * All of the caller's data as one document: conversations with their messages, jobs, usage, API keys and files.
 * Only items of a registered kind of user data are read (lambdas/contracts/user-data.ts); limits are not data.
 */
export function buildExport(
  sub: string,
  items: readonly Record<string, unknown>[],
  deps: ConversationStore,
  files: Export['files'] = [],
): Export {
  const live = items.filter(
    (item) => !isExpired(item, deps) && userDataKindOf(String(item.sk)) !== undefined,
  );
  const messagesByConversation = new Map<string, ReturnType<typeof messageView>[]>();
  for (const item of live) {
    if (item.type !== 'message') continue;
    const message = readMessage(deps, item);
    const list = messagesByConversation.get(message.conversationId) ?? [];
    list.push(messageView(message));
    messagesByConversation.set(message.conversationId, list);
  }
  return {
    object: 'export',
    exported_at: new Date().toISOString(),
    user: { sub },
    conversations: live
      .filter((item) => item.type === 'conversation')
      .map((item) => {
        const conversation = toConversation(item);
        return {
          ...conversationView(conversation),
          messages: messagesByConversation.get(conversation.conversationId) ?? [],
          current_message_id: conversation.currentMessageId ?? null,
        };
      }),
    jobs: live.filter((item) => item.entity === 'job').map(exportedJob),
    usage: live.filter((item) => String(item.sk).startsWith('USAGE#')).map(usageDayOf),
    api_keys: live
      .filter((item) => String(item.sk).startsWith(keys.apiKeyPrefix))
      .map((item) => apiKeyView(item as unknown as ApiKeyItem)),
    files,
    feedback: live
      .filter((item) => userDataKindOf(String(item.sk)) === 'feedback')
      .flatMap((item) => exportedFeedback(item) ?? []),
    shares: live
      .filter((item) => userDataKindOf(String(item.sk)) === 'shares')
      .flatMap((item) => {
        const share = shareRecordOf(item);
        return share ? [shareView(share, cfg.webOrigin)] : [];
      }),
    settings: settingsOf(live.find((item) => item.sk === keys.settings(sub).sk)),
    responses: live.filter((item) => String(item.sk).startsWith(keys.responsePrefix)).map(exportedResponse),
  };
}

async function usage(event: APIGatewayProxyEvent, sub: string): Promise<UsageReport> {
  const { days } = parseQuery(event.queryStringParameters, UsageQuery);
  const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return {
    object: 'usage',
    days: (await usageItems(store(), sub, from)).map(usageDayOf),
    limits: { requests_per_minute: cfg.requestsPerMinute, tokens_per_day: cfg.tokensPerDay },
  };
}

async function route(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const { sub } = callerOf(event);
  const method = event.httpMethod;
  const path = event.resource ?? event.path;
  if (method === 'POST' && path.endsWith('/me/export')) {
    // An export as a job: any account's size, no response limit; the caller polls for the download link.
    parseJsonBody({ body: event.body || '{}', isBase64Encoded: event.isBase64Encoded }, DataExportRequest);
    const started = await requestExport(exportDepsFromEnv(), sub);
    await audit(event, 'data.exported', sub);
    return json(event, 202, started, { location: `/v1/me/export/${started.id}` });
  }
  if (method === 'GET' && path.endsWith('/me/export/{id}')) {
    const parsed = ExportId.safeParse(event.pathParameters?.id);
    if (!parsed.success) throw new NotFoundError('Export', 'id');
    return json(event, 200, await exportStatus(exportDepsFromEnv(), sub, parsed.data));
  }
  if (method === 'GET' && path.endsWith('/me/export')) {
    const items = await partitionItems(store(), sub);
    const document: Export = buildExport(sub, items, store(), await exportFiles(filesDeps(), sub));
    await audit(event, 'data.exported', sub);
    return json(event, 200, document, {
      'content-disposition': 'attachment; filename="chatstack-export.json"',
    });
  }
  if (method === 'GET' && path.endsWith('/me/usage')) {
    return json(event, 200, await usage(event, sub));
  }
  if (path.endsWith('/me/settings') && (method === 'GET' || method === 'PUT')) {
    const update = method === 'PUT' ? parseJsonBody(event, UserSettingsUpdate) : undefined;
    return json(event, 200, await settingsRoute(store(), sub, update));
  }
  if (method === 'DELETE' && path.endsWith('/me')) {
    // Idempotent: a second erasure finds nothing and answers the same. The caller's limits survive it.
    await eraseUserData(erasureDepsFromEnv(), sub);
    await audit(event, 'data.erased', sub);
    return json(event, 200, { id: sub, object: 'user.data', deleted: true });
  }
  throw new MethodNotAllowedError(method);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(route);
