import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import type { ConversationStore } from '../conversations/store';

/**
 * The items of one sort-key prefix of `sub`'s partition, one strongly consistent page at a time: export and
 * erasure hold one page in memory whatever the account's size.
 */
export async function* prefixPages(
  store: Pick<ConversationStore, 'db' | 'tableName'>,
  sub: string,
  prefix: string,
  options: { readonly projection?: string; readonly pageSize?: number } = {},
): AsyncGenerator<Record<string, unknown>[]> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
        ProjectionExpression: options.projection,
        Limit: options.pageSize,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}
