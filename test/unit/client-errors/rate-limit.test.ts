import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowCounter } from '../../../lambdas/client-errors/rate-limit';
import { TABLE } from '../../../lambdas/contracts/table';
import { QuotaExceededError } from '../../../lambdas/shared/errors';

// dynalite ships no type declarations; its factory returns a plain node:http server.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs: number }) => Server;

const TABLE_NAME = 'rate-limit-test';
let server: Server;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE_NAME,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  client = DynamoDBDocumentClient.from(raw);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const WINDOW_START = Date.parse('2026-11-23T17:00:00.000Z');

describe('windowCounter', () => {
  it('accepts exactly the limit in one window, then refuses with the seconds left', async () => {
    const counter = windowCounter(client, TABLE_NAME, { name: 'test', limit: 3, windowSeconds: 60 });
    for (let i = 0; i < 3; i += 1) await counter.consume('user-1', WINDOW_START + 1000);

    const refused = await counter.consume('user-1', WINDOW_START + 15_000).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(QuotaExceededError);
    expect((refused as QuotaExceededError).headers['retry-after']).toBe('45');
  });

  it('starts counting again in the next window', async () => {
    const counter = windowCounter(client, TABLE_NAME, { name: 'test', limit: 1, windowSeconds: 60 });
    await counter.consume('user-2', WINDOW_START);
    await expect(counter.consume('user-2', WINDOW_START + 59_000)).rejects.toBeInstanceOf(QuotaExceededError);

    await expect(counter.consume('user-2', WINDOW_START + 60_000)).resolves.toBeUndefined();
  });

  it('keeps separate counts per user and per counter name', async () => {
    const errors = windowCounter(client, TABLE_NAME, { name: 'errors', limit: 1, windowSeconds: 60 });
    const other = windowCounter(client, TABLE_NAME, { name: 'other', limit: 1, windowSeconds: 60 });
    await errors.consume('user-3', WINDOW_START);

    await expect(errors.consume('user-4', WINDOW_START)).resolves.toBeUndefined();
    await expect(other.consume('user-3', WINDOW_START)).resolves.toBeUndefined();
  });

  it('never lets concurrent requests past the limit', async () => {
    const counter = windowCounter(client, TABLE_NAME, { name: 'burst', limit: 5, windowSeconds: 60 });

    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => counter.consume('user-5', WINDOW_START)),
    );

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
  });
});
