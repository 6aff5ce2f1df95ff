import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DataTable } from '../constructs/data-table';

export interface DataStackProps extends StackProps {
  readonly stage: string;
  /** True in the primary region, which owns the global table. */
  readonly primary: boolean;
  /** Every other configured region (the table's replicas), for the primary region only. */
  readonly replicaRegions: readonly string[];
}

/**
 * The model bucket's name: predictable so that `scripts/stage-model.ts` and the inference stack find it from the
 * account and region alone (a deliberate exception to generated names; bucket names are global).
 */
export function modelBucketName(stage: string, account: string, region: string): string {
  return `chatstack-${stage}-models-${account}-${region}`;
}

/** The alias of each region's data key: replica keys must be known to the primary before they share a stack. */
export function dataKeyAlias(stage: string): string {
  return `alias/chatstack-${stage}/data`;
}

/** The alias of each region's model-weights key. */
export function modelKeyAlias(stage: string): string {
  return `alias/chatstack-${stage}/models`;
}

/**
 * Stateful resources of one region: its customer-managed keys (one for the table replica, one for the model
 * weights, so neither the endpoint nor the functions can use the other's), the model bucket and, in the primary
 * region, the global table with a replica in every other region. Everything here is retained on stack deletion.
 *
 * Cross-region wiring: the replica keys live in their own regions' data stacks (deployed first); the primary
 * names them by alias ARN, and the stateless stacks of every region find the replica by the table's name, which
 * CDK generates deterministically at synth time because the table is referenced from other regions.
 */
export class DataStack extends Stack {
  /** Encrypts this region's table replica. */
  public readonly key: Key;
  /** Encrypts the model weights (and the endpoint volumes that take a key); only the SageMaker role uses it. */
  public readonly modelKey: Key;
  public readonly modelBucket: IBucket;
  /** The global table (primary region only). */
  public readonly dataTable: DataTable | undefined;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);

    this.key = new Key(this, 'DataKey', {
      description: `chatstack ${props.stage}: table replica in this region`,
      enableKeyRotation: true,
      alias: dataKeyAlias(props.stage),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    this.modelKey = new Key(this, 'ModelKey', {
      description: `chatstack ${props.stage}: model weights and endpoint volumes in this region`,
      enableKeyRotation: true,
      alias: modelKeyAlias(props.stage),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    const modelBucket = new Bucket(this, 'ModelBucket', {
      bucketName: modelBucketName(props.stage, this.account, this.region),
      encryption: BucketEncryption.KMS,
      encryptionKey: this.modelKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(modelBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Model weights are written once by the operator (scripts/stage-model.ts) and read by SageMaker; ' +
        'CloudTrail records those calls, so server access logs would add a second log bucket for no new facts.',
    });
    this.modelBucket = modelBucket;

    if (props.primary) {
      const replicaKeyArns = Object.fromEntries(
        props.replicaRegions.map((region) => [
          region,
          `arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:${dataKeyAlias(props.stage)}`,
        ]),
      );
      this.dataTable = new DataTable(this, 'Data', { encryptionKey: this.key, replicaKeyArns });
      new CfnOutput(this, 'TableName', { value: this.dataTable.table.tableName });
    }
    new CfnOutput(this, 'ModelBucketName', {
      value: modelBucket.bucketName,
      description:
        'Stage model weights here with scripts/stage-model.ts before deploying the inference stack',
    });
  }
}
