/**
 * Inference benchmark: sweeps concurrency through the real HTTP streaming path and compares with the same
 * batching code driven in process, node-llama-cpp's default per-request loop, and an unbatched baseline.
 *
 *   npm run bench -w gpu-endpoint -- [--model tiny|bench|<file.gguf>] [--concurrency 1,2,4,8,16]
 *     [--requests 8] [--prompt-tokens 32] [--output-tokens 64] [--threads 1] [--modes http,lockstep,independent,unbatched]
 *     [--json] [--svg <file>]
 */

import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { InferenceEngine } from '../src/engine';
import { startInferenceServer } from '../src/testing';
import { ensureBenchModel, ensureTinyModel } from './generate-model';

type Mode = 'http' | 'lockstep' | 'independent' | 'unbatched' | 'llama-server';

interface RequestSample {
  readonly ttftMs: number;
  readonly latencyMs: number;
  readonly outputTokens: number;
  /** Gaps between consecutive content chunks. */
  readonly itlMs: number[];
}

interface LevelResult {
  readonly mode: Mode;
  readonly concurrency: number;
  readonly requests: number;
  readonly outputTokens: number;
  readonly wallMs: number;
  readonly aggregateTokensPerSecond: number;
  readonly perStreamTokensPerSecond: number;
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
  readonly tpotMs: number;
  readonly itlP99Ms: number;
  /** Mean number of sequences in each llama.cpp decode call during this level. */
  readonly sequencesPerDecode: number | null;
  /** Output tokens per CPU-second used by the inference process: robust to other load on the machine. */
  readonly tokensPerCpuSecond: number | null;
}

/** CPU seconds (user + system, all threads) used so far by a process. */
async function cpuSecondsOf(pid: number | undefined): Promise<number> {
  if (pid === undefined || pid === process.pid) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface DecodeCounters {
  decodes: number;
  sequences: number;
}

function sequencesPerDecode(before: DecodeCounters, after: DecodeCounters): number | null {
  const decodes = after.decodes - before.decodes;
  return decodes > 0 ? (after.sequences - before.sequences) / decodes : null;
}

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'bench' },
    concurrency: { type: 'string', default: '1,2,4,8,16' },
    requests: { type: 'string', default: '8' },
    'prompt-tokens': { type: 'string', default: '32' },
    'output-tokens': { type: 'string', default: '64' },
    threads: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'http,lockstep,independent,unbatched' },
    /** Path of a llama-server binary: adds llama.cpp's own C++ server on the same GGUF as a peer. */
    'llama-server': { type: 'string' },
    json: { type: 'boolean', default: false },
    svg: { type: 'string' },
  },
});

const concurrencyLevels = (values.concurrency ?? '').split(',').map(Number);
const minRequests = Number(values.requests);
const promptTokens = Number(values['prompt-tokens']);
const outputTokens = Number(values['output-tokens']);
const threads = Number(values.threads);
const modes = (values.modes ?? '').split(',') as Mode[];
for (const [name, n] of [
  ['requests', minRequests],
  ['prompt-tokens', promptTokens],
  ['output-tokens', outputTokens],
  ['threads', threads],
  ...concurrencyLevels.map((c) => ['concurrency', c] as const),
] as const) {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be positive integers`);
}
const maxConcurrency = Math.max(...concurrencyLevels);
const contextSize = 2 ** Math.ceil(Math.log2(promptTokens + outputTokens + 64));
const progress = (message: string) => process.stderr.write(`${message}\n`);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function summarize(
  mode: Mode,
  concurrency: number,
  wallMs: number,
  samples: RequestSample[],
  perDecode: number | null = null,
  cpuSeconds: number | null = null,
): LevelResult {
  const ttfts = samples.map((s) => s.ttftMs).sort((a, b) => a - b);
  const itls = samples.flatMap((s) => s.itlMs).sort((a, b) => a - b);
  const tokens = samples.reduce((sum, s) => sum + s.outputTokens, 0);
  const tpots = samples
    .filter((s) => s.outputTokens > 1)
    .map((s) => (s.latencyMs - s.ttftMs) / (s.outputTokens - 1));
  const tpot = tpots.reduce((a, b) => a + b, 0) / Math.max(1, tpots.length);
  const perStream = samples.map((s) => (s.outputTokens * 1000) / s.latencyMs);
  return {
    mode,
    concurrency,
    requests: samples.length,
    outputTokens: tokens,
    wallMs,
    aggregateTokensPerSecond: (tokens * 1000) / wallMs,
    perStreamTokensPerSecond: perStream.reduce((a, b) => a + b, 0) / Math.max(1, perStream.length),
    ttftP50Ms: percentile(ttfts, 50),
    ttftP99Ms: percentile(ttfts, 99),
    tpotMs: tpot,
    itlP99Ms: percentile(itls, 99),
    sequencesPerDecode: perDecode,
    tokensPerCpuSecond: cpuSeconds !== null && cpuSeconds > 0 ? tokens / cpuSeconds : null,
  };
}

/** Runs `requests` requests with `concurrency` closed-loop workers. */
async function runLevel(
  concurrency: number,
  requests: number,
  one: (index: number) => Promise<RequestSample>,
): Promise<{ wallMs: number; samples: RequestSample[] }> {
  const samples: RequestSample[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const index = next++;
        samples.push(await one(index));
      }
    }),
  );
  return { wallMs: performance.now() - started, samples };
}

/** A prompt that renders to about `promptTokens` tokens with the byte-level vocabulary. */
function promptText(index: number): string {
  const base = `Request ${index}: tell me a story about batching. `;
  return base.repeat(Math.ceil(promptTokens / base.length)).slice(0, Math.max(1, promptTokens - 12));
}

function recorder() {
  const started = performance.now();
  let first: number | null = null;
  let last = started;
  const itl: number[] = [];
  return {
    chunk() {
      const now = performance.now();
      if (first === null) first = now;
      else itl.push(now - last);
      last = now;
    },
    done(tokens: number): RequestSample {
      const end = performance.now();
      return { ttftMs: (first ?? end) - started, latencyMs: end - started, outputTokens: tokens, itlMs: itl };
    },
  };
}

async function httpRequest(url: string, index: number): Promise<RequestSample> {
  const rec = recorder();
  const send = () =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: promptText(index) }],
        max_tokens: outputTokens,
        ignore_eos: true,
        temperature: 1,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
  // llama-server closes keep-alive connections after a few requests; a reused socket may already be gone.
  const response = await send().catch(send);
  if (response.status !== 200 || response.body === null) throw new Error(`HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  let tokens = 0;
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = buffer.slice(6, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data) as {
        choices: { delta: { content?: string } }[];
        usage?: { completion_tokens: number } | null;
      };
      if (chunk.usage != null) tokens = chunk.usage.completion_tokens;
      if ((chunk.choices[0]?.delta.content ?? '') !== '') rec.chunk();
    }
  }
  return rec.done(tokens);
}

async function sweepHttp(modelFile: string): Promise<LevelResult[]> {
  const server = await startInferenceServer({
    env: {
      MODEL_PATH: modelFile,
      SEQUENCES: String(maxConcurrency),
      CONTEXT_SIZE: String(contextSize),
      THREADS: String(threads),
      MAX_QUEUE: '1024',
    },
    startTimeoutMs: 300_000,
  });
  const results: LevelResult[] = [];
  try {
    await httpRequest(server.url, -1); // warm-up
    for (const concurrency of concurrencyLevels) {
      const requests = Math.max(minRequests, concurrency);
      const counters = async () =>
        ((await (await fetch(`${server.url}/ping`)).json()) as { decodes: DecodeCounters }).decodes;
      const before = await counters();
      const cpuBefore = await cpuSecondsOf(server.process.pid);
      const { wallMs, samples } = await runLevel(concurrency, requests, (i) => httpRequest(server.url, i));
      const cpu = (await cpuSecondsOf(server.process.pid)) - cpuBefore;
      const perDecode = sequencesPerDecode(before, await counters());
      results.push(report(summarize('http', concurrency, wallMs, samples, perDecode, cpu)));
    }
  } finally {
    await server.stop();
  }
  return results;
}

/** llama.cpp's own server (`llama-server -np <max concurrency> -t <threads>`) through the same HTTP client. */
async function sweepLlamaServer(binary: string, modelFile: string): Promise<LevelResult[]> {
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    ['-m', modelFile, '-np', String(maxConcurrency), '-t', String(threads), '-tb', String(threads)]
      .concat(['-c', String(contextSize * maxConcurrency), '--host', '127.0.0.1', '--port', String(port)])
      .concat(['--jinja', '--no-warmup']),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`llama-server exited (${code}):\n${stderr.join('').slice(-2000)}`)),
    ),
  );
  exited.catch(() => {});
  const healthy = (async () => {
    while (true) {
      const status = await fetch(`${url}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  })();
  await Promise.race([healthy, exited]);
  const results: LevelResult[] = [];
  try {
    await httpRequest(url, -1);
    for (const concurrency of concurrencyLevels) {
      const requests = Math.max(minRequests, concurrency);
      const cpuBefore = await cpuSecondsOf(child.pid);
      const { wallMs, samples } = await runLevel(concurrency, requests, (i) => httpRequest(url, i));
      const cpu = (await cpuSecondsOf(child.pid)) - cpuBefore;
      results.push(report(summarize('llama-server', concurrency, wallMs, samples, null, cpu)));
    }
  } finally {
    child.kill('SIGTERM');
  }
  return results;
}

async function sweepEngine(
  modelFile: string,
  scheduling: 'lockstep' | 'independent',
): Promise<LevelResult[]> {
  const engine = await InferenceEngine.load({
    modelFile,
    modelName: basename(modelFile),
    sequences: maxConcurrency,
    contextSize,
    threads,
    maxQueue: 1024,
    gpu: false,
    scheduling,
  });
  const one = async (index: number): Promise<RequestSample> => {
    const rec = recorder();
    const result = await engine.generate(
      {
        messages: [{ role: 'user', text: promptText(index) }],
        maxTokens: outputTokens,
        ignoreEos: true,
        temperature: 1,
      },
      { onText: () => rec.chunk() },
    );
    return rec.done(result.completionTokens);
  };
  const results: LevelResult[] = [];
  try {
    await one(-1);
    for (const concurrency of concurrencyLevels) {
      const requests = Math.max(minRequests, concurrency);
      const before = { ...engine.decodeStats };
      const cpuBefore = await cpuSecondsOf(undefined);
      const { wallMs, samples } = await runLevel(concurrency, requests, one);
      const cpu = (await cpuSecondsOf(undefined)) - cpuBefore;
      const perDecode = sequencesPerDecode(before, engine.decodeStats);
      results.push(report(summarize(scheduling, concurrency, wallMs, samples, perDecode, cpu)));
    }
  } finally {
    await engine.dispose();
  }
  return results;
}

/** One request at a time through a bare `sequence.evaluate()` loop: the unbatched baseline. */
async function unbatched(modelFile: string): Promise<LevelResult> {
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    logLevel: LlamaLogLevel.error,
    maxThreads: threads,
  });
  const model = await llama.loadModel({ modelPath: modelFile });
  const context = await model.createContext({
    sequences: 1,
    contextSize,
    threads: { ideal: threads, min: threads },
  });
  const sequence = context.getSequence();
  const one = async (index: number): Promise<RequestSample> => {
    const rec = recorder();
    const tokens = model.tokenize(`<|user|>\n${promptText(index)}\n<|assistant|>\n`);
    let generated = 0;
    for await (const _token of sequence.evaluate(tokens, { temperature: 1, yieldEogToken: true })) {
      rec.chunk();
      if (++generated >= outputTokens) break;
    }
    await sequence.clearHistory();
    return rec.done(generated);
  };
  try {
    await one(-1);
    const cpuBefore = await cpuSecondsOf(undefined);
    const { wallMs, samples } = await runLevel(1, minRequests, one);
    const cpu = (await cpuSecondsOf(undefined)) - cpuBefore;
    return report(summarize('unbatched', 1, wallMs, samples, null, cpu));
  } finally {
    await llama.dispose();
  }
}

function report(result: LevelResult): LevelResult {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 1) : '-');
  progress(
    `${result.mode.padEnd(11)} c=${String(result.concurrency).padStart(2)}  ${f(result.aggregateTokensPerSecond).padStart(6)} tok/s` +
      `  per-stream ${f(result.perStreamTokensPerSecond).padStart(5)}  TTFT p50 ${f(result.ttftP50Ms)} p99 ${f(result.ttftP99Ms)} ms` +
      `  TPOT ${f(result.tpotMs)} ms  ITL p99 ${f(result.itlP99Ms)} ms` +
      `  seq/decode ${result.sequencesPerDecode === null ? '-' : result.sequencesPerDecode.toFixed(2)}` +
      `  tok/CPU-s ${result.tokensPerCpuSecond === null ? '-' : f(result.tokensPerCpuSecond)}` +
      `  (load ${loadavg()[0]?.toFixed(2)})`,
  );
  return result;
}

function svgChart(results: LevelResult[], title: string): string {
  const width = 980;
  const height = 380;
  const panel = { w: 380, h: 260, top: 60 };
  const colors: Record<Mode, string> = {
    http: '#d62728',
    'llama-server': '#2ca02c',
    lockstep: '#1f77b4',
    independent: '#ff7f0e',
    unbatched: '#7f7f7f',
  };
  const xs = concurrencyLevels;
  const xPos = (c: number, left: number) =>
    left + (Math.log2(c) / Math.max(1, Math.log2(Math.max(...xs)))) * panel.w;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${title}: aggregate output tokens/s and TTFT p99 versus concurrency</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${title}</text>`,
  ];
  const drawPanel = (
    left: number,
    label: string,
    series: { mode: Mode; points: [number, number][]; dash?: boolean }[],
  ) => {
    const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1;
    const y = (v: number) => panel.top + panel.h - (v / maxY) * panel.h;
    parts.push(
      `<line x1="${left}" y1="${panel.top + panel.h}" x2="${left + panel.w}" y2="${panel.top + panel.h}" stroke="black"/>`,
      `<line x1="${left}" y1="${panel.top}" x2="${left}" y2="${panel.top + panel.h}" stroke="black"/>`,
      `<text x="${left + panel.w / 2}" y="${panel.top - 12}" text-anchor="middle">${label}</text>`,
      `<text x="${left + panel.w / 2}" y="${panel.top + panel.h + 34}" text-anchor="middle">concurrency</text>`,
    );
    for (const c of xs) {
      parts.push(
        `<text x="${xPos(c, left)}" y="${panel.top + panel.h + 16}" text-anchor="middle">${c}</text>`,
      );
    }
    for (let i = 0; i <= 4; i++) {
      const v = (maxY / 4) * i;
      parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
    }
    for (const s of series) {
      const d = s.points.map(
        ([c, v], i) => `${i === 0 ? 'M' : 'L'}${xPos(c, left).toFixed(1)},${y(v).toFixed(1)}`,
      );
      parts.push(
        `<path d="${d.join(' ')}" fill="none" stroke="${colors[s.mode]}" stroke-width="2"${s.dash ? ' stroke-dasharray="5,4"' : ''}/>`,
      );
    }
  };
  const byMode = (mode: Mode) => results.filter((r) => r.mode === mode);
  const base = byMode('unbatched')[0];
  const throughput: { mode: Mode; points: [number, number][] }[] = (
    ['http', 'lockstep', 'independent', 'llama-server'] as const
  )
    .map((mode) => ({
      mode,
      points: byMode(mode).map((r) => [r.concurrency, r.aggregateTokensPerSecond] as [number, number]),
    }))
    .filter((s) => s.points.length > 0);
  if (base !== undefined) {
    throughput.push({ mode: 'unbatched', points: xs.map((c) => [c, base.aggregateTokensPerSecond]) });
  }
  drawPanel(70, 'aggregate output tokens/s', throughput);
  const ttft = (['http', 'lockstep', 'independent', 'llama-server'] as const)
    .map((mode) => ({
      mode,
      points: byMode(mode).map((r) => [r.concurrency, r.ttftP99Ms] as [number, number]),
    }))
    .filter((s) => s.points.length > 0);
  drawPanel(500, 'TTFT p99 (ms)', ttft);
  const legend: Mode[] = ['http', 'lockstep', 'independent', 'unbatched', 'llama-server'];
  legend.forEach((mode, i) => {
    const x = 16 + i * 194;
    parts.push(
      `<line x1="${x}" y1="${height - 14}" x2="${x + 24}" y2="${height - 14}" stroke="${colors[mode]}" stroke-width="3"/>`,
      `<text x="${x + 30}" y="${height - 10}">${{ http: 'HTTP streaming (lock-step)', lockstep: 'in process, lock-step', independent: 'in process, default loop', unbatched: 'unbatched baseline', 'llama-server': 'llama-server (C++)' }[mode]}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

async function main(): Promise<void> {
  const modelArg = values.model ?? 'bench';
  const modelFile =
    modelArg === 'bench'
      ? await ensureBenchModel()
      : modelArg === 'tiny'
        ? await ensureTinyModel()
        : resolve(modelArg);
  const loadBefore = loadavg();
  progress(
    `model ${modelFile}; prompt ≈${promptTokens} tokens, ${outputTokens} output tokens (EOS ignored), ` +
      `${threads} thread(s), ${availableParallelism()} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const results: LevelResult[] = [];
  if (modes.includes('unbatched')) results.push(await unbatched(modelFile));
  if (modes.includes('http')) results.push(...(await sweepHttp(modelFile)));
  if (values['llama-server'] !== undefined) {
    results.push(...(await sweepLlamaServer(resolve(values['llama-server']), modelFile)));
  }
  if (modes.includes('lockstep')) results.push(...(await sweepEngine(modelFile, 'lockstep')));
  if (modes.includes('independent')) results.push(...(await sweepEngine(modelFile, 'independent')));
  const loadAfter = loadavg();
  const base = results.find((r) => r.mode === 'unbatched');
  const at = (mode: Mode, c: number) => results.find((r) => r.mode === mode && r.concurrency === c);
  const c1 = at('http', 1);
  const c8 = at('http', 8);
  const summary = {
    model: basename(modelFile),
    promptTokens,
    outputTokens,
    threads,
    cores: availableParallelism(),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
    command: `npm run bench:inference -- ${process.argv.slice(2).join(' ')}`.trim(),
    results,
    ratios: {
      httpC8OverHttpC1: c8 && c1 ? c8.aggregateTokensPerSecond / c1.aggregateTokensPerSecond : null,
      httpC8OverUnbatched: c8 && base ? c8.aggregateTokensPerSecond / base.aggregateTokensPerSecond : null,
      httpOverInProcessLockstep: concurrencyLevels.map((c) => {
        const http = at('http', c);
        const inProcess = at('lockstep', c);
        return {
          concurrency: c,
          ratio:
            http && inProcess ? http.aggregateTokensPerSecond / inProcess.aggregateTokensPerSecond : null,
        };
      }),
      ttftP99C8OverTtftP50C1: c8 && c1 ? c8.ttftP99Ms / c1.ttftP50Ms : null,
      httpC8OverLlamaServerC8: (() => {
        const peer = at('llama-server', 8);
        return c8 && peer ? c8.aggregateTokensPerSecond / peer.aggregateTokensPerSecond : null;
      })(),
    },
  };
  const svgPath = resolve(
    values.svg ??
      resolve(
        dirname(fileURLToPath(import.meta.url)),
        '..',
        '..',
        '.bench',
        `inference-${basename(modelFile, '.gguf')}.svg`,
      ),
  );
  await mkdir(dirname(svgPath), { recursive: true });
  await writeFile(
    svgPath,
    svgChart(results, `${basename(modelFile)} · ${outputTokens} output tokens · ${threads} thread(s)`),
  );
  progress(`chart: ${svgPath}`);
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else progress(JSON.stringify(summary.ratios));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
