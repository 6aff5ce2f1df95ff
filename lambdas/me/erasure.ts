import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { USER_DATA_PREFIXES } from '../contracts/user-data';
import { type ConversationStore, deleteKeys } from '../conversations/store';
import { markErased } from '../shared/erase-marker';
import { revokeAllShares } from '../sharing/store';

/**
 * GDPR erasure of one user: mark the erasure first (work in flight writes nothing after it), remove the files
 * (objects and vectors live outside the table), then sweep every registered prefix of user data. Quota counters
 * and the slots of turns and jobs in progress are not user data and stay (lambdas/contracts/user-data.ts).
 */
export interface ErasureDeps {
  readonly store: ConversationStore;
  /** Erases the user's files (`eraseFiles` of lambdas/files) before their records are swept. */
  readonly eraseFiles: (sub: string) => Promise<{ files: number }>;
  readonly now?: () => Date;
}

export async function eraseUserData(
  deps: ErasureDeps,
  sub: string,
): Promise<{ files: number; items: number }> {
  const erasedAtMs = (deps.now ? deps.now() : new Date()).getTime();
  await markErased(deps.store, sub, erasedAtMs);
  const { files } = await deps.eraseFiles(sub);
  // Public share snapshots live outside the user's partition: revoke them before the sweep removes their owners.
  await revokeAllShares(deps.store, sub);
  const items = await sweepUserData(deps.store, sub);
  return { files, items };
}

/**
 * Deletes every item of the registered user-data prefixes, one strongly consistent, paginated query per prefix
 * (a page is deleted before the next is read, so memory stays bounded). Idempotent: a second sweep after the
 * longest stream or job could have run finds what a writer racing the marker left, or nothing.
 */
export async function sweepUserData(store: ConversationStore, sub: string): Promise<number> {
  let deleted = 0;
  for (const { prefix } of USER_DATA_PREFIXES) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await store.db.send(
        new QueryCommand({
          TableName: store.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.userPartition(sub), ':prefix': prefix },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const items = page.Items ?? [];
      await deleteKeys(
        store,
        items.map((item) => ({ pk: item.pk, sk: item.sk })),
      );
      deleted += items.length;
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return deleted;
}
