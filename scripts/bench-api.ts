/**
 * `npm run bench:api` — what the API adds on top of the model, and the chat Lambda's bundle size and cold init.
 *
 * 1. Starts the local stack (emulators, issuer, inference server, SageMaker runtime, API) on free ports.
 * 2. TTFT (time to the first content token) at 16 concurrent streams, in alternating rounds: straight to the
 *    inference server's `/invocations`, then through `POST /v1/chat/completions` (auth, validation, quota,
 *    moderation, context, DynamoDB writes, SageMaker runtime). Overhead = API − direct, at p50 and p99.
 * 3. Bundles lambdas/chat/handler.ts with esbuild as the CDK does (minified, `@aws-sdk/*` from the runtime) and
 *    times a fresh Node process importing it.
 * Prints a Markdown table for docs/BENCHMARKS.md. `--bundle-only` skips the stack (step 3 only).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleLambda } from './bench/lambda-bundle';
import { machineToken, percentile } from './bench-support';
import { loadLocalConfig } from './local/config';
import { freeStackPorts } from './local/ports';
import { startLocalStack } from './local/stack';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const MAX_TOKENS = 16;

interface StreamTiming {
  /** First `data:` event of any kind. Through the API that is the role chunk, sent when the model's first token arrived. */
  readonly firstEventMs: number;
  /** First event carrying content: what a user sees (through the API, after the output filter released it). */
  readonly firstContentMs: number;
}

/** Times one streamed request; reads the stream to its end and fails on an error event. */
async function timeStream(
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<StreamTiming> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body)
    throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let firstEvent: number | undefined;
  let firstContent: number | undefined;
  for await (const part of response.body) {
    buffered += decoder.decode(part as Uint8Array, { stream: true });
    firstEvent ??= buffered.includes('data:') ? performance.now() - started : undefined;
    firstContent ??= /"content":"[^"]/.test(buffered) ? performance.now() - started : undefined;
  }
  if (buffered.includes('"error"')) throw new Error(`${url}: stream ended with an error event`);
  const end = performance.now() - started;
  return { firstEventMs: firstEvent ?? end, firstContentMs: firstContent ?? end };
}

async function batch(
  run: () => Promise<StreamTiming>,
  concurrency = CONCURRENCY,
): Promise<{ ttft: StreamTiming[]; errors: number }> {
  const results = await Promise.allSettled(Array.from({ length: concurrency }, run));
  const ttft = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  for (const result of results) if (result.status === 'rejected') console.error(String(result.reason));
  return { ttft, errors: results.length - ttft.length };
}

async function measureOverhead() {
  const dataDir = await mkdtemp(join(tmpdir(), 'chatstack-bench-'));
  const ports = await freeStackPorts();
  const config = loadLocalConfig({ ...ports, DATA_DIR: dataDir, DYNAMODB_STORAGE: 'memory' });
  const logs: string[] = [];
  const stack = await startLocalStack(config, {
    // One user drives every stream: the per-user concurrent-turn cap must not be what is measured.
    handlerEnv: {
      QUOTA_REQUESTS_PER_MINUTE: '1000000',
      QUOTA_TOKENS_PER_DAY: '1000000000',
      CHAT_MAX_CONCURRENT_TURNS_PER_USER: String(CONCURRENCY * 4),
    },
    inferenceEnv: { SEQUENCES: String(CONCURRENCY) },
    onLog: (component, line) => {
      logs.push(`${component}│ ${line}`);
      if (logs.length > 400) logs.splice(0, 200);
    },
  }).catch((error: unknown) => {
    console.error(logs.slice(-60).join('\n'));
    throw error;
  });
  try {
    const bearer = await machineToken(stack.urls.issuer);
    const messages = [{ role: 'user', content: 'Write one short sentence about the sea.' }];
    const direct = () =>
      timeStream(
        `${stack.urls.inference}/invocations`,
        {},
        { messages, max_tokens: MAX_TOKENS, stream: true },
      );
    const viaApi = () =>
      timeStream(
        `${stack.urls.api}/v1/chat/completions`,
        { authorization: `Bearer ${bearer}` },
        { messages, max_tokens: MAX_TOKENS, stream: true },
      );
    // Warm-up: handler modules loaded, SDK clients connected, model weights paged in.
    await batch(direct);
    await batch(viaApi);
    const directTtft: StreamTiming[] = [];
    const apiTtft: StreamTiming[] = [];
    let errors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const d = await batch(direct);
      const a = await batch(viaApi);
      directTtft.push(...d.ttft);
      apiTtft.push(...a.ttft);
      errors += d.errors + a.errors;
    }
    // The same, one stream at a time: the pipeline's own latency, without queueing for the CPU.
    const sequentialDirect: StreamTiming[] = [];
    const sequentialApi: StreamTiming[] = [];
    for (let index = 0; index < 16; index++) {
      sequentialDirect.push(...(await batch(direct, 1)).ttft);
      sequentialApi.push(...(await batch(viaApi, 1)).ttft);
    }
    // Failed requests are measured as errors, never silently: show what the stack said about them.
    if (errors > 0)
      console.error(
        logs
          .filter((line) => /ERROR|failed/.test(line))
          .slice(-20)
          .join('\n'),
      );
    return { directTtft, apiTtft, errors, sequentialDirect, sequentialApi };
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureBundle() {
  const outDir = join(ROOT, 'node_modules', '.cache', 'chatstack-bench');
  // Bundled as lib/constructs/app-function.ts has the CDK bundle it.
  const { bytes, output, outfile } = await bundleLambda('chat');
  // What the Lambda runtime provides and the bundle imports at load (dynamic imports load later, if ever).
  const sdkImports = [
    ...new Set(
      (output?.imports ?? [])
        .filter((entry) => entry.external && entry.kind === 'import-statement')
        .map((entry) => entry.path),
    ),
  ];
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const name =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const largest = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8);
  // A fresh process, as Lambda's init: the runtime's `awslambda` global and the function's environment (source
  // maps on, as the CDK sets them). The SDK packages the bundle imports are loaded first and timed apart: in
  // Lambda they come from the runtime, and their load is paid at init as well.
  const probe = join(outDir, 'cold-init.mjs');
  await writeFile(
    probe,
    `globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
const started = performance.now();
for (const name of ${JSON.stringify(sdkImports)}) await import(name);
const sdkLoaded = performance.now();
await import(${JSON.stringify(outfile)});
const done = performance.now();
console.log(JSON.stringify({ sdkMs: sdkLoaded - started, ownMs: done - sdkLoaded, initMs: done - started }));
`,
  );
  const env = {
    ...process.env,
    TABLE_NAME: 'chatstack',
    INFERENCE_ENDPOINTS: 'local-llm',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const samples: { sdkMs: number; ownMs: number; initMs: number }[] = [];
  for (let run = 0; run < 7; run++) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--enable-source-maps', probe], { env });
    samples.push(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as (typeof samples)[number]);
  }
  const median = (pick: (sample: (typeof samples)[number]) => number) => percentile(samples.map(pick), 50);
  return {
    bytes,
    sdkImports,
    largest,
    initMs: median((sample) => sample.initMs),
    sdkMs: median((sample) => sample.sdkMs),
    ownMs: median((sample) => sample.ownMs),
    ownRange: [Math.min(...samples.map((s) => s.ownMs)), Math.max(...samples.map((s) => s.ownMs))],
  };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const bundle = await measureBundle();
console.log(`$ uptime: ${(await promisify(execFile)('uptime')).stdout.trim()}`);
console.log(
  `chat bundle: ${(bundle.bytes / 1000).toFixed(1)} kB (${(bundle.bytes / 1024).toFixed(1)} KiB) minified; largest: ${bundle.largest
    .map(([name, size]) => `${name} ${(size / 1024).toFixed(1)} KiB`)
    .join(', ')}`,
);
console.log(`SDK packages imported at load: ${bundle.sdkImports.join(', ')}`);
console.log(
  `cold init (median of 7 fresh processes): ${ms(bundle.initMs)} = AWS SDK load ${ms(bundle.sdkMs)} + our bundle ${ms(bundle.ownMs)} (our bundle ${ms(bundle.ownRange[0] ?? Number.NaN)}–${ms(bundle.ownRange[1] ?? Number.NaN)})`,
);
if (process.argv.includes('--bundle-only')) process.exit(0);
const { directTtft, apiTtft, errors, sequentialDirect, sequentialApi } = await measureOverhead();
const direct = directTtft.map((timing) => timing.firstContentMs);
const apiFirstToken = apiTtft.map((timing) => timing.firstEventMs);
const apiFirstContent = apiTtft.map((timing) => timing.firstContentMs);
const row = (name: string, values: readonly number[]) =>
  console.log(`| ${name} | ${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} |`);
console.log(
  `\n| ${CONCURRENCY} concurrent streams, n=${direct.length} per path | p50 | p99 |\n| --- | --- | --- |`,
);
row('TTFT direct to the inference server (first content)', direct);
row('through the API: first token in (role chunk)', apiFirstToken);
row('through the API: first content out (after the output filter)', apiFirstContent);
console.log(
  `| **API overhead** (first token in − direct) | ${ms(percentile(apiFirstToken, 50) - percentile(direct, 50))} | ${ms(percentile(apiFirstToken, 99) - percentile(direct, 99))} |`,
);
console.log(
  `| overhead incl. output-filter hold (first content out − direct) | ${ms(percentile(apiFirstContent, 50) - percentile(direct, 50))} | ${ms(percentile(apiFirstContent, 99) - percentile(direct, 99))} |`,
);
const seqDirect = sequentialDirect.map((timing) => timing.firstContentMs);
const seqApi = sequentialApi.map((timing) => timing.firstEventMs);
console.log(`\n| 1 stream at a time, n=${seqDirect.length} per path | p50 | p99 |\n| --- | --- | --- |`);
row('TTFT direct to the inference server', seqDirect);
row('through the API: first token in (role chunk)', seqApi);
console.log(
  `| **API overhead** | ${ms(percentile(seqApi, 50) - percentile(seqDirect, 50))} | ${ms(percentile(seqApi, 99) - percentile(seqDirect, 99))} |`,
);
console.log(`\nerrors: ${errors}`);
