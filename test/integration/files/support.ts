/** What the files integration tests share: SDK clients per user, retrieval wired to the stack's table, waiting. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import OpenAI, { toFile } from 'openai';
import type { FileObject } from '../../../lambdas/contracts/files';
import { createFileObjects } from '../../../lambdas/files/objects';
import type { FilesDeps } from '../../../lambdas/files/service';
import { createFileStore } from '../../../lambdas/files/store';
import { type RetrievalRequest, retrieve } from '../../../lambdas/retrieval';
import { createTableVectorStore } from '../../../lambdas/retrieval/table-vector-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../../../scripts/local/emulators';
import { LOCAL_FILES } from '../../../scripts/local/files-resources';
import { apiBase, machineToken, stack } from '../setup/context';

export async function openaiFor(user: 'a' | 'b'): Promise<OpenAI> {
  // No retries: a test must see the first answer.
  return new OpenAI({ baseURL: apiBase(), apiKey: await machineToken(user), maxRetries: 0 });
}

let dynamo: DynamoDBDocumentClient | undefined;

/** The file store and retrieval over the local stack's table, as the chat pipeline will use them. */
export function retrievalDeps() {
  dynamo ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack().dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
  const store = createFileStore({ dynamo, tableName: LOCAL_TABLE_NAME });
  return { store, vectors: createTableVectorStore({ dynamo, tableName: LOCAL_TABLE_NAME }) };
}

/** The Files domain over the local stack's table and bucket, as the `/v1/me` handler will use it. */
export function filesDeps(): FilesDeps {
  const s3 = new S3Client({
    endpoint: stack().s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  return {
    ...retrievalDeps(),
    objects: createFileObjects({ s3, bucket: LOCAL_FILES.bucket }),
    maxBytes: 50 * 1024 * 1024,
    quotaBytesPerUser: 10 * 1024 * 1024,
  };
}

export function search(request: RetrievalRequest) {
  return retrieve(retrievalDeps(), request);
}

/** The subject of a machine client's tokens (the `sub` every item is keyed by). */
export async function subOf(user: 'a' | 'b'): Promise<string> {
  const token = await machineToken(user);
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sub: string;
  };
  return payload.sub;
}

/** Polls the file (through the API) until ingestion settled it; the settled state is the event we wait for. */
export async function settled(client: OpenAI, fileId: string, timeoutMs = 60_000): Promise<FileObject> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const file = (await client.files.retrieve(fileId)) as unknown as FileObject;
    if (file.status !== 'uploaded') return file;
    if (Date.now() > deadline) throw new Error(`file ${fileId} still uploaded after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Uploads bytes with the SDK's `files.create` and waits until ingestion settled the file. */
export async function uploadSettled(
  client: OpenAI,
  bytes: Uint8Array,
  filename: string,
  purpose: 'assistants' | 'user_data' = 'assistants',
): Promise<FileObject> {
  const created = await client.files.create({ file: await toFile(Buffer.from(bytes), filename), purpose });
  return settled(client, created.id);
}
