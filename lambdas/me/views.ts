import { type ApiKeyItem, apiKeyView } from '../api-keys/store';
import type { ExportedJob, UsageDay } from '../contracts/api';
import { keys } from '../contracts/keys';
import type { UserDataPrefix } from '../contracts/user-data';
import { conversationView, messageView } from '../conversations/handler';
import { toConversation, toMessage } from '../conversations/store';
import { toFileObject } from '../files/service';
import type { FileItem } from '../files/store';
import type { JobItem } from '../jobs/store';

/** How an export shows each kind of user data: the API's own views where there is one, never a key or a hash. */

export function usageDayOf(item: Record<string, unknown>): UsageDay {
  const count = (name: string) =>
    typeof item[name] === 'number' ? Math.max(0, Math.floor(item[name] as number)) : 0;
  return {
    date: String(item.date ?? String(item.sk).slice('USAGE#'.length)),
    requests: count('requests'),
    prompt_tokens: count('tokensIn'),
    completion_tokens: count('tokensOut'),
  };
}

export function exportedJob(item: Record<string, unknown>): ExportedJob {
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

/** Attributes that locate or index an item, or prove a secret: never part of an export. */
const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'secretHash']);

/** Any other item: its attributes (sets as sorted arrays), without keys. */
function attributesOf(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(item)
      .filter(([name]) => !INTERNAL.has(name))
      .map(([name, value]) => [name, value instanceof Set ? [...value].sort() : value]),
  );
}

/** One item of `kind` as the export shows it. */
export function exportedItem(kind: UserDataPrefix['kind'], item: Record<string, unknown>): unknown {
  const sk = String(item.sk);
  switch (kind) {
    case 'conversations': {
      const conversation = toConversation(item);
      return { ...conversationView(conversation), current_message_id: conversation.currentMessageId ?? null };
    }
    case 'messages': {
      const message = toMessage(item);
      return { conversation_id: message.conversationId, ...messageView(message) };
    }
    case 'jobs':
      return exportedJob(item);
    case 'usage':
      return sk.startsWith('USAGE#') ? usageDayOf(item) : attributesOf(item);
    case 'api_keys':
      return sk.startsWith(keys.apiKeyPrefix)
        ? apiKeyView(item as unknown as ApiKeyItem)
        : attributesOf(item);
    case 'files':
      return sk.startsWith(keys.filePrefix) ? toFileObject(item as unknown as FileItem) : attributesOf(item);
    default:
      return attributesOf(item);
  }
}
