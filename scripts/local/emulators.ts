/**
 * The AWS emulators of the local stack: dynalite (DynamoDB), fauxqs (SQS) and kinesalite (Kinesis), in one process.
 * The table is created from the same definition the CDK stack deploys (`lambdas/contracts/table.ts`).
 */

import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import kinesalite from 'kinesalite';
import { TABLE, type TableDefinition } from '../../lambdas/contracts/table';

export const LOCAL_TABLE_NAME = 'chatstack';
export const LOCAL_REGION = 'us-east-1';
/** The emulators accept any credentials; the SDK still needs some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface EmulatorOptions {
  readonly host: string;
  readonly dynamodbPort: number;
  readonly sqsPort: number;
  readonly kinesisPort: number;
  /** LevelDB directory for DynamoDB data. @default in memory */
  readonly dynamodbPath?: string;
}

export interface RunningEmulators {
  readonly dynamodbUrl: string;
  readonly sqsUrl: string;
  readonly kinesisUrl: string;
  close(): Promise<void>;
}

/** The CreateTable request for a table definition: on-demand, keys and GSIs as declared. */
export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Set<string>([definition.partitionKey, definition.sortKey]);
  for (const index of definition.globalSecondaryIndexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: definition.partitionKey, KeyType: 'HASH' },
      { AttributeName: definition.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startEmulators(options: EmulatorOptions): Promise<RunningEmulators> {
  if (options.dynamodbPath) await mkdir(options.dynamodbPath, { recursive: true });
  const dynamo: Server = dynalite({
    path: options.dynamodbPath,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await listen(dynamo, options.dynamodbPort, options.host);
  const dynamodbUrl = `http://${options.host}:${options.dynamodbPort}`;

  const kinesis: Server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
  });
  await listen(kinesis, options.kinesisPort, options.host);

  // fauxqs binds every interface; its `host` option only names the queue URLs (`sqs.<region>.localhost`).
  const sqs = await startFauxqs({ port: options.sqsPort, host: 'localhost', logger: false });

  const client = new DynamoDBClient({
    endpoint: dynamodbUrl,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await client.send(new CreateTableCommand(createTableInput(TABLE, LOCAL_TABLE_NAME)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error; // persisted data from an earlier run
  } finally {
    client.destroy();
  }

  return {
    dynamodbUrl,
    sqsUrl: `http://${options.host}:${sqs.port}`,
    kinesisUrl: `http://${options.host}:${options.kinesisPort}`,
    close: async () => {
      await Promise.all([closeServer(dynamo), closeServer(kinesis), sqs.stop()]);
    },
  };
}
