/**
 * `npm run bench:files` — what files and retrieval cost.
 *
 * 1. Ingest throughput: a generated 100-page PDF (≈ 20 sentences a page) through PDF.js text extraction and
 *    chunking in this process (pages/s of the CPU work), then uploaded with the `openai` SDK to the local stack
 *    and timed until `processed` (pages/s end to end: API, s3rver, the S3 event on SQS, the ingest poller, table
 *    writes).
 * 2. Retrieval latency over a 1,000-chunk collection (one uploaded text file chunked into 1,000 passages):
 *    the first query of a Lambda (chunks read from the table, BM25 index built) and warm queries (index reused),
 *    p50/p99 over BENCH_QUERIES queries.
 * 3. Tokens retrieval adds per turn: the estimated prompt tokens of the quoted passages at a 1,500-token budget
 *    (a quarter of the default 6,000-token context budget).
 * Prints a Markdown table for docs/BENCHMARKS.md, with the machine's load before and after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import OpenAI, { toFile } from 'openai';
import { estimateTokens } from '../lambdas/context/window';
import { createFileStore } from '../lambdas/files/store';
import { chunkSegments } from '../lambdas/files-ingest/chunk';
import { extract } from '../lambdas/files-ingest/extract';
import { clearRetrievalCache, quoteUntrusted, retrieve } from '../lambdas/retrieval';
import { createTableVectorStore } from '../lambdas/retrieval/table-vector-store';
import { fillerText, makePdf } from '../test/helpers/pdf';
import { machineToken, percentile } from './bench-support';
import { loadLocalConfig } from './local/config';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from './local/emulators';
import { DEV_MACHINE_CLIENTS } from './local/identity';
import { freeStackPorts } from './local/ports';
import { startLocalStack } from './local/stack';

const PAGES = 100;
const CHUNKS = 1000;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const TOKEN_BUDGET = 1500;

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function waitProcessed(client: OpenAI, fileId: string): Promise<{ status: string }> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const file = await client.files.retrieve(fileId);
    if (file.status !== 'uploaded') return file;
    if (Date.now() > deadline) throw new Error(`${fileId} not processed in time`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

async function main(): Promise<void> {
  const loadBefore = load();
  const pdf = await makePdf(Array.from({ length: PAGES }, (_, page) => fillerText(page + 1, 20)));

  // 1a. CPU work of ingestion, in process.
  const cpuStarted = performance.now();
  const extracted = await extract('pdf', pdf);
  const pdfChunks = chunkSegments(extracted.segments);
  const cpuMs = performance.now() - cpuStarted;

  const dataDir = await mkdtemp(join(tmpdir(), 'chatstack-bench-files-'));
  const config = loadLocalConfig({
    ...(await freeStackPorts()),
    DATA_DIR: dataDir,
    DYNAMODB_STORAGE: 'memory',
  });
  const stack = await startLocalStack(config);
  try {
    const apiKey = await machineToken(stack.urls.issuer);
    const sub = DEV_MACHINE_CLIENTS.a.clientId;
    const client = new OpenAI({ baseURL: `${stack.urls.api}/v1`, apiKey, maxRetries: 0 });

    // 1b. End to end.
    const e2eStarted = performance.now();
    const uploaded = await client.files.create({
      file: await toFile(Buffer.from(pdf), 'bench.pdf'),
      purpose: 'assistants',
    });
    const settled = await waitProcessed(client, uploaded.id);
    const e2eMs = performance.now() - e2eStarted;
    if (settled.status !== 'processed') throw new Error(`the PDF ended as ${settled.status}`);

    // 2. A 1,000-chunk collection: paragraphs are added until the chunker makes exactly that many passages.
    const paragraph = (i: number) => `Record ${i}: ${fillerText(1000 + i, 9)}`;
    // About 1.27 paragraphs make a passage here; start below that and add one at a time.
    const paragraphs = Array.from({ length: Math.floor(CHUNKS * 1.2) }, (_, i) => paragraph(i));
    while (chunkSegments([{ text: paragraphs.join('\n\n') }]).length < CHUNKS) {
      paragraphs.push(paragraph(paragraphs.length));
    }
    const corpus = await client.files.create({
      file: await toFile(Buffer.from(paragraphs.join('\n\n')), 'corpus.txt'),
      purpose: 'assistants',
    });
    await waitProcessed(client, corpus.id);
    const dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack.urls.dynamodb,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    const deps = {
      store: createFileStore({ dynamo, tableName: LOCAL_TABLE_NAME }),
      vectors: createTableVectorStore({ dynamo, tableName: LOCAL_TABLE_NAME }),
    };
    const chunkCount = (await deps.store.listChunks(sub, corpus.id)).length;
    const queries = Array.from({ length: QUERIES }, (_, i) => fillerText(5000 + i, 1));
    const request = (query: string) => ({
      ownerId: sub,
      fileIds: [corpus.id],
      query,
      tokenBudget: TOKEN_BUDGET,
    });

    const cold: number[] = [];
    for (const query of queries.slice(0, 20)) {
      clearRetrievalCache();
      const started = performance.now();
      await retrieve(deps, request(query));
      cold.push(performance.now() - started);
    }
    const warm: number[] = [];
    const added: number[] = [];
    const passages: number[] = [];
    for (const query of queries) {
      const started = performance.now();
      const result = await retrieve(deps, request(query));
      warm.push(performance.now() - started);
      added.push(estimateTokens(quoteUntrusted(result.passages)));
      passages.push(result.passages.length);
    }
    const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

    console.log(`\n| measure | value |\n| --- | --- |`);
    console.log(`| PDF | ${PAGES} pages, ${pdf.byteLength} bytes, ${pdfChunks.length} chunks |`);
    console.log(
      `| ingest CPU (extract + chunk, in process) | ${cpuMs.toFixed(0)} ms = ${((PAGES * 1000) / cpuMs).toFixed(0)} pages/s |`,
    );
    console.log(
      `| ingest end to end (upload → processed) | ${e2eMs.toFixed(0)} ms = ${((PAGES * 1000) / e2eMs).toFixed(1)} pages/s |`,
    );
    console.log(`| collection | ${chunkCount} chunks |`);
    console.log(
      `| retrieval, first query (read + index) p50 / p99 | ${percentile(cold, 50).toFixed(1)} / ${percentile(cold, 99).toFixed(1)} ms (${cold.length} queries) |`,
    );
    console.log(
      `| retrieval, warm p50 / p99 | ${percentile(warm, 50).toFixed(2)} / ${percentile(warm, 99).toFixed(2)} ms (${warm.length} queries) |`,
    );
    console.log(
      `| tokens added per turn (budget ${TOKEN_BUDGET}) | mean ${mean(added).toFixed(0)}, max ${Math.max(...added)} (${mean(passages).toFixed(1)} passages) |`,
    );
    console.log(`| load average before / after | ${loadBefore} / ${load()} |`);
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
