import { keys } from '../contracts/keys';
import { USER_DATA_PREFIXES } from '../contracts/user-data';
import { type ConversationStore, deleteKeys } from '../conversations/store';
import { prefixPages } from './prefix-pages';

/**
 * The second sweep after an erasure, run once the longest stream or job that was in flight during it has ended
 * (`SECOND_SWEEP_DELAY_SECONDS`): it removes what such work wrote after the first sweep — a message whose write
 * raced the erase marker, a usage aggregate of a late analytics event, a file's passages — and keeps what the
 * user created since (an item that started after the erasure). Items that carry no start (counters and
 * aggregates) go unless the user has come back since; a file's passages follow their file.
 */
export interface SecondSweepDeps {
  readonly store: ConversationStore;
  /** Removes one file entirely (record, passages, vectors, object): `removeFile` of lambdas/files. */
  readonly removeFile: (sub: string, fileId: string) => Promise<void>;
  /** Removes an export's object from the exports bucket. */
  readonly removeExportObject: (objectKey: string) => Promise<void>;
}

/** When the work that wrote `item` started (epoch ms), when the item says. */
function startedAtMs(item: Record<string, unknown>): number | undefined {
  const created = item.createdAt;
  const at =
    typeof created === 'string'
      ? Date.parse(created)
      : typeof created === 'number'
        ? created < 1e12
          ? created * 1000
          : created
        : undefined;
  if (at === undefined || Number.isNaN(at)) return undefined;
  // An answer is stamped when it is written; its turn began `latencyMs` earlier.
  return typeof item.latencyMs === 'number' ? at - item.latencyMs : at;
}

/** Removes what in-flight work wrote since the erasure at `erasedAtMs`; returns how many items went. */
export async function secondSweep(deps: SecondSweepDeps, sub: string, erasedAtMs: number): Promise<number> {
  const isNew = (item: Record<string, unknown>) => (startedAtMs(item) ?? 0) > erasedAtMs;
  // First the files kept (their passages stay) and whether the user has come back at all.
  const keptFiles = new Set<string>();
  let cameBack = false;
  for (const { prefix } of USER_DATA_PREFIXES) {
    for await (const items of prefixPages(deps.store, sub, prefix)) {
      for (const item of items) {
        if (!isNew(item)) continue;
        cameBack = true;
        if (String(item.sk).startsWith(keys.filePrefix)) keptFiles.add(String(item.fileId));
      }
    }
  }
  let removed = 0;
  for (const { prefix } of USER_DATA_PREFIXES) {
    for await (const items of prefixPages(deps.store, sub, prefix)) {
      const gone = items.filter((item) => {
        if (String(item.sk).startsWith('CHUNK#')) return !keptFiles.has(String(item.fileId));
        if (startedAtMs(item) === undefined) return !cameBack;
        return !isNew(item);
      });
      for (const item of gone) {
        if (String(item.sk).startsWith(keys.filePrefix)) await deps.removeFile(sub, String(item.fileId));
        if (String(item.sk).startsWith('EXPORT#') && typeof item.objectKey === 'string')
          await deps.removeExportObject(item.objectKey);
      }
      await deleteKeys(
        deps.store,
        gone.map((item) => ({ pk: item.pk, sk: item.sk })),
      );
      removed += gone.length;
    }
  }
  return removed;
}
