import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { keys } from '../contracts/keys';
import { TABLE } from '../contracts/table';
import { ConflictError, ValidationError } from './errors';

/** How long a finished request's outcome is replayed for a retry with the same key. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** `Idempotency-Key`: printable ASCII, as the OpenAI and Stripe conventions use it. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'Expected printable ASCII without spaces.');

let sharedClient: DynamoDBClient | undefined;
/** The process's client for idempotency records: a plain DynamoDB client (Powertools marshals them itself). */
export function idempotencyDynamoClient(): DynamoDBClient {
  sharedClient ??= new DynamoDBClient({ maxAttempts: 5 });
  return sharedClient;
}

export interface IdempotencyDeps {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** The one answer to a key reused with another body, whichever endpoint (and record) noticed it. */
export function keyReusedError(): ValidationError {
  return new ValidationError(
    'This Idempotency-Key was already used with a different request body.',
    'Idempotency-Key',
    'idempotency_key_reused',
  );
}

/** Reads and checks the header; undefined when absent. */
export function idempotencyKeyOf(
  headers: Readonly<Record<string, string | undefined>> | null,
): string | undefined {
  const value = headers?.['idempotency-key'];
  if (value === undefined) return undefined;
  const parsed = IdempotencyKey.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(
      `Invalid 'Idempotency-Key' header: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      'Idempotency-Key',
    );
  }
  return parsed.data;
}

/**
 * The one idempotency mechanism of the API (chat completions and job submissions): runs `work` at most once per
 * (user, endpoint, key) with Powertools idempotency, the record kept in the caller's own
 * partition (`pk = USER#<sub>`, `sk = IDEM#<endpoint>#<hash>`, `expiresAt` for TTL), so export and erasure cover it.
 * A retry after success gets the stored outcome (`replayed: true`); a retry while the first is still running
 * is a 409; the same key with a different body is a 400. A failed attempt leaves no record.
 */
export async function runIdempotently<T extends object>(
  deps: IdempotencyDeps,
  scope: {
    readonly sub: string;
    /** Which endpoint the key belongs to: the same key at two endpoints names two requests. */
    readonly endpoint: 'chat' | 'jobs';
    readonly key: string;
    readonly body: string;
    readonly context?: Context;
  },
  work: () => Promise<T>,
): Promise<{ readonly value: T; readonly replayed: boolean }> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: deps.tableName,
    keyAttr: TABLE.partitionKey,
    sortKeyAttr: TABLE.sortKey,
    staticPkValue: keys.userPartition(scope.sub),
    expiryAttr: TABLE.ttlAttribute,
    awsSdkV3Client: deps.client,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'bodyHash',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  if (scope.context && typeof scope.context.getRemainingTimeInMillis === 'function') {
    config.registerLambdaContext(scope.context);
  }
  let ran = false;
  const once = makeIdempotent(
    async (_payload: { key: string; bodyHash: string }) => {
      ran = true;
      return work();
    },
    // A fixed prefix (not the function's name) so export and erasure find the records by it (contracts/user-data).
    { persistenceStore, config, keyPrefix: `IDEM#${scope.endpoint}` },
  );
  try {
    const value = (await once({
      key: `${scope.endpoint}:${scope.key}`,
      bodyHash: createHash('sha256').update(scope.body).digest('hex'),
    })) as T;
    return { value, replayed: !ran };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'IdempotencyAlreadyInProgressError') {
      throw new ConflictError(
        'A request with this Idempotency-Key is still being processed.',
        'idempotency_in_progress',
      );
    }
    if (name === 'IdempotencyValidationError') throw keyReusedError();
    throw error;
  }
}
