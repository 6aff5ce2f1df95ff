import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type ApiKeyItem, apiKeyView } from '../api-keys/store';
import { type Export, type ExportedJob, type UsageDay, UsageQuery, type UsageReport } from '../contracts/api';
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
import { fileDepsFromEnv } from '../files/deps';
import { eraseFiles, exportFiles, type FilesDeps } from '../files/service';
import type { JobItem } from '../jobs/store';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { MethodNotAllowedError } from '../shared/errors';
import { apiMiddlewares, json } from '../shared/http';
import { kinesisClient } from '../shared/kinesis-client';
import { parseQuery } from '../validation';
import { eraseUserData } from './erasure';

/** `/v1/me/*`: the caller's own data — usage, export (GDPR portability) and erasure (GDPR erasure). */
const cfg = config();
let emitter: EventEmitter | undefined;
const store = conversationStoreFromEnv;
let files: FilesDeps | undefined;
/** The files service's dependencies, built on first export or erasure (the other routes need no bucket). */
function filesDeps(): FilesDeps {
  if (files) return files;
  const built = fileDepsFromEnv();
  files = {
    ...built,
    maxBytes: built.settings.maxBytes,
    quotaBytesPerUser: built.settings.quotaBytesPerUser,
  };
  return files;
}

/** Audit events for export and erasure; sent after the work, never failing the request. */
async function audit(event: APIGatewayProxyEvent, type: AnalyticsEvent['type'], sub: string): Promise<void> {
  if (!cfg.eventsStreamName) return;
  emitter ??= createEventEmitter({ kinesis: kinesisClient(), streamName: cfg.eventsStreamName });
  await emitter.emitEvents([
    buildEvent({ type, sub, requestId: event.requestContext.requestId.slice(0, 64), status: 'ok' }),
  ]);
}

function usageDayOf(item: Record<string, unknown>): UsageDay {
  const count = (name: string) =>
    typeof item[name] === 'number' ? Math.max(0, Math.floor(item[name] as number)) : 0;
  return {
    date: String(item.date ?? String(item.sk).slice('USAGE#'.length)),
    requests: count('requests'),
    prompt_tokens: count('tokensIn'),
    completion_tokens: count('tokensOut'),
  };
}

function exportedJob(item: Record<string, unknown>): ExportedJob {
  const job = item as unknown as JobItem;
  return {
    id: job.jobId,
    status: job.status,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    ...(job.conversationId === undefined ? {} : { conversation_id: job.conversationId }),
    request: { ...job.request },
    ...(job.result === undefined ? {} : { result: { ...job.result } }),
    ...(job.error === undefined ? {} : { error: job.error }),
  };
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
  if (method === 'DELETE' && path.endsWith('/me')) {
    // Idempotent: a second erasure finds nothing and answers the same. The caller's limits survive it.
    await eraseUserData({ store: store(), eraseFiles: (owner) => eraseFiles(filesDeps(), owner) }, sub);
    await audit(event, 'data.erased', sub);
    return json(event, 200, { id: sub, object: 'user.data', deleted: true });
  }
  throw new MethodNotAllowedError(method);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(route);
