import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  type Conversation,
  ConversationId,
  type ConversationList,
  ConversationListQuery,
  ConversationPatch,
  type ConversationWithMessages,
} from '../contracts/api';
import { feedbackRoute } from '../feedback/route';
import { deleteFeedbackOf, feedbackOf, feedbackView } from '../feedback/store';
import { removeFromIndex } from '../search/index-store';
import { searchConversations } from '../search/search';
import { callerOf } from '../shared/auth';
import { config } from '../shared/config';
import { MethodNotAllowedError, NotFoundError } from '../shared/errors';
import { apiMiddlewares, json } from '../shared/http';
import { logger } from '../shared/powertools';
import { SHARED_ROUTE_PATH, sharedRoute, shareRoute } from '../sharing/route';
import { revokeShareIfAny } from '../sharing/store';
import { parseJsonBody, parseQuery } from '../validation';
import { activeLeaf, newestLeafUnder, withParents } from './branches';
import { conversationStoreFromEnv } from './deps';
import { patchConversation } from './find';
import {
  allMessages,
  type ConversationRecord,
  deleteConversation,
  listConversations,
  requireConversation,
  type StoredMessage,
} from './store';

/** `/v1/conversations[/{id}]`: list (newest first, paged), get with messages, rename, delete — the caller's only. */
// Read at load: a bad variable fails the cold start, not a request.
config();
const store = conversationStoreFromEnv;

export function conversationView(record: ConversationRecord): Conversation {
  return {
    id: record.conversationId,
    object: 'conversation',
    title: record.title,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    message_count: record.messageCount,
    ...(record.fileIds?.length ? { file_ids: [...record.fileIds] } : {}),
    pinned: record.pinned === true,
    ...(record.systemPrompt === undefined ? {} : { system_prompt: record.systemPrompt }),
  };
}

export function messageView(message: StoredMessage): ConversationWithMessages['messages'][number] {
  return {
    id: message.messageId,
    parent_id: message.parentId ?? null,
    role: message.role,
    content: message.content,
    created_at: message.createdAt,
    status: message.status,
    model: message.model ?? null,
    usage: message.usage ?? null,
    ...(message.citations?.length ? { citations: [...message.citations] } : {}),
    ...(message.toolCalls ? { tool_calls: [...message.toolCalls] } : {}),
    ...(message.toolCallId ? { tool_call_id: message.toolCallId } : {}),
    ...(message.reasoning ? { reasoning_content: message.reasoning } : {}),
  };
}

/** A malformed id names no conversation of the caller's: the same 404 as someone else's id. */
function conversationIdOf(event: APIGatewayProxyEvent): string {
  const parsed = ConversationId.safeParse(event.pathParameters?.id);
  if (!parsed.success) throw new NotFoundError('Conversation', 'id');
  return parsed.data;
}

/** The branch through `messageId`, as its newest leaf; a message not in the conversation is a 404 naming the field. */
async function leafThrough(sub: string, conversationId: string, messageId: string): Promise<string> {
  await requireConversation(store(), sub, conversationId);
  const messages = withParents(await allMessages(store(), sub, conversationId));
  if (!messages.some((message) => message.messageId === messageId))
    throw new NotFoundError('Message', 'current_message_id');
  return newestLeafUnder(messages, messageId);
}

async function route(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  // Feedback and share links (lambdas/feedback, lambdas/sharing); the shared page needs no caller.
  if (event.resource === SHARED_ROUTE_PATH) return sharedRoute(event);
  const { sub } = callerOf(event);
  if (event.resource?.endsWith('/feedback')) return feedbackRoute(event, sub);
  if (event.resource?.endsWith('/share')) return shareRoute(event, sub);
  const hasId = event.pathParameters?.id !== undefined;
  const method = event.httpMethod;
  if (!hasId && method === 'GET') {
    const query = parseQuery(event.queryStringParameters, ConversationListQuery);
    if (query.q !== undefined) {
      const found = await searchConversations(store(), sub, query.q, query.limit);
      logger.info('search', { results: found.hits.length, readUnits: found.readUnits });
      const results: ConversationList = {
        object: 'list',
        data: found.hits.map((hit) => ({ ...conversationView(hit.conversation), snippet: hit.snippet })),
        has_more: found.hasMore,
        next_cursor: null,
      };
      return json(event, 200, results);
    }
    const page = await listConversations(store(), sub, query);
    const body: ConversationList = {
      object: 'list',
      data: page.conversations.map(conversationView),
      has_more: page.nextCursor !== null,
      next_cursor: page.nextCursor,
    };
    return json(event, 200, body);
  }
  if (hasId) {
    const id = conversationIdOf(event);
    if (method === 'GET') {
      const conversation = await requireConversation(store(), sub, id);
      const messages = withParents(await allMessages(store(), sub, id));
      const feedback = await feedbackOf(store(), sub, id);
      const body: ConversationWithMessages = {
        ...conversationView(conversation),
        messages: messages.map((message) => {
          const rated = feedback.get(message.messageId);
          return { ...messageView(message), ...(rated ? { feedback: feedbackView(rated) } : {}) };
        }),
        current_message_id: activeLeaf(messages, conversation.currentMessageId)?.messageId ?? null,
      };
      return json(event, 200, body);
    }
    if (method === 'PATCH') {
      const patch = parseJsonBody(event, ConversationPatch);
      const currentMessageId =
        patch.current_message_id === undefined
          ? undefined
          : await leafThrough(sub, id, patch.current_message_id);
      const updated = await patchConversation(store(), sub, id, patch, currentMessageId);
      return json(event, 200, conversationView(updated));
    }
    if (method === 'DELETE') {
      await requireConversation(store(), sub, id);
      await revokeShareIfAny(store(), sub, id);
      await deleteFeedbackOf(store(), sub, id);
      await deleteConversation(store(), sub, id);
      await removeFromIndex(store(), sub, id);
      return json(event, 200, { id, object: 'conversation.deleted', deleted: true });
    }
  }
  throw new MethodNotAllowedError(method);
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(route);
