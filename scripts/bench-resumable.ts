/**
 * `npm run bench:resumable` — what a resumable answer costs against a plain streamed one, on the local stack and
 * its inference server: latency to the first chunk (the resumable one stores its `generating` record first) and to
 * the end, measured by the client, and the table writes the answer cost (`progressWrites` of the stored answer:
 * the `generating` record, one per 500 ms step, the final write). Answers alternate between the two modes, each
 * with a unique prompt (no prompt cache). Prints a Markdown table for docs/BENCHMARKS.md with the machine's load.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { allMessages } from '../lambdas/conversations/store';
import { machineLoad, machineToken, percentile, startBenchStack } from './bench-support';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from './local/emulators';
import { DEV_MACHINE_CLIENTS } from './local/identity';

const ANSWERS = Number(process.env.BENCH_ANSWERS ?? 20);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 128);

interface Sample {
  readonly firstChunkMs: number;
  readonly totalMs: number;
  readonly conversationId: string;
}

async function answer(api: string, token: string, resumable: boolean, index: number): Promise<Sample> {
  const started = performance.now();
  const response = await fetch(`${api}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: `Tell story number ${index} (${crypto.randomUUID()}).` }],
      stream: true,
      max_tokens: MAX_TOKENS,
      ...(resumable ? { resumable: true } : {}),
    }),
  });
  if (response.status !== 200 || !response.body) throw new Error(`answer failed: ${response.status}`);
  const reader = response.body.getReader();
  let firstChunkMs: number | undefined;
  for (;;) {
    const { done } = await reader.read();
    firstChunkMs ??= performance.now() - started;
    if (done) break;
  }
  return {
    firstChunkMs: firstChunkMs ?? 0,
    totalMs: performance.now() - started,
    conversationId: response.headers.get('x-conversation-id') ?? '',
  };
}

async function main(): Promise<void> {
  const loadBefore = machineLoad();
  const stack = await startBenchStack('resumable');
  try {
    const token = await machineToken(stack.urls.issuer);
    const store = {
      db: DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: stack.urls.dynamodb,
          region: LOCAL_REGION,
          credentials: LOCAL_CREDENTIALS,
        }),
      ),
      tableName: LOCAL_TABLE_NAME,
      retentionDays: 0,
    };
    const samples = { plain: [] as Sample[], resumable: [] as Sample[] };
    await answer(stack.urls.api, token, false, -1); // warm-up: handlers loaded, model paged in
    for (let index = 0; index < ANSWERS * 2; index++) {
      const resumable = index % 2 === 1;
      samples[resumable ? 'resumable' : 'plain'].push(await answer(stack.urls.api, token, resumable, index));
    }
    const writes: number[] = [];
    for (const sample of samples.resumable) {
      const [, stored] = await allMessages(store, DEV_MACHINE_CLIENTS.a.clientId, sample.conversationId);
      writes.push(stored?.progressWrites ?? Number.NaN);
    }
    const row = (name: string, list: readonly Sample[], extra: string) => {
      const first = list.map((sample) => sample.firstChunkMs);
      const total = list.map((sample) => sample.totalMs);
      return `| ${name} | ${list.length} | ${percentile(first, 50).toFixed(0)} | ${percentile(first, 99).toFixed(0)} | ${percentile(total, 50).toFixed(0)} | ${extra} |`;
    };
    const mean = writes.reduce((sum, value) => sum + value, 0) / writes.length;
    console.log(`max_tokens ${MAX_TOKENS}, ${ANSWERS} answers per mode, alternating`);
    console.log(
      '| mode | answers | first chunk p50 ms | first chunk p99 ms | whole answer p50 ms | table writes per answer |',
    );
    console.log('|---|---|---|---|---|---|');
    console.log(row('streamed', samples.plain, '1 (the answer)'));
    console.log(
      row(
        'resumable',
        samples.resumable,
        `mean ${mean.toFixed(1)}, min ${Math.min(...writes)}, max ${Math.max(...writes)}`,
      ),
    );
    console.log(`load before: ${loadBefore}; after: ${machineLoad()}`);
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
