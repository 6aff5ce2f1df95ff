/**
 * Configuration of the local stack (`npm start` and the integration tests), from environment variables.
 * Handlers get their own settings through `lambdas/shared/config.ts`; this module decides the local edges:
 * ports, the data directory and the inference server's model and threads.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const LocalConfigSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: port(3000),
  ISSUER_PORT: port(3001),
  WEB_PORT: port(5173),
  DYNAMODB_PORT: port(4567),
  SQS_PORT: port(4566),
  KINESIS_PORT: port(4568),
  INFERENCE_PORT: port(8080),
  SAGEMAKER_PORT: port(8081),
  S3_PORT: port(4569),
  DATA_DIR: z.string().default('.data'),
  /** `memory` keeps DynamoDB data in memory; `disk` persists it under DATA_DIR. */
  DYNAMODB_STORAGE: z.enum(['memory', 'disk']).default('disk'),
  /** A GGUF file or a directory holding one; default: the generated tiny test model. */
  MODEL_PATH: z.string().optional(),
  INFERENCE_THREADS: z.coerce.number().int().positive().default(1),
  INFERENCE_SEQUENCES: z.coerce.number().int().positive().default(4),
  INFERENCE_CONTEXT_SIZE: z.coerce.number().int().positive().default(2048),
  /**
   * A second model, served by its own inference server (its own llama-server and adapter, on INFERENCE_2_PORT):
   * a GGUF file (or a folder holding one), or `generated` for a second, smaller generated model. Unset: one model.
   */
  MODEL_2_PATH: z.string().min(1).optional(),
  /** The second model's id (`model` in requests, `/v1/models`). */
  MODEL_2_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'a model id (letters, digits, . _ : -)')
    .default('chatstack-local-2'),
  INFERENCE_2_PORT: port(8082),
  /** The second model's context per slot (it has 2 slots and the threads of INFERENCE_THREADS). */
  INFERENCE_2_CONTEXT_SIZE: z.coerce.number().int().positive().default(1024),
  /**
   * Serves the model as an inference component that starts with no copies, as one scaled to zero: the first call
   * wakes it, this many milliseconds later it answers. Unset: the endpoint serves the model directly.
   */
  INFERENCE_COLD_START_MS: z.coerce.number().int().min(0).optional(),
  /** Moderation classifier for the local API (the rule layer always runs). */
  MODERATION_PROVIDER: z.enum(['none', 'guard-model']).default('none'),
});

export type LocalConfig = z.infer<typeof LocalConfigSchema> & { readonly dataDir: string };

export const PORT_VARIABLES = {
  api: 'PORT',
  issuer: 'ISSUER_PORT',
  web: 'WEB_PORT',
  dynamodb: 'DYNAMODB_PORT',
  sqs: 'SQS_PORT',
  kinesis: 'KINESIS_PORT',
  inference: 'INFERENCE_PORT',
  inference2: 'INFERENCE_2_PORT',
  sagemaker: 'SAGEMAKER_PORT',
  s3: 'S3_PORT',
} as const;

export function loadLocalConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocalConfig {
  const parsed = LocalConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid local stack configuration: ${problems.join('; ')}`);
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.DATA_DIR) };
}
