import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Environment variables the server reads (all optional). */
export const ENV = {
  port: 'PORT',
  modelPath: 'MODEL_PATH',
  modelName: 'MODEL_NAME',
  sequences: 'SEQUENCES',
  contextSize: 'CONTEXT_SIZE',
  batchSize: 'BATCH_SIZE',
  threads: 'THREADS',
  maxQueue: 'MAX_QUEUE',
  requestDeadlineMs: 'REQUEST_DEADLINE_MS',
  gpu: 'GPU',
  recordRequests: 'RECORD_REQUESTS',
  drainTimeoutMs: 'DRAIN_TIMEOUT_MS',
  scheduling: 'SCHEDULING',
} as const;

/** SageMaker mounts model artifacts (ModelDataSource) here. */
export const SAGEMAKER_MODEL_DIR = '/opt/ml/model';

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  [ENV.port]: z.coerce.number().int().min(0).max(65535).default(8080),
  [ENV.modelPath]: z.string().min(1).default(SAGEMAKER_MODEL_DIR),
  [ENV.modelName]: z.string().min(1).optional(),
  [ENV.sequences]: positiveInt.max(256).default(8),
  [ENV.contextSize]: positiveInt.default(4096),
  [ENV.batchSize]: positiveInt.optional(),
  [ENV.threads]: z.coerce.number().int().min(0).default(0),
  [ENV.maxQueue]: z.coerce.number().int().min(0).default(64),
  [ENV.requestDeadlineMs]: positiveInt.default(300_000),
  [ENV.gpu]: z.enum(['auto', 'cuda', 'vulkan', 'metal', 'false']).default('auto'),
  [ENV.recordRequests]: z.enum(['0', '1', 'true', 'false']).default('0'),
  [ENV.drainTimeoutMs]: positiveInt.default(25_000),
  [ENV.scheduling]: z.enum(['lockstep', 'independent']).default('lockstep'),
});

/** Validated server configuration. */
export interface ServerConfig {
  readonly port: number;
  /** A .gguf file or a directory holding one. */
  readonly modelPath: string;
  /** Name reported as `model` in responses; defaults to the GGUF file name without extension. */
  readonly modelName: string | undefined;
  /** Number of parallel sequences (slots) in the one context. */
  readonly sequences: number;
  /** Context size of each sequence, in tokens. */
  readonly contextSize: number;
  /** Tokens per decode call; defaults to node-llama-cpp's choice. */
  readonly batchSize: number | undefined;
  /** CPU threads for llama.cpp; 0 = all cores (only sensible on a dedicated machine). */
  readonly threads: number;
  /** Requests allowed to wait for a slot; more get 429. */
  readonly maxQueue: number;
  /** Time a request may take from arrival to its last token. */
  readonly requestDeadlineMs: number;
  readonly gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | false;
  /** Keep the last request bodies for `GET /debug/requests` (tests only). */
  readonly recordRequests: boolean;
  /** On SIGTERM, how long in-flight requests may take before the process exits anyway. */
  readonly drainTimeoutMs: number;
  /** `lockstep` (default) or node-llama-cpp's per-request loop (`independent`, for comparison). */
  readonly scheduling: 'lockstep' | 'independent';
}

/** Reads the configuration from environment variables; throws naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const relevant = Object.fromEntries(
    Object.values(ENV)
      .map((name) => [name, env[name]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    throw new Error(`Invalid environment variable ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    modelPath: v.MODEL_PATH,
    modelName: v.MODEL_NAME,
    sequences: v.SEQUENCES,
    contextSize: v.CONTEXT_SIZE,
    batchSize: v.BATCH_SIZE,
    threads: v.THREADS,
    maxQueue: v.MAX_QUEUE,
    requestDeadlineMs: v.REQUEST_DEADLINE_MS,
    gpu: v.GPU === 'false' ? false : v.GPU,
    recordRequests: v.RECORD_REQUESTS === '1' || v.RECORD_REQUESTS === 'true',
    drainTimeoutMs: v.DRAIN_TIMEOUT_MS,
    scheduling: v.SCHEDULING,
  };
}

/** Resolves MODEL_PATH: a .gguf file as is, or the first .gguf file (by name) in a directory. */
export async function resolveModelFile(modelPath: string): Promise<string> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(modelPath);
  } catch {
    throw new Error(
      `MODEL_PATH ${modelPath} does not exist. Generate the test model (npm run model:generate -w gpu-endpoint) ` +
        'or download one (npm run model:pull -w gpu-endpoint) and point MODEL_PATH at it.',
    );
  }
  if (info.isFile()) return modelPath;
  const ggufFiles = (await readdir(modelPath)).filter((name) => name.toLowerCase().endsWith('.gguf')).sort();
  const first = ggufFiles[0];
  if (first === undefined) throw new Error(`MODEL_PATH ${modelPath} is a directory without a .gguf file`);
  return join(modelPath, first);
}
