import { EnvName } from '../contracts/env';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import type { ContextDeps } from './store';

let cached: ContextDeps | undefined;

/** The context store's dependencies for this process, built on first use from the environment. */
export function contextDepsFromEnv(): ContextDeps {
  cached ??= {
    db: documentClient(),
    tableName: required(config().tableName, EnvName.tableName),
    retentionDays: config().messageRetentionDays,
  };
  return cached;
}
