/** What the auth tests share: plain API calls, the stack's table, and the audit records of refusals. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../lambdas/contracts/keys';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { until } from '../async/harness';
import { apiBase, stack } from '../setup/context';

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function call(
  credential: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const response = await fetch(`${apiBase()}${path}`, {
    method,
    headers: {
      ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }),
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
}

let db: DynamoDBDocumentClient | undefined;
export function table(): DynamoDBDocumentClient {
  db ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
  return db;
}

/** Moves a key's expiry into the past, as the passing of its lifetime would. */
export async function expireKey(sub: string, keyId: string): Promise<void> {
  await table().send(
    new UpdateCommand({
      TableName: LOCAL_TABLE_NAME,
      Key: keys.apiKey(sub, keyId),
      UpdateExpression: 'SET keyExpiresAt = :past',
      ExpressionAttributeValues: { ':past': new Date(Date.now() - 1000).toISOString() },
    }),
  );
}

/** A usage item (owner's day or a key's day), as the usage aggregator wrote it. */
export async function usageOf(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
  return (await table().send(new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: key }))).Item;
}

export interface AuditedFailure {
  readonly requestId: string;
  readonly errorCode: string;
  readonly type: string;
}

/** The audit log's `auth.failed` records of these requests, once the events pipeline has delivered them all. */
export async function auditedFailures(requestIds: readonly string[]): Promise<AuditedFailure[]> {
  const day = new Date().toISOString().slice(0, 10);
  let found: AuditedFailure[] = [];
  await until(async () => {
    const output = await table().send(
      new QueryCommand({
        TableName: LOCAL_TABLE_NAME,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.audit(day, '', '').pk },
      }),
    );
    found = ((output.Items ?? []) as AuditedFailure[]).filter((item) => requestIds.includes(item.requestId));
    return found.length >= requestIds.length;
  }, 30_000);
  return found;
}
