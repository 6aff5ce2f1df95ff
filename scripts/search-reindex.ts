/**
 * `npm run search:reindex -- --sub <sub>` rebuilds one user's search index; `--all` every user's (one Scan of the
 * table for conversation items, projected to their key: plan its read cost on a big table). Uses the AWS SDK's
 * usual credentials and region, and the table named by TABLE_NAME (locally, with the emulators' endpoint in
 * AWS_ENDPOINT_URL_DYNAMODB).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EnvName } from '../lambdas/contracts/env';
import { rebuildUserIndex } from '../lambdas/search/rebuild';
import { documentClient } from '../lambdas/shared/dynamodb-client';

const args = process.argv.slice(2);
const tableName = process.env[EnvName.tableName];
if (!tableName) throw new Error(`${EnvName.tableName} must name the table.`);
const store = { db: documentClient(), tableName, retentionDays: 0 };

async function allSubs(): Promise<string[]> {
  const subs = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#type = :conversation',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':conversation': 'conversation' },
        ProjectionExpression: 'pk',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) subs.add(String(item.pk).replace(/^USER#/, ''));
    start = page.LastEvaluatedKey;
  } while (start);
  return [...subs];
}

const at = args.indexOf('--sub');
const subs =
  at >= 0 && args[at + 1] ? [args[at + 1] as string] : args.includes('--all') ? await allSubs() : [];
if (subs.length === 0) throw new Error('Usage: npm run search:reindex -- --sub <sub> | --all');
for (const sub of subs) console.log(`${sub}: ${await rebuildUserIndex(store, sub)} conversations indexed`);
