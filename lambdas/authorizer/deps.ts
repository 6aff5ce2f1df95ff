import { EnvName } from '../contracts/env';
import { createEventEmitter } from '../events/emitter';
import { config, required } from '../shared/config';
import { documentClient } from '../shared/dynamodb-client';
import { loadKinesisClient } from '../shared/lazy-kinesis-client';
import type { AuthorizerDeps } from './index';
import { type AccessTokenSettings, accessTokenVerifier } from './jwt';

export interface AuthorizerSettings extends AccessTokenSettings {
  readonly tableName: string;
  /** @default - refusals are counted but not emitted */
  readonly eventsStreamName?: string | undefined;
}

/** The authorizer's dependencies for these settings (SDK clients are the process's singletons). */
export function authorizerDeps(settings: AuthorizerSettings): AuthorizerDeps {
  const streamName = settings.eventsStreamName;
  // Kinesis is loaded on the first refusal only: a valid request never pays for it at cold start.
  const emitter = streamName ? createEventEmitter({ kinesis: loadKinesisClient, streamName }) : undefined;
  return {
    verifyAccessToken: accessTokenVerifier(settings),
    scopePrefix: settings.scopePrefix,
    apiKeys: { db: documentClient(), tableName: settings.tableName },
    ...(emitter ? { emitEvents: (events) => emitter.emitEvents(events) } : {}),
  };
}

/** The settings in the environment (AUTH_*, TABLE_NAME, EVENTS_STREAM_NAME), read once. */
export function authorizerSettingsFromEnv(): AuthorizerSettings {
  const cfg = config();
  return {
    issuer: required(cfg.authIssuer, EnvName.authIssuer),
    ...(cfg.authJwksUri ? { jwksUri: cfg.authJwksUri } : {}),
    clientIds: required(cfg.authClientIds, EnvName.authClientIds),
    scopePrefix: cfg.authScopePrefix ?? '',
    tableName: required(cfg.tableName, EnvName.tableName),
    eventsStreamName: cfg.eventsStreamName,
  };
}
