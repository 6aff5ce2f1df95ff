import { type BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';

/**
 * Embedding models for retrieval: an OpenAI-compatible `/v1/embeddings` server (llama-server with `--embeddings`,
 * or any other) or Amazon Bedrock (Titan Text Embeddings V2). Without one, retrieval is lexical (BM25) only.
 */
export interface Embedder {
  /** A stable name of the model, stored with the file so vectors of different models are never compared. */
  readonly model: string;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Inputs per request to an embeddings server, and the deadline of one request. */
const OPENAI_BATCH = 32;
const TIMEOUT_MS = 30_000;

export function createOpenAiEmbedder(options: {
  url: string;
  model: string;
  fetch?: typeof fetch;
}): Embedder {
  const send = options.fetch ?? fetch;
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/embeddings`;
  return {
    model: `openai:${options.model}`,
    async embed(texts) {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += OPENAI_BATCH) {
        const input = texts.slice(start, start + OPENAI_BATCH);
        const response = await send(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: options.model, input, encoding_format: 'float' }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        if (!response.ok) throw new Error(`embeddings server answered ${response.status}`);
        const body = (await response.json()) as { data?: { index?: number; embedding?: number[] }[] };
        const data = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
        if (data.length !== input.length)
          throw new Error('embeddings server returned the wrong number of vectors');
        for (const entry of data) vectors.push(Float32Array.from(entry.embedding ?? []));
      }
      return vectors;
    },
  };
}

/** Titan Text Embeddings V2 takes one text per call; a few calls run at once. */
const BEDROCK_CONCURRENCY = 4;

export function createBedrockEmbedder(options: { client: BedrockRuntimeClient; model: string }): Embedder {
  const embedOne = async (text: string) => {
    const output = await options.client.send(
      new InvokeModelCommand({
        modelId: options.model,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify({ inputText: text, normalize: true }),
      }),
    );
    const body = JSON.parse(new TextDecoder().decode(output.body)) as { embedding?: number[] };
    return Float32Array.from(body.embedding ?? []);
  };
  return {
    model: `bedrock:${options.model}`,
    async embed(texts) {
      const vectors: Float32Array[] = new Array(texts.length);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < texts.length; i = next++) vectors[i] = await embedOne(texts[i] ?? '');
      };
      await Promise.all(Array.from({ length: BEDROCK_CONCURRENCY }, worker));
      return vectors;
    },
  };
}
