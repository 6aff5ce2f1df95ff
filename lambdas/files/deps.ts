import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { EnvName } from '../contracts/env';
import { createBedrockEmbedder, createOpenAiEmbedder, type Embedder } from '../retrieval/embeddings';
import { createS3VectorStore } from '../retrieval/s3-vector-store';
import { createTableVectorStore } from '../retrieval/table-vector-store';
import type { VectorStore } from '../retrieval/vector-store';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { tracer } from '../shared/powertools';
import { s3Client } from '../shared/s3-client';
import { createFileObjects, type FileObjects } from './objects';
import { type FileSettings, loadFileSettings } from './settings';
import { createFileStore, type FileStore } from './store';

/** Everything the files handlers (API, ingest, dead letters) and retrieval need, built once from the environment. */
export interface FileDeps {
  readonly settings: FileSettings;
  readonly store: FileStore;
  readonly objects: FileObjects;
  readonly vectors: VectorStore;
  readonly embedder: Embedder | undefined;
}

export function fileDepsFromEnv(): FileDeps {
  const settings = loadFileSettings();
  const dynamo = documentClient();
  const tableName = required(config().tableName, EnvName.tableName);
  const embeddings = settings.embeddings;
  return {
    settings,
    store: createFileStore({ dynamo, tableName }),
    objects: createFileObjects({
      s3: s3Client(),
      bucket: required(settings.bucketName, EnvName.filesBucketName),
    }),
    vectors:
      settings.vectorIndexArn === undefined
        ? createTableVectorStore({ dynamo, tableName })
        : createS3VectorStore({
            client: tracer.captureAWSv3Client(new S3VectorsClient({})),
            indexArn: settings.vectorIndexArn,
          }),
    embedder:
      embeddings.provider === 'openai'
        ? createOpenAiEmbedder({ url: embeddings.url, model: embeddings.model })
        : embeddings.provider === 'bedrock'
          ? createBedrockEmbedder({
              client: tracer.captureAWSv3Client(new BedrockRuntimeClient({})),
              model: embeddings.model,
            })
          : undefined,
  };
}
