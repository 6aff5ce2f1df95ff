/**
 * Inference benchmark: our adapter against the raw llama-server binary it runs, same flags, same client,
 * unique prompts (no cache advantage), interleaved level by level (raw, adapter, adapter, raw…) so drifting
 * machine load hits both alike; then a multi-turn scenario: TTFT per turn with the prompt cache and without.
 *
 *   npm run bench -w gpu-endpoint -- [--models tiny,bench] [--concurrency 1,2,4,8,16] [--rounds 2]
 *     [--prompt-tokens 32] [--output-tokens 64] [--threads 1] [--turns 5] [--conversations 8] [--multi-turn-slots 4]
 *     [--json <file>] [--svg-dir <dir>]
 *
 * Prints markdown tables (with the machine load before and after each part) to stdout.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine } from '../src/engine';
import { startInferenceServer } from '../src/testing';
import { ensureEngine } from './build-engine';
import { ensureBenchModel, ensureTinyModel } from './generate-model';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny,bench' },
    concurrency: { type: 'string', default: '1,2,4,8,16' },
    rounds: { type: 'string', default: '2' },
    'prompt-tokens': { type: 'string', default: '32' },
    'output-tokens': { type: 'string', default: '64' },
    threads: { type: 'string', default: '1' },
    turns: { type: 'string', default: '5' },
    conversations: { type: 'string', default: '8' },
    'multi-turn-slots': { type: 'string', default: '4' },
    json: { type: 'string' },
    'svg-dir': { type: 'string', default: resolve(dirname(fileURLToPath(import.meta.url)), '..') },
  },
});

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

const concurrencyLevels = (values.concurrency ?? '').split(',').map((c) => positive('concurrency', c));
const rounds = positive('rounds', values.rounds);
const promptTokens = positive('prompt-tokens', values['prompt-tokens']);
const outputTokens = positive('output-tokens', values['output-tokens']);
const threads = positive('threads', values.threads);
const turns = positive('turns', values.turns);
const conversations = positive('conversations', values.conversations);
const multiTurnSlots = positive('multi-turn-slots', values['multi-turn-slots']);
const maxConcurrency = Math.max(...concurrencyLevels);
const contextSize = 2048;
const runId = Math.random().toString(36).slice(2, 8);
const progress = (message: string) => process.stderr.write(`${message}\n`);

/** `uptime`'s 1-minute load average. */
const load = () => loadavg()[0]?.toFixed(2) ?? '?';

type Target = 'raw' | 'adapter';

interface Sample {
  readonly ttftMs: number;
  readonly latencyMs: number;
  readonly completionTokens: number;
  readonly contentChunks: number;
  readonly itlMs: number[];
  readonly text: string;
  readonly cachedPromptTokens: number;
}

interface Level {
  readonly target: Target;
  /** CPU seconds llama-server used during the level (all its threads). */
  readonly engineCpuSeconds: number;
  /** CPU seconds the adapter's own process used (0 for raw). */
  readonly adapterCpuSeconds: number;
  readonly concurrency: number;
  readonly round: number;
  readonly wallMs: number;
  readonly samples: Sample[];
  readonly loadBefore: string;
  readonly loadAfter: string;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** One streamed chat completion; times every content chunk as it arrives. */
async function streamOnce(url: string, body: Record<string, unknown>): Promise<Sample> {
  const started = performance.now();
  const send = () =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    });
  // llama-server may close a pooled keep-alive connection between requests: retry what failed before an answer.
  let response: Response | undefined;
  for (let attempt = 1; response === undefined; attempt++) {
    try {
      response = await send();
    } catch (error) {
      if (attempt === 3) throw new Error(`${url}: ${String((error as Error).cause ?? error)}`);
    }
  }
  if (!response.ok || response.body === null) throw new Error(`${url} answered ${response.status}`);
  const decoder = new TextDecoder();
  let pending = '';
  let first: number | undefined;
  let last = started;
  const itlMs: number[] = [];
  let contentChunks = 0;
  let completionTokens = 0;
  let cachedPromptTokens = 0;
  let text = '';
  for await (const bytes of response.body) {
    pending += decoder.decode(bytes, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const chunk = JSON.parse(line.slice(6)) as {
        choices?: { delta?: { content?: string | null } }[];
        usage?: { completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
      };
      if (chunk.usage?.completion_tokens !== undefined) completionTokens = chunk.usage.completion_tokens;
      cachedPromptTokens = chunk.usage?.prompt_tokens_details?.cached_tokens ?? cachedPromptTokens;
      const content = chunk.choices?.map((choice) => choice.delta?.content ?? '').join('') ?? '';
      if (content === '') continue;
      text += content;
      const now = performance.now();
      if (first === undefined) first = now;
      else itlMs.push(now - last);
      last = now;
      contentChunks++;
    }
  }
  const end = performance.now();
  return {
    ttftMs: (first ?? end) - started,
    latencyMs: end - started,
    completionTokens,
    contentChunks,
    itlMs,
    text,
    cachedPromptTokens,
  };
}

/** A prompt of about `promptTokens` bytes (= tokens: the vocabulary is byte-level), unique per request. */
function uniquePrompt(index: number): string {
  const head = `${runId}-${index}: `;
  const filler = 'tell me a story about batching. ';
  return (head + filler.repeat(Math.ceil(promptTokens / filler.length))).slice(0, promptTokens);
}

let requestCounter = 0;

/** CPU seconds (user + system) a process has used: robust to other load, unlike wall-clock rates. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime (fields 14 and 15), in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Pids {
  readonly engine: number | undefined;
  readonly adapter: number | undefined;
}

async function runLevel(
  target: Target,
  url: string,
  pids: Pids,
  concurrency: number,
  round: number,
): Promise<Level> {
  const requests = Math.max(8, 2 * concurrency);
  const samples: Sample[] = [];
  let next = 0;
  const loadBefore = load();
  const engineCpuBefore = await cpuSeconds(pids.engine);
  const adapterCpuBefore = await cpuSeconds(pids.adapter);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        samples.push(
          await streamOnce(url, {
            messages: [{ role: 'user', content: uniquePrompt(requestCounter++) }],
            max_tokens: outputTokens,
            ignore_eos: true,
            temperature: 1,
          }),
        );
      }
    }),
  );
  const wallMs = performance.now() - started;
  return {
    target,
    concurrency,
    round,
    wallMs,
    samples,
    loadBefore,
    loadAfter: load(),
    engineCpuSeconds: (await cpuSeconds(pids.engine)) - engineCpuBefore,
    adapterCpuSeconds: (await cpuSeconds(pids.adapter)) - adapterCpuBefore,
  };
}

interface Summary {
  readonly target: Target;
  readonly concurrency: number;
  readonly tokensPerSecond: number;
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
  readonly itlP99Ms: number;
  readonly tokensPerChunk: number;
  /** Output tokens per CPU-second of llama-server. */
  readonly tokensPerEngineCpuSecond: number;
  /** The adapter process's CPU time per output token, µs. */
  readonly adapterCpuMicrosPerToken: number;
  readonly load: string;
}

function summarize(target: Target, concurrency: number, levels: readonly Level[]): Summary {
  const mine = levels.filter((l) => l.target === target && l.concurrency === concurrency);
  const samples = mine.flatMap((l) => l.samples);
  const tokens = samples.reduce((sum, s) => sum + s.completionTokens, 0);
  const chunks = samples.reduce((sum, s) => sum + s.contentChunks, 0);
  const wallMs = mine.reduce((sum, l) => sum + l.wallMs, 0);
  return {
    target,
    concurrency,
    tokensPerSecond: (tokens * 1000) / wallMs,
    ttftP50Ms: percentile(
      samples.map((s) => s.ttftMs),
      50,
    ),
    ttftP99Ms: percentile(
      samples.map((s) => s.ttftMs),
      99,
    ),
    itlP99Ms: percentile(
      samples.flatMap((s) => s.itlMs),
      99,
    ),
    tokensPerChunk: chunks > 0 ? tokens / chunks : Number.NaN,
    tokensPerEngineCpuSecond: tokens / mine.reduce((sum, l) => sum + l.engineCpuSeconds, 0),
    adapterCpuMicrosPerToken: (mine.reduce((sum, l) => sum + l.adapterCpuSeconds, 0) * 1e6) / tokens,
    load: mine.map((l) => `${l.loadBefore}→${l.loadAfter}`).join(', '),
  };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function sweep(name: string, modelFile: string, binary: string): Promise<Summary[]> {
  const common = {
    modelFile,
    sequences: maxConcurrency,
    contextSize,
    threads,
    gpuLayers: undefined,
    extraArgs: [],
  };
  const raw = await Engine.start({ ...common, binary, startTimeoutMs: 120_000 });
  const adapter = await startInferenceServer({
    env: {
      MODEL_PATH: modelFile,
      LLAMA_SERVER: binary,
      SEQUENCES: String(maxConcurrency),
      CONTEXT_SIZE: String(contextSize),
      THREADS: String(threads),
      MAX_QUEUE: '1024',
    },
    startTimeoutMs: 120_000,
  });
  const levels: Level[] = [];
  const rawPids: Pids = { engine: raw.child.pid, adapter: undefined };
  const adapterPids: Pids = { engine: (await adapter.engine).pid, adapter: adapter.process.pid };
  try {
    // Warm-up, not recorded.
    await runLevel('raw', raw.url, rawPids, 1, 0);
    await runLevel('adapter', adapter.url, adapterPids, 1, 0);
    for (const concurrency of concurrencyLevels) {
      for (let round = 0; round < rounds; round++) {
        // Alternate who goes first, so a load change between the two halves does not favour one side.
        const order: Target[] = round % 2 === 0 ? ['raw', 'adapter'] : ['adapter', 'raw'];
        for (const target of order) {
          const level =
            target === 'raw'
              ? await runLevel(target, raw.url, rawPids, concurrency, round)
              : await runLevel(target, adapter.url, adapterPids, concurrency, round);
          levels.push(level);
          progress(
            `${name} ${target} c=${concurrency} round ${round}: ${fmt(summarize(target, concurrency, [level]).tokensPerSecond)} tok/s (load ${level.loadBefore})`,
          );
        }
      }
    }
  } finally {
    await adapter.stop();
    await raw.stop();
  }
  const summaries = concurrencyLevels.flatMap((c) => [
    summarize('raw', c, levels),
    summarize('adapter', c, levels),
  ]);
  console.log(`\n### ${name}: adapter vs raw llama-server (${rounds} interleaved rounds per level)\n`);
  console.log(
    '| c | raw tok/s | adapter tok/s | ratio | TTFT p50 raw / adapter ms | TTFT p99 raw / adapter ms | ITL p99 raw / adapter ms | tokens/chunk raw / adapter | engine tok/CPU-s raw / adapter | adapter CPU µs/token | load (1 min, before→after) |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const c of concurrencyLevels) {
    const r = summaries.find((s) => s.target === 'raw' && s.concurrency === c);
    const a = summaries.find((s) => s.target === 'adapter' && s.concurrency === c);
    if (r === undefined || a === undefined) continue;
    console.log(
      `| ${c} | ${fmt(r.tokensPerSecond, 0)} | ${fmt(a.tokensPerSecond, 0)} | **${fmt(a.tokensPerSecond / r.tokensPerSecond, 2)}×** | ${fmt(r.ttftP50Ms)} / ${fmt(a.ttftP50Ms)} | ${fmt(r.ttftP99Ms)} / ${fmt(a.ttftP99Ms)} | ${fmt(r.itlP99Ms)} / ${fmt(a.itlP99Ms)} | ${fmt(r.tokensPerChunk, 2)} / ${fmt(a.tokensPerChunk, 2)} | ${fmt(r.tokensPerEngineCpuSecond, 0)} / ${fmt(a.tokensPerEngineCpuSecond, 0)} | ${fmt(a.adapterCpuMicrosPerToken, 0)} | raw ${r.load}; adapter ${a.load} |`,
    );
  }
  await writeFile(resolve(values['svg-dir'] ?? '.', `BENCHMARKS-${name}.svg`), svgChart(summaries, name));
  return summaries;
}

type CacheMode =
  | 'adapter, no cache'
  | 'adapter, cache (llama-server picks the slot)'
  | 'raw, fixed slot per conversation';

/** A long, unique system prompt per conversation, so prefill dominates a turn's TTFT without the cache. */
function systemPrompt(conversation: number): string {
  const text = `Conversation ${runId}-${conversation}. You answer questions about lighthouses, ships and the sea. `;
  return text.repeat(12);
}

/** The slot a fixed per-conversation routing would pick (sent to raw llama-server as `id_slot`). */
function slotOfConversation(conversation: number): number {
  return (
    createHash('sha256').update(`conversation-${runId}-${conversation}`).digest().readUInt32BE(0) %
    multiTurnSlots
  );
}

async function multiTurn(name: string, modelFile: string, binary: string): Promise<void> {
  const modes: CacheMode[] = [
    'adapter, no cache',
    'adapter, cache (llama-server picks the slot)',
    'raw, fixed slot per conversation',
  ];
  console.log(
    `\n### ${name}: multi-turn, ${conversations} conversations × ${turns} turns over ${multiTurnSlots} slots, ` +
      `${multiTurnSlots} at a time (TTFT p50 per turn, ms)\n`,
  );
  console.log(
    `| mode | ${Array.from({ length: turns }, (_, t) => `turn ${t + 1}`).join(' | ')} | cached prompt tokens, turn ${turns} | load |`,
  );
  console.log(`| --- | ${Array.from({ length: turns }, () => '---:').join(' | ')} | ---: | --- |`);
  for (const mode of modes) {
    const env = {
      MODEL_PATH: modelFile,
      LLAMA_SERVER: binary,
      SEQUENCES: String(multiTurnSlots),
      CONTEXT_SIZE: String(contextSize),
      THREADS: String(threads),
      MAX_QUEUE: '1024',
    };
    const common = {
      modelFile,
      sequences: multiTurnSlots,
      contextSize,
      threads,
      gpuLayers: undefined,
      extraArgs: [],
    };
    const server: { url: string; stop(): Promise<unknown> } =
      mode === 'raw, fixed slot per conversation'
        ? await Engine.start({ ...common, binary, startTimeoutMs: 120_000 })
        : await startInferenceServer({ env, startTimeoutMs: 120_000 });
    const loadBefore = load();
    const ttft: number[][] = Array.from({ length: turns }, () => []);
    const cachedLastTurn: number[] = [];
    try {
      const histories = Array.from({ length: conversations }, (_, c) => [
        { role: 'system', content: systemPrompt(c) },
      ]);
      for (let turn = 0; turn < turns; turn++) {
        // The conversations' turns interleave, as users' do: more conversations than slots.
        let next = 0;
        await Promise.all(
          Array.from({ length: multiTurnSlots }, async () => {
            while (next < conversations) {
              const c = next++;
              const history = histories[c] ?? [];
              history.push({ role: 'user', content: `Question ${turn + 1} of conversation ${c}: what now?` });
              const sample = await streamOnce(server.url, {
                messages: history,
                max_tokens: 32,
                ignore_eos: true,
                cache_prompt: mode !== 'adapter, no cache',
                ...(mode === 'raw, fixed slot per conversation' ? { id_slot: slotOfConversation(c) } : {}),
              });
              ttft[turn]?.push(sample.ttftMs);
              if (turn === turns - 1) cachedLastTurn.push(sample.cachedPromptTokens);
              history.push({ role: 'assistant', content: sample.text });
            }
          }),
        );
      }
    } finally {
      await server.stop();
    }
    const cells = ttft.map((values) => fmt(percentile(values, 50)));
    const cached = cachedLastTurn.reduce((a, b) => a + b, 0) / Math.max(1, cachedLastTurn.length);
    console.log(`| ${mode} | ${cells.join(' | ')} | ${fmt(cached, 0)} | ${loadBefore}→${load()} |`);
  }
}

function svgChart(summaries: readonly Summary[], name: string): string {
  const width = 900;
  const height = 360;
  const panel = { w: 340, h: 240, top: 56 };
  const colors: Record<Target, string> = { raw: '#2ca02c', adapter: '#d62728' };
  const xPos = (c: number, left: number) =>
    left + (Math.log2(c) / Math.max(1, Math.log2(maxConcurrency))) * panel.w;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${name}: aggregate tok/s and TTFT p50 versus concurrency, adapter vs raw llama-server</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${name} · ${outputTokens} output tokens · ${threads} thread(s)</text>`,
  ];
  const drawPanel = (left: number, label: string, pick: (s: Summary) => number) => {
    const maxY = Math.max(1, ...summaries.map(pick).filter(Number.isFinite)) * 1.1;
    const y = (v: number) => panel.top + panel.h - (v / maxY) * panel.h;
    parts.push(
      `<line x1="${left}" y1="${panel.top + panel.h}" x2="${left + panel.w}" y2="${panel.top + panel.h}" stroke="black"/>`,
      `<line x1="${left}" y1="${panel.top}" x2="${left}" y2="${panel.top + panel.h}" stroke="black"/>`,
      `<text x="${left + panel.w / 2}" y="${panel.top - 10}" text-anchor="middle">${label}</text>`,
      `<text x="${left + panel.w / 2}" y="${panel.top + panel.h + 32}" text-anchor="middle">concurrency</text>`,
    );
    for (const c of concurrencyLevels) {
      parts.push(
        `<text x="${xPos(c, left)}" y="${panel.top + panel.h + 15}" text-anchor="middle">${c}</text>`,
      );
    }
    for (let i = 0; i <= 4; i++) {
      const v = (maxY / 4) * i;
      parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
    }
    for (const target of ['raw', 'adapter'] as const) {
      const points = summaries.filter((s) => s.target === target);
      const d = points.map(
        (s, i) => `${i === 0 ? 'M' : 'L'}${xPos(s.concurrency, left).toFixed(1)},${y(pick(s)).toFixed(1)}`,
      );
      parts.push(
        `<path d="${d.join(' ')}" fill="none" stroke="${colors[target]}" stroke-width="2"${target === 'adapter' ? ' stroke-dasharray="6,3"' : ''}/>`,
      );
    }
  };
  drawPanel(70, 'aggregate output tokens/s', (s) => s.tokensPerSecond);
  drawPanel(510, 'TTFT p50 (ms)', (s) => s.ttftP50Ms);
  (['raw', 'adapter'] as const).forEach((target, i) => {
    const x = 300 + i * 200;
    parts.push(
      `<line x1="${x}" y1="${height - 12}" x2="${x + 24}" y2="${height - 12}" stroke="${colors[target]}" stroke-width="3"/>`,
      `<text x="${x + 30}" y="${height - 8}">${target === 'raw' ? 'raw llama-server' : 'adapter (gpu-endpoint)'}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

async function main(): Promise<void> {
  const binary = await ensureEngine({ onProgress: progress });
  const cpu = (await readFile('/proc/cpuinfo', 'utf8').catch(() => '')).match(/model name\s*:\s*(.*)/)?.[1];
  console.log(
    `Run at ${new Date().toISOString()} on ${cpu ?? 'unknown CPU'}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ` +
      `${threads} thread(s), prompt ≈${promptTokens} tokens + template, ${outputTokens} output tokens (ignore_eos), ` +
      `slots = ${maxConcurrency}, c closed-loop clients, max(8, 2c) requests per level and round.`,
  );
  const all: Record<string, Summary[]> = {};
  for (const model of (values.models ?? '').split(',')) {
    const file =
      model === 'tiny'
        ? await ensureTinyModel()
        : model === 'bench'
          ? await ensureBenchModel()
          : resolve(model);
    const name = model === 'tiny' ? 'tiny-0.5mb' : model === 'bench' ? '25m' : model;
    all[name] = await sweep(name, file, binary);
    await multiTurn(name, file, binary);
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(all, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
