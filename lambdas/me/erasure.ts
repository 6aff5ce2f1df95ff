import { USER_DATA_PREFIXES } from '../contracts/user-data';
import { type ConversationStore, deleteKeys } from '../conversations/store';
import { markErased } from '../shared/erase-marker';
import { revokeAllShares } from '../sharing/store';
import { prefixPages } from './prefix-pages';

/**
 * GDPR erasure of one user: mark the erasure first (work in flight writes nothing after it), remove the files
 * (objects and vectors live outside the table) and exports, sweep every registered prefix of user data, then
 * schedule the second sweep that removes what work in flight wrote after all. Quota counters
 * and the slots of turns and jobs in progress are not user data and stay (lambdas/contracts/user-data.ts).
 */
export interface ErasureDeps {
  readonly store: ConversationStore;
  /** Erases the user's files (`eraseFiles` of lambdas/files) before their records are swept. */
  readonly eraseFiles: (sub: string) => Promise<{ files: number }>;
  /** Removes the user's export objects from the exports bucket. @default none to remove */
  readonly eraseExports?: (sub: string) => Promise<void>;
  /**
   * Schedules the second sweep (lambdas/me/second-sweep.ts) for after the longest stream or job in flight can
   * have ended. @default none scheduled
   */
  readonly scheduleSecondSweep?: (sub: string, erasedAtMs: number) => Promise<void>;
  readonly now?: () => Date;
}

export async function eraseUserData(
  deps: ErasureDeps,
  sub: string,
): Promise<{ files: number; items: number }> {
  const erasedAtMs = (deps.now ? deps.now() : new Date()).getTime();
  await markErased(deps.store, sub, erasedAtMs);
  const { files } = await deps.eraseFiles(sub);
  await deps.eraseExports?.(sub);
  // Public share snapshots live outside the user's partition: revoke them before the sweep removes their owners.
  await revokeAllShares(deps.store, sub);
  const items = await sweepUserData(deps.store, sub);
  // Last: a failure before it answers 5xx, and the (idempotent) erasure is asked again.
  await deps.scheduleSecondSweep?.(sub, erasedAtMs);
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
    // A page is deleted before the next is read; deleting does not disturb the query's position.
    for await (const items of prefixPages(store, sub, prefix, { projection: 'pk, sk' })) {
      await deleteKeys(
        store,
        items.map((item) => ({ pk: item.pk, sk: item.sk })),
      );
      deleted += items.length;
    }
  }
  return deleted;
}
