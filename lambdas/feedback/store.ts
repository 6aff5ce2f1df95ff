import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  FEEDBACK_LIMITS,
  type FeedbackRating,
  type FeedbackRequest,
  type MessageFeedback,
} from '../contracts/feedback';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import {
  allMessages,
  type ConversationStore,
  deleteKeys,
  expiresAtFor,
  isExpired,
  itemsWithPrefix,
  requireConversation,
} from '../conversations/store';
import { NotFoundError, ValidationError } from '../shared/errors';

/**
 * Feedback on answers: one item per rated answer in the rater's partition (`FEEDBACK#<conversation>#<message>`),
 * indexed on GSI1 by the UTC day it was last rated (`FEEDBACK#<day>`) for the admin list. The item keeps the
 * answer's model and its first characters, so the admin list is one index query per day.
 */
export interface FeedbackRecord {
  readonly conversationId: string;
  readonly messageId: string;
  readonly rating: FeedbackRating;
  readonly comment: string | null;
  readonly model: string | null;
  readonly updatedAt: string;
}

/** What a rating changed: the feedback now (null when cleared) and before. */
export interface FeedbackChange {
  readonly feedback: FeedbackRecord | null;
  readonly previous: FeedbackRecord | null;
}

export function feedbackView(record: FeedbackRecord): MessageFeedback {
  return { rating: record.rating, comment: record.comment, updated_at: record.updatedAt };
}

function toRecord(item: Record<string, unknown> | undefined): FeedbackRecord | null {
  if (!item || (item.rating !== 'up' && item.rating !== 'down')) return null;
  return {
    conversationId: String(item.conversationId),
    messageId: String(item.messageId),
    rating: item.rating,
    comment: typeof item.comment === 'string' ? item.comment : null,
    model: typeof item.model === 'string' ? item.model : null,
    updatedAt: String(item.updatedAt),
  };
}

/**
 * Sets, changes or clears the caller's rating of one answer. Only an assistant message of the caller's own
 * conversation can be rated: any other id (someone else's, a question, a message of another conversation) is a
 * 404 naming `message_id`, and an answer still generating is a 400.
 */
export async function rateAnswer(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
  messageId: string,
  request: FeedbackRequest,
): Promise<FeedbackChange> {
  await requireConversation(deps, sub, conversationId);
  const message = (await allMessages(deps, sub, conversationId)).find((each) => each.messageId === messageId);
  if (message?.role !== 'assistant') throw new NotFoundError('Answer', 'message_id');
  if (message.status === 'generating')
    throw new ValidationError(
      'The answer is still being generated: rate it once it is finished.',
      'message_id',
    );
  const key = keys.feedback(sub, conversationId, messageId);
  if (request.rating === null) {
    const removed = await deps.db.send(
      new DeleteCommand({ TableName: deps.tableName, Key: key, ReturnValues: 'ALL_OLD' }),
    );
    return { feedback: null, previous: toRecord(removed.Attributes) };
  }
  const now = (deps.now ? deps.now() : new Date()).toISOString();
  const comment = request.comment;
  // A rating without `comment` keeps the earlier comment; an empty comment removes it.
  const setComment = comment !== undefined && comment !== '';
  const expiresAt = expiresAtFor(deps);
  const updated = await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: key,
      UpdateExpression: [
        'SET #type = :type, conversationId = :conversation, messageId = :message, rating = :rating',
        'updatedAt = :now, model = :model, answerExcerpt = :excerpt, gsi1pk = :day, gsi1sk = :order',
        // Kept as long as the messages are (MESSAGE_RETENTION_DAYS), so no rating outlives its answer.
        ...(expiresAt === undefined ? [] : ['#expires = :expires']),
        ...(setComment ? ['#comment = :comment'] : []),
      ]
        .join(', ')
        .concat(comment === '' ? ' REMOVE #comment' : ''),
      ExpressionAttributeNames: {
        '#type': 'type',
        ...(expiresAt === undefined ? {} : { '#expires': TABLE.ttlAttribute }),
        ...(comment !== undefined ? { '#comment': 'comment' } : {}),
      },
      ExpressionAttributeValues: {
        ':type': 'feedback',
        ':conversation': conversationId,
        ':message': messageId,
        ':rating': request.rating,
        ':now': now,
        ':model': message.model ?? null,
        ':excerpt': message.content.slice(0, FEEDBACK_LIMITS.answerExcerptChars),
        ':day': keys.feedbackIndex(now.slice(0, 10)),
        // Newest first within a day; the owner and message make the order key unique.
        ':order': `${now}#${sub}#${messageId}`,
        ...(setComment ? { ':comment': comment } : {}),
        ...(expiresAt === undefined ? {} : { ':expires': expiresAt }),
      },
      ReturnValues: 'ALL_OLD',
    }),
  );
  const previous = toRecord(updated.Attributes);
  return {
    previous,
    feedback: {
      conversationId,
      messageId,
      rating: request.rating,
      comment: setComment ? comment : comment === '' ? null : (previous?.comment ?? null),
      model: message.model ?? null,
      updatedAt: now,
    },
  };
}

/** The caller's feedback on the answers of one conversation, by message id. */
export async function feedbackOf(
  deps: ConversationStore,
  sub: string,
  conversationId: string,
): Promise<Map<string, FeedbackRecord>> {
  const records = (await itemsWithPrefix(deps, sub, keys.feedbackPrefix(conversationId)))
    .filter((item) => !isExpired(item, deps))
    .map(toRecord)
    .filter((record): record is FeedbackRecord => record !== null);
  return new Map(records.map((record) => [record.messageId, record]));
}

/** Removes the feedback on a conversation's answers (the conversation is being deleted). */
export async function deleteFeedbackOf(deps: ConversationStore, sub: string, conversationId: string) {
  const items = await itemsWithPrefix(deps, sub, keys.feedbackPrefix(conversationId));
  await deleteKeys(
    deps,
    items.map((item) => ({ pk: item.pk, sk: item.sk })),
  );
}

/** A stored feedback item as the export lists it. */
export function exportedFeedback(item: Record<string, unknown>) {
  const record = toRecord(item);
  return record
    ? {
        conversation_id: record.conversationId,
        message_id: record.messageId,
        ...feedbackView(record),
      }
    : undefined;
}
