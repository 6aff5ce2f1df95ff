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
      /** Conversations of one user, newest first: gsi1pk = CONVS#<sub>, gsi1sk = <updatedAt ISO>#<conversationId>. */
      indexName: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
    },
  ],
} as const;

export type TableDefinition = typeof TABLE;
