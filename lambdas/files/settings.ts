import * as z from 'zod';
import { EnvName } from '../contracts/env';
import { FILE_LIMITS } from '../contracts/files';
import { ConfigError } from '../shared/config';

/**
 * The files settings, read once from the environment (cloud and local alike) with the same rules as
 * `shared/config.ts`: a bad value fails fast naming the variable.
 */
const SettingsSchema = z.object({
  [EnvName.filesBucketName]: z.string().min(1).optional(),
  [EnvName.filesMaxBytes]: z.coerce.number().int().positive().default(FILE_LIMITS.defaultMaxBytes),
  [EnvName.filesQuotaBytesPerUser]: z.coerce
    .number()
    .int()
    .positive()
    .default(FILE_LIMITS.defaultQuotaBytesPerUser),
  [EnvName.embeddingsProvider]: z.enum(['none', 'openai', 'bedrock']).default('none'),
  [EnvName.embeddingsUrl]: z.url().optional(),
  [EnvName.embeddingsModel]: z.string().min(1).optional(),
  [EnvName.vectorIndexArn]: z.string().startsWith('arn:').optional(),
});

export interface FileSettings {
  readonly bucketName: string | undefined;
  readonly maxBytes: number;
  readonly quotaBytesPerUser: number;
  readonly embeddings:
    | { readonly provider: 'none' }
    | { readonly provider: 'openai'; readonly url: string; readonly model: string }
    | { readonly provider: 'bedrock'; readonly model: string };
  /** The S3 Vectors index; without it vectors stay on the chunk items in the table. */
  readonly vectorIndexArn: string | undefined;
}

export function loadFileSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): FileSettings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const raw = parsed.data;
  const provider = raw[EnvName.embeddingsProvider];
  const url = raw[EnvName.embeddingsUrl];
  if (provider === 'openai' && url === undefined) {
    throw new ConfigError(
      `Invalid configuration: ${EnvName.embeddingsUrl} is required for the openai provider`,
    );
  }
  return {
    bucketName: raw[EnvName.filesBucketName],
    maxBytes: raw[EnvName.filesMaxBytes],
    quotaBytesPerUser: raw[EnvName.filesQuotaBytesPerUser],
    embeddings:
      provider === 'openai' && url !== undefined
        ? { provider, url, model: raw[EnvName.embeddingsModel] ?? 'embeddings' }
        : provider === 'bedrock'
          ? { provider, model: raw[EnvName.embeddingsModel] ?? 'amazon.titan-embed-text-v2:0' }
          : { provider: 'none' },
    vectorIndexArn: raw[EnvName.vectorIndexArn],
  };
}
