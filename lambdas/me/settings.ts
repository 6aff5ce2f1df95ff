import * as z from 'zod';
import { EnvName } from '../contracts/env';
import { SECOND_SWEEP_DELAY_SECONDS } from '../contracts/user-data-tasks';
import { ConfigError } from '../shared/config';

/** The user-data settings (exports, the second erasure sweep), read once; a bad value fails naming the variable. */
const SettingsSchema = z.object({
  [EnvName.userDataQueueUrl]: z.string().min(1).optional(),
  [EnvName.exportsBucketName]: z.string().min(1).optional(),
  [EnvName.erasureSweepDelaySeconds]: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(SECOND_SWEEP_DELAY_SECONDS),
});

export interface UserDataSettings {
  readonly queueUrl: string | undefined;
  readonly exportsBucket: string | undefined;
  readonly sweepDelaySeconds: number;
}

export function loadUserDataSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): UserDataSettings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return {
    queueUrl: parsed.data[EnvName.userDataQueueUrl],
    exportsBucket: parsed.data[EnvName.exportsBucketName],
    sweepDelaySeconds: parsed.data[EnvName.erasureSweepDelaySeconds],
  };
}
