import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { UserErasedError } from './errors';

/** How long the marker outlives the erasure: well past the second sweep, then it expires (TTL). */
export const ERASE_MARKER_DAYS = 7;

interface MarkerDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Records that `sub`'s data is erased as of `erasedAtMs` (a later erasure moves it forward). */
export async function markErased(deps: MarkerDeps, sub: string, erasedAtMs: number): Promise<void> {
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: {
        ...keys.eraseMarker(sub),
        erasedAt: erasedAtMs,
        [TABLE.ttlAttribute]: Math.floor(erasedAtMs / 1000) + ERASE_MARKER_DAYS * 86_400,
      },
    }),
  );
}

/** When `sub`'s data was last erased (epoch ms), if it was (a strongly consistent read). */
export async function erasedAt(deps: MarkerDeps, sub: string): Promise<number | undefined> {
  const output = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.eraseMarker(sub), ConsistentRead: true }),
  );
  const at = output.Item?.erasedAt;
  return typeof at === 'number' ? at : undefined;
}

/**
 * Refuses the write of work that started at `startedAtMs` when the user's data was erased since: a stream or a
 * job in flight during `DELETE /v1/me` cannot bring back what the erasure removed.
 */
export async function refuseWritesAfterErasure(
  deps: MarkerDeps,
  sub: string,
  startedAtMs: number,
): Promise<void> {
  const at = await erasedAt(deps, sub);
  if (at !== undefined && at >= startedAtMs) throw new UserErasedError();
}
