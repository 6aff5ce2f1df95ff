import { EnvName } from '../lambdas/contracts/env';
import type { StageConfig } from './config';
import type { FunctionEnvironment } from './constructs/app-function';

/**
 * Settings every handler reads from its environment (model, quotas, retention). Moderation settings go only to
 * the functions that moderate, with their grants (`grantModeration`).
 */
export function applicationEnvironment(config: StageConfig): FunctionEnvironment {
  return {
    [EnvName.modelId]: config.modelId,
    [EnvName.requestsPerMinute]: String(config.quotas.requestsPerMinute),
    [EnvName.tableRegions]: config.regions.join(','),
    [EnvName.routeReadsPerMinute]: String(config.quotas.readsPerMinute),
    [EnvName.routeWritesPerMinute]: String(config.quotas.writesPerMinute),
    [EnvName.tokensPerDay]: String(config.quotas.tokensPerDay),
    [EnvName.maxCompletionTokens]: String(config.quotas.maxCompletionTokens),
    [EnvName.messageRetentionDays]: String(config.retention.messageDays),
    [EnvName.auditRetentionDays]: String(config.retention.auditDays),
  };
}
