/**
 * Where chunk vectors live. Two implementations: on the chunk items in the table (`createTableVectorStore`, the
 * local default and any deployment without S3 Vectors) and Amazon S3 Vectors (`createS3VectorStore`). Every call
 * names the owner; a store never returns another owner's vectors.
 */
export interface ChunkVector {
  readonly chunkIndex: number;
  readonly vector: Float32Array;
}

export interface VectorMatch {
  readonly fileId: string;
  readonly chunkIndex: number;
  /** Cosine similarity, higher is closer. */
  readonly similarity: number;
}

export interface VectorStore {
  upsert(sub: string, fileId: string, vectors: readonly ChunkVector[]): Promise<void>;
  query(sub: string, fileIds: readonly string[], vector: Float32Array, topK: number): Promise<VectorMatch[]>;
  /** Removes the vectors of chunks `0 … chunkCount-1` of a file. */
  deleteFile(sub: string, fileId: string, chunkCount: number): Promise<void>;
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** Float32 little-endian bytes, the form vectors take on chunk items. */
export function vectorToBytes(vector: Float32Array): Uint8Array {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (const [i, value] of vector.entries()) view.setFloat32(i * 4, value, true);
  return bytes;
}

export function bytesToVector(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Float32Array(Math.floor(bytes.byteLength / 4));
  for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true);
  return vector;
}
