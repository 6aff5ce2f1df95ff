/**
 * The single DynamoDB table, described once: the CDK `DataTable` construct and the local stack both create
 * the table from this definition.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL deletes the item some time after. Readers filter expired items themselves. */
  ttlAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    {
      /** Conversations of one user, pinned then newest first: gsi1pk = CONVS#<sub>, gsi1sk = [PIN#]<updatedAt ISO>#<conversationId>. */
      indexName: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
    },
    {
      /** API keys by the SHA-256 of their secret: gsi2pk = APIKEYHASH#<hex>, gsi2sk = APIKEY (see keys.apiKeyHashIndex). */
      indexName: 'gsi2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
    },
  ],
} as const;

export type TableDefinition = typeof TABLE;

/** The one attribute of an API key item the authorizer writes (its IAM policy allows no other). */
/** The count of a per-user route limit counter: the only attribute besides the TTL its writers may touch. */
export const ROUTE_LIMIT_ATTRIBUTE = 'requests';

export const API_KEY_LAST_USED_ATTRIBUTE = 'lastUsedAt';
