import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';

/**
 * Account suspension: one item per suspended subject (`keys.suspension`). The authorizer reads it for every
 * credential it verified — access tokens and API keys alike — so a suspension takes effect at the next request
 * the authorizer evaluates (in the cloud API Gateway may reuse an answer cached for the same Authorization
 * header for up to 60 s). Lifting it deletes the item.
 */
export interface SuspensionDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
}

export interface Suspension {
  readonly sub: string;
  readonly suspendedAt: string;
  /** The administrator who suspended the account. */
  readonly suspendedBy: string;
  readonly reason?: string;
}

export async function findSuspension(deps: SuspensionDeps, sub: string): Promise<Suspension | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: keys.suspension(sub), ConsistentRead: true }),
  );
  if (!Item) return undefined;
  return {
    sub,
    suspendedAt: String(Item.suspendedAt),
    suspendedBy: String(Item.suspendedBy),
    ...(typeof Item.reason === 'string' ? { reason: Item.reason } : {}),
  };
}

export async function suspendAccount(deps: SuspensionDeps, suspension: Suspension): Promise<void> {
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: { ...keys.suspension(suspension.sub), entity: 'suspension', ...suspension },
    }),
  );
}

export async function liftSuspension(deps: SuspensionDeps, sub: string): Promise<void> {
  await deps.db.send(new DeleteCommand({ TableName: deps.tableName, Key: keys.suspension(sub) }));
}
