import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/keys';
import { queryByPrefix } from '../files/store';
import {
  bytesToVector,
  type ChunkVector,
  cosineSimilarity,
  type VectorMatch,
  type VectorStore,
  vectorToBytes,
} from './vector-store';

/**
 * Chunk vectors kept on the chunk items themselves (attribute `vector`, float32 bytes) and searched exactly by
 * brute force: the owner's partition and the named files bound the scan. This is the local store and the
 * fallback without S3 Vectors; it needs nothing but the table, and deleting a file's chunks deletes its vectors.
 */
export interface TableVectorStoreDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
}

const CONCURRENT_WRITES = 8;

export function createTableVectorStore(deps: TableVectorStoreDeps): VectorStore {
  const { dynamo, tableName } = deps;
  return {
    async upsert(sub: string, fileId: string, vectors: readonly ChunkVector[]) {
      const queue = [...vectors];
      const write = async () => {
        for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
          await dynamo.send(
            new UpdateCommand({
              TableName: tableName,
              Key: keys.fileChunk(sub, fileId, entry.chunkIndex),
              ConditionExpression: 'attribute_exists(pk)',
              UpdateExpression: 'SET vector = :vector',
              ExpressionAttributeValues: { ':vector': vectorToBytes(entry.vector) },
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: CONCURRENT_WRITES }, write));
    },

    async query(sub: string, fileIds: readonly string[], vector: Float32Array, topK: number) {
      const matches: VectorMatch[] = [];
      for (const fileId of fileIds) {
        const items = await queryByPrefix<{ index?: unknown; vector?: unknown }>(
          deps,
          sub,
          keys.fileChunkPrefix(fileId),
          { projection: '#index, vector', names: { '#index': 'index' } },
        );
        for (const item of items) {
          if (!(item.vector instanceof Uint8Array) || typeof item.index !== 'number') continue;
          const similarity = cosineSimilarity(vector, bytesToVector(item.vector));
          matches.push({ fileId, chunkIndex: item.index, similarity });
        }
      }
      return matches.sort((a, b) => b.similarity - a.similarity).slice(0, topK);
    },

    // The vectors are attributes of the chunk items, which the file's deletion removes.
    async deleteFile() {},
  };
}
