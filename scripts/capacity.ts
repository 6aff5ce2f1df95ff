/**
 * The capacity plan: what each component needs and costs per month for a given load, printed as Markdown tables.
 *
 *   npx tsx scripts/capacity.ts                                  # the defaults (docs/capacity.md)
 *   npx tsx scripts/capacity.ts --queriesPerDay=20e6 --peakFactor=4 --gpu=h100
 *   npx tsx scripts/capacity.ts --help                           # every input with its default
 *
 * Every input is a plain number (or the GPU profile's name); docs/capacity.md says where each default comes from.
 * Prices are on-demand list prices in us-east-1 and change: check them before you rely on a total.
 */

const SECONDS_PER_DAY = 86_400;
const DAYS_PER_MONTH = 30.4;
const HOURS_PER_MONTH = 730;

/** A model served on one instance type: published throughput scaled to our request shape. */
export interface GpuProfile {
  readonly label: string;
  /** SageMaker real-time instance price, USD per hour. */
  readonly instanceUsdPerHour: number;
  readonly gpusPerInstance: number;
  /** Prompt tokens one GPU prefills per second (compute-bound). */
  readonly prefillTokensPerSecondPerGpu: number;
  /** Output tokens one GPU decodes per second, all streams together, at `streamsPerGpu`. */
  readonly decodeTokensPerSecondPerGpu: number;
  /** Streams one GPU serves at once at that rate (bounded by KV-cache memory). */
  readonly streamsPerGpu: number;
}

export const GPU_PROFILES: Readonly<Record<string, GpuProfile>> = {
  // Qwen2.5-7B-Instruct BF16 on vLLM, ml.g5.2xlarge (1 × A10G 24 GB, 600 GB/s): see docs/capacity.md.
  a10g: {
    label: 'ml.g5.2xlarge (1 × A10G), Qwen2.5-7B BF16, vLLM',
    instanceUsdPerHour: 1.515,
    gpusPerInstance: 1,
    prefillTokensPerSecondPerGpu: 3_300,
    decodeTokensPerSecondPerGpu: 385,
    streamsPerGpu: 16,
  },
  // The same model on ml.p5.48xlarge (8 × H100 80 GB, 3.35 TB/s each).
  h100: {
    label: 'ml.p5.48xlarge (8 × H100), Qwen2.5-7B BF16, vLLM',
    instanceUsdPerHour: 113.07,
    gpusPerInstance: 8,
    prefillTokensPerSecondPerGpu: 26_000,
    decodeTokensPerSecondPerGpu: 8_000,
    streamsPerGpu: 64,
  },
};

export const DEFAULT_INPUTS = {
  dailyUsers: 10e6,
  queriesPerDay: 100e6,
  /** Busiest hour's rate ÷ the day's average rate. */
  peakFactor: 3,
  regions: 2,
  /** Earlier turns (question + answer) sent to the model with each question. */
  contextTurns: 10,
  systemPromptTokens: 200,
  questionTokens: 60,
  answerTokens: 250,
  /** Share of prompt tokens the engine finds in its prefix cache (0: no session affinity, as deployed). */
  prefixCacheHitRate: 0,
  /** Instances kept above the load so a burst does not queue while autoscaling adds more. */
  gpuHeadroom: 0.25,
  /** Chat function memory (MB) and its billed seconds beyond the stream itself (init, writes after the answer). */
  chatMemoryMb: 1024,
  chatOverheadSeconds: 0.15,
  /** Measured locally (docs/BENCHMARKS.md): CPU per streamed request in the API process. */
  chatCpuMsPerRequest: 31,
  /**
   * Search-index items written per turn (lambdas/search: one per new word of a conversation). Measured locally:
   * 40.7 per message on the search benchmark's text (docs/BENCHMARKS.md), two messages a turn.
   */
  searchIndexWritesPerTurn: 81,
  /** Bytes per item, from the stored shapes (lambdas/contracts). */
  messageItemBytes: 1_300,
  conversationItemBytes: 600,
  eventBytes: 900,
  /** Bytes sent to the client per answer token (one SSE chunk each) and per request (headers, final chunks). */
  sseBytesPerToken: 170,
  responseFixedBytes: 1_500,
  /** Log bytes per request: handler lines, Lambda START/END/REPORT, API Gateway access log. */
  logBytesPerRequest: 3_000,
  /** Share of requests X-Ray records (its default rule: 1 per second, then 5 %). */
  traceSampleRate: 0.05,
  /** Monthly active users per daily user (Cognito bills MAU). */
  monthlyActivePerDailyUser: 2,
  /** Share of queries sent as background jobs (SQS) instead of streams. */
  jobShare: 0.01,
  gpu: 'a10g' as keyof typeof GPU_PROFILES,
};
export type CapacityInputs = typeof DEFAULT_INPUTS;

/** us-east-1 on-demand list prices (USD) used below. */
export const PRICES = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoPerMillionWrites: 0.625,
  dynamoPerMillionReads: 0.125,
  dynamoPerMillionReplicatedWrites: 0.625,
  dynamoStoragePerGbMonth: 0.25,
  kinesisStreamHour: 0.04,
  kinesisPerGbIn: 0.08,
  kinesisPerGbOut: 0.04,
  sqsPerMillionRequests: 0.4,
  apiGatewayPerMillion: [
    [333e6, 3.5],
    [667e6, 2.8],
    [19e9, 2.38],
    [Number.POSITIVE_INFINITY, 1.51],
  ] as const,
  wafPerMillionRequests: 0.6,
  logsPerGbIngested: 0.5,
  xrayPerMillionTraces: 5,
  cognitoPerMau: 0.015,
  cognitoFreeMau: 10_000,
  dataTransferOutPerGb: 0.05,
  interRegionPerGb: 0.02,
} as const;

export interface Line {
  readonly component: string;
  readonly needs: string;
  readonly usdPerMonth: number;
  readonly basis: string;
}

export interface CapacityPlan {
  readonly inputs: CapacityInputs;
  readonly averageRps: number;
  readonly peakRps: number;
  readonly promptTokens: number;
  readonly streamSeconds: number;
  readonly ttftSeconds: number;
  /** Answers one GPU serves per second, and what bounds it. */
  readonly requestsPerGpuSecond: number;
  readonly gpuBound: string;
  readonly lines: readonly Line[];
  readonly quotas: readonly string[];
}

const ceil = Math.ceil;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Per-region API Gateway REST cost: the price tiers apply per region. */
function apiGatewayCost(requestsPerRegion: number): number {
  let left = requestsPerRegion;
  let cost = 0;
  for (const [size, price] of PRICES.apiGatewayPerMillion) {
    const inTier = Math.min(left, size);
    cost += (inTier / 1e6) * price;
    left -= inTier;
    if (left <= 0) break;
  }
  return cost;
}

export function capacityPlan(overrides: Partial<CapacityInputs> = {}): CapacityPlan {
  const i: CapacityInputs = { ...DEFAULT_INPUTS, ...overrides };
  const gpu = GPU_PROFILES[i.gpu];
  if (!gpu) throw new Error(`Unknown gpu profile "${i.gpu}": one of ${Object.keys(GPU_PROFILES).join(', ')}`);
  const averageRps = i.queriesPerDay / SECONDS_PER_DAY;
  const peakRps = averageRps * i.peakFactor;
  const requestsPerMonth = i.queriesPerDay * DAYS_PER_MONTH;
  const turnTokens = i.questionTokens + i.answerTokens;
  const promptTokens = i.systemPromptTokens + i.contextTurns * turnTokens + i.questionTokens;
  const prefillTokens = promptTokens * (1 - i.prefixCacheHitRate);

  // ---- GPU: a GPU's time per answer is its prefill plus its share of batched decode; it also has only so
  // many stream slots (KV-cache memory). Whichever runs out first bounds the answers per GPU-second. ----
  const gpuSecondsPerRequest =
    prefillTokens / gpu.prefillTokensPerSecondPerGpu + i.answerTokens / gpu.decodeTokensPerSecondPerGpu;
  const perStreamTokensPerSecond = gpu.decodeTokensPerSecondPerGpu / gpu.streamsPerGpu;
  const ttftSeconds = prefillTokens / gpu.prefillTokensPerSecondPerGpu;
  const streamSeconds = ttftSeconds + i.answerTokens / perStreamTokensPerSecond;
  const byGpuTime = 1 / gpuSecondsPerRequest;
  const bySlots = gpu.streamsPerGpu / streamSeconds;
  const requestsPerGpuSecond = Math.min(byGpuTime, bySlots);
  const gpuBound = byGpuTime <= bySlots ? 'GPU time (prefill + decode)' : 'stream slots (KV cache)';
  const gpusAtPeak = ceil(peakRps / requestsPerGpuSecond);
  const instancesAtPeakPerRegion = ceil(gpusAtPeak / gpu.gpusPerInstance / i.regions);
  // Autoscaling follows the day: on average the fleet is the average load plus headroom.
  const averageInstances = ((averageRps / requestsPerGpuSecond) * (1 + i.gpuHeadroom)) / gpu.gpusPerInstance;
  const gpuCost = averageInstances * gpu.instanceUsdPerHour * HOURS_PER_MONTH;

  // ---- Lambda: the chat function runs for the whole stream ----
  const chatSeconds = streamSeconds + i.chatOverheadSeconds;
  const gbSeconds = requestsPerMonth * chatSeconds * (i.chatMemoryMb / 1024);
  const lambdaCost =
    gbSeconds * PRICES.lambdaGbSecondArm + (requestsPerMonth / 1e6) * PRICES.lambdaPerMillionRequests;
  const lambdaConcurrencyPerRegion = ceil((peakRps * chatSeconds) / i.regions);

  // ---- DynamoDB: per chat turn, from lambdas/chat/turn.ts, lambdas/context and lambdas/quota ----
  const kb = (bytes: number) => ceil(bytes / 1024);
  const historyBytes = i.contextTurns * 2 * i.messageItemBytes;
  const readsPerTurn =
    0.5 + // quota: daily tokens (GetItem, eventually consistent: half a unit per 4 KB)
    ceil(i.conversationItemBytes / 4096) + // conversation (GetItem, strongly consistent, per 4 KB)
    ceil(historyBytes / 4096); // the last turns (one Query, strongly consistent, per 4 KB read)
  const writesPerTurn =
    1 + // quota: request counter (UpdateItem)
    2 * kb(i.conversationItemBytes) + // sequence reservation (UpdateItem) + its newest-first index entry
    kb(i.messageItemBytes / 2) + // the question (PutItem)
    kb(i.messageItemBytes) + // the answer (PutItem)
    1 + // quota: daily tokens (UpdateItem)
    1 + // usage-aggregator: the day's usage totals (UpdateItem)
    1 + // audit record (PutItem)
    i.searchIndexWritesPerTurn; // search index: the turn's new words (lambdas/search)
  const writes = writesPerTurn * requestsPerMonth;
  const reads = readsPerTurn * requestsPerMonth;
  const replicatedWrites = writes * (i.regions - 1);
  const storedGbPerMonth = (requestsPerMonth * (i.messageItemBytes * 1.5)) / 1e9;
  const dynamoCost =
    (writes / 1e6) * PRICES.dynamoPerMillionWrites +
    (reads / 1e6) * PRICES.dynamoPerMillionReads +
    (replicatedWrites / 1e6) * PRICES.dynamoPerMillionReplicatedWrites +
    storedGbPerMonth * i.regions * PRICES.dynamoStoragePerGbMonth;
  // Each region takes its own writes and, replicated, every other region's.
  const peakWritesPerRegion = ceil((peakRps / i.regions) * writesPerTurn);
  const peakWritesWithReplication = peakWritesPerRegion * i.regions;

  // ---- Kinesis: one turn event per answer, two consumers (usage, audit) ----
  const eventGb = (requestsPerMonth * i.eventBytes) / 1e9;
  const peakShardsPerRegion = ceil(
    Math.max(peakRps / i.regions / 1000, ((peakRps / i.regions) * i.eventBytes) / 1e6),
  );
  const kinesisCost =
    i.regions * HOURS_PER_MONTH * PRICES.kinesisStreamHour +
    eventGb * PRICES.kinesisPerGbIn +
    2 * eventGb * PRICES.kinesisPerGbOut;

  // ---- SQS: jobs (send, receive and delete; the worker receives in batches of 10) ----
  const jobs = requestsPerMonth * i.jobShare;
  const sqsCost = ((jobs * 1.2) / 1e6) * PRICES.sqsPerMillionRequests;

  // ---- API Gateway and WAF ----
  const apiCost = i.regions * apiGatewayCost(requestsPerMonth / i.regions);
  const wafCost = (requestsPerMonth / 1e6) * PRICES.wafPerMillionRequests + i.regions * (5 + 3);

  // ---- CloudWatch: logs, traces, metrics, alarms ----
  const logGb = (requestsPerMonth * i.logBytesPerRequest) / 1e9;
  const traces = requestsPerMonth * i.traceSampleRate;
  const metricSeriesPerRegion = 150;
  const cloudWatchCost =
    logGb * PRICES.logsPerGbIngested +
    (traces / 1e6) * PRICES.xrayPerMillionTraces +
    i.regions * (metricSeriesPerRegion * 0.3 + 40 * 0.1 + 8 * 0.5 + 2 * 3);

  // ---- Cognito ----
  const mau = i.dailyUsers * i.monthlyActivePerDailyUser;
  const cognitoCost = Math.max(0, mau - PRICES.cognitoFreeMau) * PRICES.cognitoPerMau;

  // ---- Data transfer out (the answers) ----
  const outGb = (requestsPerMonth * (i.answerTokens * i.sseBytesPerToken + i.responseFixedBytes)) / 1e9;
  const transferCost = outGb * PRICES.dataTransferOutPerGb;

  const lines: Line[] = [
    {
      component: 'GPU endpoint',
      needs: `${fmt(instancesAtPeakPerRegion)} instances per region at peak (${fmt(averageInstances / i.regions)} on average); bound by ${gpuBound}`,
      usdPerMonth: gpuCost,
      basis: `${gpu.label}: ${fmt(gpuSecondsPerRequest, 2)} GPU-s per answer (prefill ${fmt(prefillTokens)} tokens + ${i.answerTokens} decoded); ${fmt(gpu.instanceUsdPerHour, 3)} $/h`,
    },
    {
      component: 'Lambda (chat)',
      needs: `${fmt(lambdaConcurrencyPerRegion)} concurrent executions per region at peak; ${fmt(gbSeconds / 1e9, 2)} B GB-s`,
      usdPerMonth: lambdaCost,
      basis: `${fmt(chatSeconds, 1)} s per streamed answer at ${i.chatMemoryMb} MB (billed while it streams); ${i.chatCpuMsPerRequest} ms CPU of it (measured locally)`,
    },
    {
      component: 'DynamoDB (global table)',
      needs: `${fmt(writesPerTurn)} writes + ${fmt(readsPerTurn, 1)} reads per turn; ${fmt(peakWritesWithReplication)} writes/s per region at peak, replicated ones included`,
      usdPerMonth: dynamoCost,
      basis: `on demand; ${fmt(writes / 1e9, 1)} B writes, ${fmt(reads / 1e9, 1)} B reads, ${fmt(replicatedWrites / 1e9, 1)} B replicated writes; +${fmt(storedGbPerMonth)} GB stored per region each month`,
    },
    {
      component: 'Kinesis (events)',
      needs: `~${fmt(peakShardsPerRegion)} shards' worth per region at peak (on demand)`,
      usdPerMonth: kinesisCost,
      basis: `${fmt(eventGb)} GB in, read by 2 consumers`,
    },
    {
      component: 'SQS (jobs)',
      needs: `${fmt(jobs / DAYS_PER_MONTH / 1e6, 1)} M jobs/day`,
      usdPerMonth: sqsCost,
      basis: `${i.jobShare * 100} % of queries as jobs`,
    },
    {
      component: 'API Gateway + WAF',
      needs: `${fmt(peakRps / i.regions)} req/s per region at peak`,
      usdPerMonth: apiCost + wafCost,
      basis: `REST API tiers per region; WAF per request`,
    },
    {
      component: 'CloudWatch + X-Ray',
      needs: `${fmt(logGb / 1e3, 1)} TB logs; ${fmt(traces / 1e6)} M traces`,
      usdPerMonth: cloudWatchCost,
      basis: `${i.logBytesPerRequest} B of logs per request; ${i.traceSampleRate * 100} % traced`,
    },
    {
      component: 'Cognito',
      needs: `${fmt(mau / 1e6, 1)} M monthly active users`,
      usdPerMonth: cognitoCost,
      basis: 'Essentials tier per MAU beyond the free 10,000',
    },
    {
      component: 'Data transfer out',
      needs: `${fmt(outGb / 1e3, 1)} TB`,
      usdPerMonth: transferCost,
      basis: `${fmt((i.answerTokens * i.sseBytesPerToken + i.responseFixedBytes) / 1024, 1)} KB per streamed answer`,
    },
  ];

  const quotas = [
    `SageMaker "${gpu.label.split(' ')[0]} for endpoint usage": ≥ ${fmt(instancesAtPeakPerRegion)} per region (default is 0–2 in most accounts), and the account's instance total across endpoints`,
    `Lambda concurrent executions: ≥ ${fmt(lambdaConcurrencyPerRegion * 1.2)} per region (default 1,000)`,
    `API Gateway account throttle: ${fmt(peakRps / i.regions)} req/s per region at peak against the 10,000 req/s default (burst 5,000); and our own stage throttle, context api.throttleRatePerSecond / throttleBurst (default 50 / 100), to at least that`,
    `DynamoDB table-level write throughput (on demand, default 40,000 WRU/s per table and region): ${fmt(peakWritesWithReplication)} per region with replication`,
    `Cognito token and user-pool request rates (UserAuthentication, token refresh) for ${fmt(mau / 1e6, 1)} M MAU`,
    `CloudWatch Logs PutLogEvents and X-Ray PutTraceSegments rates follow the request rate`,
  ];

  return {
    inputs: i,
    averageRps,
    peakRps,
    promptTokens,
    streamSeconds,
    ttftSeconds,
    requestsPerGpuSecond,
    gpuBound,
    lines,
    quotas,
  };
}

export function renderPlan(plan: CapacityPlan): string {
  const total = plan.lines.reduce((sum, line) => sum + line.usdPerMonth, 0);
  const rows = plan.lines.map(
    (line) => `| ${line.component} | ${line.needs} | ${fmt(line.usdPerMonth)} | ${line.basis} |`,
  );
  const i = plan.inputs;
  return [
    `Load: ${fmt(i.dailyUsers / 1e6, 1)} M daily users, ${fmt(i.queriesPerDay / 1e6)} M queries/day = ${fmt(plan.averageRps)} req/s on average, ${fmt(plan.peakRps)} req/s at peak (×${i.peakFactor}), over ${i.regions} regions.`,
    `Each question carries ${i.contextTurns} turns of context: ${fmt(plan.promptTokens)} prompt tokens (${fmt(i.prefixCacheHitRate * 100)} % prefix-cache hits), ${i.answerTokens} answer tokens; prefill ≈ ${fmt(plan.ttftSeconds, 2)} s of GPU time, a stream lasts ≈ ${fmt(plan.streamSeconds, 1)} s.`,
    '',
    '| component | needs | USD / month | basis |',
    '| --- | --- | ---: | --- |',
    ...rows,
    `| **total** | | **${fmt(total)}** | |`,
    '',
    'Quotas to raise before launch:',
    ...plan.quotas.map((quota) => `- ${quota}`),
  ].join('\n');
}

function parseArgs(argv: readonly string[]): Partial<CapacityInputs> {
  const overrides: Record<string, number | string> = {};
  for (const arg of argv) {
    const match = /^--([A-Za-z]+)=(.+)$/.exec(arg);
    if (!match) throw new Error(`Expected --name=value, got "${arg}" (see --help)`);
    const [, name = '', value = ''] = match;
    if (!(name in DEFAULT_INPUTS)) throw new Error(`Unknown input "${name}" (see --help)`);
    if (name === 'gpu') {
      overrides[name] = value;
      continue;
    }
    const number = Number(value);
    if (!Number.isFinite(number) || number < 0)
      throw new Error(`--${name} must be a number ≥ 0, got "${value}"`);
    overrides[name] = number;
  }
  return overrides as Partial<CapacityInputs>;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('Inputs (--name=value):');
    for (const [name, value] of Object.entries(DEFAULT_INPUTS)) console.log(`  --${name}=${value}`);
    console.log(`GPU profiles: ${Object.keys(GPU_PROFILES).join(', ')}`);
  } else {
    console.log(renderPlan(capacityPlan(parseArgs(args))));
  }
}
