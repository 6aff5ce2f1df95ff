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
  threads: 'THREADS',
  gpuLayers: 'GPU_LAYERS',
  maxQueue: 'MAX_QUEUE',
  requestDeadlineMs: 'REQUEST_DEADLINE_MS',
  recordRequests: 'RECORD_REQUESTS',
  drainTimeoutMs: 'DRAIN_TIMEOUT_MS',
  engineStartTimeoutMs: 'ENGINE_START_TIMEOUT_MS',
  engineExtraArgs: 'ENGINE_EXTRA_ARGS',
  llamaServer: 'LLAMA_SERVER',
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
  [ENV.threads]: z.coerce.number().int().min(0).default(0),
  [ENV.gpuLayers]: z
    .string()
    .regex(/^(\d+|auto|all)$/, 'a number of layers, auto or all')
    .optional(),
  [ENV.maxQueue]: z.coerce.number().int().min(0).default(64),
  [ENV.requestDeadlineMs]: positiveInt.default(300_000),
  [ENV.recordRequests]: z.enum(['0', '1', 'true', 'false']).default('0'),
  [ENV.drainTimeoutMs]: positiveInt.default(25_000),
  [ENV.engineStartTimeoutMs]: positiveInt.default(600_000),
  [ENV.engineExtraArgs]: z.string().default(''),
  [ENV.llamaServer]: z.string().min(1).optional(),
});

/** Validated server configuration. */
export interface ServerConfig {
  readonly port: number;
  /** A .gguf file or a directory holding one. */
  readonly modelPath: string;
  /** Name reported as `model` in responses; defaults to the GGUF file name without extension. */
  readonly modelName: string | undefined;
  /** Engine slots: requests decoded together (llama-server `-np`). */
  readonly sequences: number;
  /** Context of each slot, in tokens (llama-server `-c` = this × sequences). */
  readonly contextSize: number;
  /** CPU threads for llama.cpp; 0 = llama.cpp's default (all cores; only sensible on a dedicated machine). */
  readonly threads: number;
  /** Layers offloaded to the GPU (`-ngl`); undefined = llama.cpp's default (`auto`). */
  readonly gpuLayers: string | undefined;
  /** Requests allowed to wait for a slot; more get 429. */
  readonly maxQueue: number;
  /** Time a request may take from arrival to its last token. */
  readonly requestDeadlineMs: number;
  /** Keep the last request bodies for `GET /debug/requests` (tests only). */
  readonly recordRequests: boolean;
  /** On SIGTERM, how long in-flight requests may take before the process exits anyway. */
  readonly drainTimeoutMs: number;
  /** How long llama-server may take to load the model. */
  readonly engineStartTimeoutMs: number;
  /** Extra llama-server arguments (space-separated), for measuring flags. */
  readonly engineExtraArgs: readonly string[];
  /** The llama-server binary; undefined = the cached build (`npm run engine:build`). */
  readonly llamaServer: string | undefined;
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
    threads: v.THREADS,
    gpuLayers: v.GPU_LAYERS,
    maxQueue: v.MAX_QUEUE,
    requestDeadlineMs: v.REQUEST_DEADLINE_MS,
    recordRequests: v.RECORD_REQUESTS === '1' || v.RECORD_REQUESTS === 'true',
    drainTimeoutMs: v.DRAIN_TIMEOUT_MS,
    engineStartTimeoutMs: v.ENGINE_START_TIMEOUT_MS,
    engineExtraArgs: v.ENGINE_EXTRA_ARGS.split(/\s+/).filter((arg) => arg !== ''),
    llamaServer: v.LLAMA_SERVER,
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
