/**
 * `npm run bench:responses` — what the Responses API costs against Chat Completions on the same pipeline, on the
 * local stack and its inference server: latency to the first byte and to the end of a streamed answer, measured by
 * the client, for `POST /v1/chat/completions` and `POST /v1/responses` (which also stores its response record
 * before the model runs). Requests alternate between the two, each with a unique prompt (no prompt cache). Prints
 * a Markdown table for docs/BENCHMARKS.md with the machine's load.
 */
import { machineLoad, machineToken, percentile, startBenchStack } from './bench-support';

const ANSWERS = Number(process.env.BENCH_ANSWERS ?? 20);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 64);

interface Sample {
  readonly firstByteMs: number;
  readonly totalMs: number;
}

type Api = 'chat' | 'responses';

async function answer(api: string, token: string, kind: Api, index: number): Promise<Sample> {
  const question = `Tell story number ${index} (${crypto.randomUUID()}).`;
  const body =
    kind === 'chat'
      ? { messages: [{ role: 'user', content: question }], stream: true, max_tokens: MAX_TOKENS }
      : { input: question, stream: true, max_output_tokens: MAX_TOKENS };
  const started = performance.now();
  const response = await fetch(`${api}/v1/${kind === 'chat' ? 'chat/completions' : 'responses'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200 || !response.body) throw new Error(`${kind} failed: ${response.status}`);
  const reader = response.body.getReader();
  let firstByteMs: number | undefined;
  for (;;) {
    const { done } = await reader.read();
    firstByteMs ??= performance.now() - started;
    if (done) break;
  }
  return { firstByteMs: firstByteMs ?? 0, totalMs: performance.now() - started };
}

async function main(): Promise<void> {
  const loadBefore = machineLoad();
  const stack = await startBenchStack('responses');
  try {
    const token = await machineToken(stack.urls.issuer);
    const samples: Record<Api, Sample[]> = { chat: [], responses: [] };
    // Warm-up: handlers loaded, model paged in.
    await answer(stack.urls.api, token, 'chat', -1);
    await answer(stack.urls.api, token, 'responses', -2);
    for (let index = 0; index < ANSWERS * 2; index++) {
      const kind: Api = index % 2 === 0 ? 'chat' : 'responses';
      samples[kind].push(await answer(stack.urls.api, token, kind, index));
    }
    const row = (name: string, list: readonly Sample[]) => {
      const first = list.map((sample) => sample.firstByteMs);
      const total = list.map((sample) => sample.totalMs);
      return `| ${name} | ${list.length} | ${percentile(first, 50).toFixed(0)} | ${percentile(first, 99).toFixed(0)} | ${percentile(total, 50).toFixed(0)} |`;
    };
    console.log(`max tokens ${MAX_TOKENS}, ${ANSWERS} answers per API, alternating`);
    console.log('| API | answers | first byte p50 ms | first byte p99 ms | whole answer p50 ms |');
    console.log('|---|---|---|---|---|');
    console.log(row('POST /v1/chat/completions (stream)', samples.chat));
    console.log(row('POST /v1/responses (stream)', samples.responses));
    console.log(`load before: ${loadBefore}; after: ${machineLoad()}`);
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
