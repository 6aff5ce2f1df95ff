import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Alarm,
  MathExpression,
  type Metric,
  type MetricOptions,
  Stats,
} from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, Billing, type ITableV2, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { keys } from '../../lambdas/contracts/keys';
import { API_KEY_LAST_USED_ATTRIBUTE, ROUTE_LIMIT_ATTRIBUTE, TABLE } from '../../lambdas/contracts/table';
import type { AppFunction } from './app-function';
import { alarm, type Watched } from './monitoring/alarm';
import { FIVE_MINUTES } from './monitoring/metrics';
import type { AlarmThresholds } from './monitoring/thresholds';

export interface DataTableProps {
  /** Customer-managed key of the table in this (the primary) region. */
  readonly encryptionKey: IKey;
  /**
   * One replica per other region, each with the ARN (or alias ARN) of that region's customer-managed key.
   * @default - a single-region table
   */
  readonly replicaKeyArns?: Readonly<Record<string, string>>;
}

/**
 * The single table every handler uses, built from the shared definition in `lambdas/contracts/table.ts`: a
 * DynamoDB global table (on-demand, PITR, TTL on `expiresAt`, deletion protection, retained on stack deletion)
 * with a replica and a customer-managed key in every configured region.
 */
export class DataTable extends Construct {
  public readonly table: TableV2;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);
    const replicaKeyArns = { ...props.replicaKeyArns };
    const gsi = TABLE.globalSecondaryIndexes;
    // The construct id is frozen: changing it replaces the table.
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE.ttlAttribute,
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: TableEncryptionV2.customerManagedKey(props.encryptionKey, replicaKeyArns),
      globalSecondaryIndexes: gsi.map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      })),
      replicas: Object.keys(replicaKeyArns).map((region) => ({
        region,
        deletionProtection: true,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      })),
    });
  }
}

export interface RegionalTableProps {
  /** The global table's name (the same in every region). */
  readonly tableName: string;
  /** The customer-managed key of this region's replica. */
  readonly encryptionKey: IKey;
}

/**
 * This region's replica of the global table, for the stateless stacks: grants name the replica in the stack's
 * own region, so a function never reads or writes across regions.
 */
export class RegionalTable extends Construct implements Watched {
  public readonly table: ITableV2;
  private readonly encryptionKey: IKey;
  private readonly ownAlarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: RegionalTableProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.table = TableV2.fromTableAttributes(this, 'Replica', {
      tableName: props.tableName,
      encryptionKey: props.encryptionKey,
      globalIndexes: TABLE.globalSecondaryIndexes.map((index) => index.indexName),
    });
  }

  /** The replica's alarms: throttling, and replication lag to each receiving region. */
  public get alarms(): Readonly<Record<string, Alarm>> {
    return this.ownAlarms;
  }

  /** Call once per region (the ops stack's view of the replica). */
  public addAlarms(t: AlarmThresholds, receivingRegions: readonly string[]): void {
    this.ownAlarms.Throttles = alarm(this, 'ThrottlesAlarm', {
      metric: this.metricThrottleEvents(),
      threshold: t.tableThrottlesPer5Min,
      description: `DynamoDB throttled more than ${t.tableThrottlesPer5Min} requests in 5 minutes.`,
    });
    for (const region of receivingRegions) {
      if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
        throw new Error(`RegionalTable: "${region}" is not a region`);
      this.ownAlarms[`ReplicationLatency-${region}`] = alarm(this, `ReplicationLatency-${region}`, {
        metric: this.metricReplicationLatency(region),
        threshold: t.replicationLatencyMs,
        evaluationPeriods: 3,
        description: `Global-table replication to ${region} lags more than ${t.replicationLatencyMs} ms.`,
      });
    }
  }

  public metricReadThrottleEvents(options?: MetricOptions): Metric {
    return this.table.metric('ReadThrottleEvents', { statistic: Stats.SUM, ...options });
  }

  public metricWriteThrottleEvents(options?: MetricOptions): Metric {
    return this.table.metric('WriteThrottleEvents', { statistic: Stats.SUM, ...options });
  }

  /** Read plus write throttle events per 5 minutes. */
  public metricThrottleEvents(): MathExpression {
    return new MathExpression({
      expression: 'reads + writes',
      usingMetrics: { reads: this.metricReadThrottleEvents(), writes: this.metricWriteThrottleEvents() },
      label: 'Throttle events',
      period: FIVE_MINUTES,
    });
  }

  /** How far `receivingRegion`'s replica lags behind this one (average, milliseconds). */
  public metricReplicationLatency(receivingRegion: string, options?: MetricOptions): Metric {
    return this.table.metric('ReplicationLatency', {
      dimensionsMap: { TableName: this.table.tableName, ReceivingRegion: receivingRegion },
      statistic: Stats.AVERAGE,
      period: FIVE_MINUTES,
      ...options,
    });
  }

  /** Item reads and writes on the table and its indexes, use of the key, and the `TABLE_NAME` variable. */
  public grantReadWriteData(fn: AppFunction): void {
    this.grant(fn, [...READ_ACTIONS, ...WRITE_ACTIONS], WRITE_KEY_ACTIONS);
  }

  /** Item reads on the table and its indexes, decryption, and the `TABLE_NAME` variable. */
  public grantReadData(fn: AppFunction): void {
    this.grant(fn, READ_ACTIONS, ['kms:Decrypt']);
  }

  /**
   * Only the given item writes, no reads (an event consumer that puts records or adds to totals), with the key
   * and the `TABLE_NAME` variable.
   */
  public grantWriteItems(fn: AppFunction, actions: readonly WriteAction[]): void {
    this.grant(fn, actions, WRITE_KEY_ACTIONS);
  }

  /**
   * Reads plus the given item writes (e.g. a job store that puts and updates jobs but never deletes), with the key
   * and the `TABLE_NAME` variable.
   */
  public grantReadAndWriteItems(fn: AppFunction, actions: readonly WriteAction[]): void {
    this.grant(fn, [...READ_ACTIONS, ...actions], WRITE_KEY_ACTIONS);
  }

  /**
   * The admin API's access: reads plus Scan (the usage and suspension report reads every user's aggregates), and
   * only the writes it makes (suspension, quota override and audit items are put and deleted, never updated).
   */
  public grantAdminAccess(fn: AppFunction): void {
    this.grant(
      fn,
      [...READ_ACTIONS, 'dynamodb:Scan', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      WRITE_KEY_ACTIONS,
    );
  }

  /** GetItem of the suspension items only (`SUSPENSION#<sub>`): the authorizer's check of every caller. */
  public grantSuspensionLookup(fn: AppFunction): void {
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${keys.suspensionPrefix}*`] } },
      }),
    );
  }

  /**
   * The per-user route limit counters (lambdas/quota/route-limit.ts) and nothing else: `UpdateItem` and `GetItem`
   * that may touch only the keys, the count and its expiry (reads must name their attributes), returning at most
   * the updated count. For a function whose other code reads or writes nothing in the table.
   */
  public grantRouteLimits(fn: AppFunction): void {
    this.grant(fn, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], WRITE_KEY_ACTIONS, {
      'ForAllValues:StringEquals': {
        'dynamodb:Attributes': [TABLE.partitionKey, TABLE.sortKey, ROUTE_LIMIT_ATTRIBUTE, TABLE.ttlAttribute],
      },
      StringEqualsIfExists: {
        'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'],
        'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
      },
    });
  }

  /**
   * What the authorizer needs of the API keys and nothing more: Query on the key-hash index only (GSI2 holds no
   * other items), and UpdateItem limited to a key's `lastUsedAt` (no other attribute, nothing returned). No reads
   * of the table itself, no writes of anything a key's owner set.
   */
  public grantApiKeyLookup(fn: AppFunction): void {
    const hashIndex = TABLE.globalSecondaryIndexes[1];
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${this.table.tableArn}/index/${hashIndex.indexName}`],
      }),
    );
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'dynamodb:Attributes': [TABLE.partitionKey, TABLE.sortKey, API_KEY_LAST_USED_ATTRIBUTE],
          },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      }),
    );
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.encryptionKey.keyArn],
      }),
    );
    fn.setEnvironment(EnvName.tableName, this.table.tableName);
  }

  // Explicit statements instead of `table.grantReadWriteData`: each index is named (no `index/*`) and the key
  // actions are exact (no `kms:ReEncrypt*` / `kms:GenerateDataKey*`).
  private grant(
    fn: AppFunction,
    actions: readonly string[],
    keyActions: readonly string[],
    conditions?: Record<string, unknown>,
  ): void {
    const reads = actions.some((action) => (READ_ACTIONS as readonly string[]).includes(action));
    // Writes go to the table; only queries use the indexes.
    const indexArns = reads
      ? TABLE.globalSecondaryIndexes.map((index) => `${this.table.tableArn}/index/${index.indexName}`)
      : [];
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [this.table.tableArn, ...indexArns],
        conditions,
      }),
    );
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...keyActions, 'kms:DescribeKey'],
        resources: [this.encryptionKey.keyArn],
      }),
    );
    fn.setEnvironment(EnvName.tableName, this.table.tableName);
  }
}

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;
export type WriteAction = (typeof WRITE_ACTIONS)[number];
const WRITE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;
