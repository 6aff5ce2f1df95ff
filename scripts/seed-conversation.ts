/**
 * Writes a long conversation straight into the table (benchmarks and tests of long conversations): one chain of
 * alternating questions and answers, 25 items a request. Not used by the service.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from '../lambdas/contracts/keys';
import { newMessageId } from '../lambdas/conversations/store';

export interface SeededMessage {
  readonly messageId: string;
  readonly sequence: number;
  readonly content: string;
}

export async function seedConversation(
  db: DynamoDBDocumentClient,
  tableName: string,
  chain: {
    readonly sub: string;
    readonly conversationId: string;
    readonly count: number;
    readonly contentOf: (sequence: number) => string;
    /** The first this many are stored as before branches (no `parentId`). @default 0 */
    readonly withoutParents?: number;
  },
): Promise<SeededMessage[]> {
  const ids = Array.from({ length: chain.count }, () => newMessageId());
  const createdAt = new Date().toISOString();
  const items = ids.map((messageId, sequence) => ({
    ...keys.message(chain.sub, chain.conversationId, sequence),
    type: 'message',
    messageId,
    conversationId: chain.conversationId,
    sequence,
    role: sequence % 2 === 0 ? 'user' : 'assistant',
    content: chain.contentOf(sequence),
    ...(sequence < (chain.withoutParents ?? 0) ? {} : { parentId: ids[sequence - 1] ?? null }),
    createdAt,
    status: 'complete',
  }));
  for (let index = 0; index < items.length; index += 25) {
    const batch = items.slice(index, index + 25).map((Item) => ({ PutRequest: { Item } }));
    await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: batch } }));
  }
  return items.map(({ messageId, sequence, content }) => ({ messageId, sequence, content }));
}
