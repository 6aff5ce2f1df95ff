import { EnvName } from '../contracts/env';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import type { ConversationStore } from './store';

let cached: ConversationStore | undefined;

/** The context store's dependencies for this process, built on first use from the environment. */
export function conversationStoreFromEnv(): ConversationStore {
  cached ??= {
    db: documentClient(),
    tableName: required(config().tableName, EnvName.tableName),
    retentionDays: config().messageRetentionDays,
    region: config().region,
  };
  return cached;
}
