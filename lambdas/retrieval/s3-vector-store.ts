import {
  DeleteVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  type S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import type { ChunkVector, VectorMatch, VectorStore } from './vector-store';

/**
 * Chunk vectors in Amazon S3 Vectors: one index per region, each vector keyed `<file id>#<chunk index>` with
 * filterable metadata `owner` and `file_id`; every query filters on both, so an owner only ever matches their own
 * chunks. The index uses cosine distance (similarity = 1 − distance).
 */
export interface S3VectorStoreDeps {
  readonly client: S3VectorsClient;
  readonly indexArn: string;
}

/** S3 Vectors takes at most 500 vectors per PutVectors and 500 keys per DeleteVectors; topK at most 100. */
const PER_CALL = 500;
const MAX_TOP_K = 100;

const vectorKey = (fileId: string, chunkIndex: number) => `${fileId}#${chunkIndex}`;

export function createS3VectorStore(deps: S3VectorStoreDeps): VectorStore {
  const index = { indexArn: deps.indexArn };
  return {
    async upsert(sub: string, fileId: string, vectors: readonly ChunkVector[]) {
      for (let start = 0; start < vectors.length; start += PER_CALL) {
        await deps.client.send(
          new PutVectorsCommand({
            ...index,
            vectors: vectors.slice(start, start + PER_CALL).map((entry) => ({
              key: vectorKey(fileId, entry.chunkIndex),
              data: { float32: [...entry.vector] },
              metadata: { owner: sub, file_id: fileId, chunk: entry.chunkIndex },
            })),
          }),
        );
      }
    },

    async query(sub: string, fileIds: readonly string[], vector: Float32Array, topK: number) {
      if (fileIds.length === 0) return [];
      const output = await deps.client.send(
        new QueryVectorsCommand({
          ...index,
          topK: Math.min(topK, MAX_TOP_K),
          queryVector: { float32: [...vector] },
          filter: { $and: [{ owner: { $eq: sub } }, { file_id: { $in: [...fileIds] } }] },
          returnMetadata: true,
          returnDistance: true,
        }),
      );
      const matches: VectorMatch[] = [];
      for (const match of output.vectors ?? []) {
        const metadata = match.metadata as
          | { owner?: unknown; file_id?: unknown; chunk?: unknown }
          | undefined;
        // Defence in depth: the filter already scoped the query to the owner's files.
        if (metadata?.owner !== sub || typeof metadata.file_id !== 'string') continue;
        if (!fileIds.includes(metadata.file_id) || typeof metadata.chunk !== 'number') continue;
        matches.push({
          fileId: metadata.file_id,
          chunkIndex: metadata.chunk,
          similarity: 1 - (match.distance ?? 1),
        });
      }
      return matches;
    },

    async deleteFile(_sub: string, fileId: string, chunkCount: number) {
      for (let start = 0; start < chunkCount; start += PER_CALL) {
        const keys = Array.from({ length: Math.min(PER_CALL, chunkCount - start) }, (_, i) =>
          vectorKey(fileId, start + i),
        );
        await deps.client.send(new DeleteVectorsCommand({ ...index, keys }));
      }
    },
  };
}
