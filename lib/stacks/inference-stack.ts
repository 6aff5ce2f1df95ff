import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { InferenceEndpoint, type InferenceEngine } from '../constructs/inference-endpoint';
import { resolveThresholds } from '../constructs/monitoring/thresholds';
import { modelBucketName } from './data-stack';

export interface InferenceStackProps extends StackProps {
  readonly config: StageConfig;
  /** The region's model-weights key (the bucket's key; also the endpoint volumes' where they take one). */
  readonly encryptionKey: IKey;
  /** Folder of the llama.cpp server image (`gpu-endpoint/`), used by the `llamacpp` engine. */
  readonly llamaCppImageDirectory: string;
}

/** Stateless: this region's SageMaker endpoint. */
export class InferenceStack extends Stack {
  public readonly endpoint: InferenceEndpoint;

  constructor(scope: Construct, id: string, props: InferenceStackProps) {
    super(scope, id, props);
    const { inference } = props.config;
    const engine: InferenceEngine =
      inference.engine === 'vllm'
        ? {
            kind: 'vllm',
            imageTag: inference.lmiImageTag,
            maxRollingBatchSize: inference.maxRollingBatchSize,
            tensorParallelDegree: inference.tensorParallelDegree,
          }
        : {
            kind: 'llamacpp',
            imageDirectory: props.llamaCppImageDirectory,
            sequences: inference.maxRollingBatchSize,
          };

    this.endpoint = new InferenceEndpoint(this, 'Endpoint', {
      engine,
      // By name, not by reference: the bucket's name is predictable (see modelBucketName).
      modelBucket: Bucket.fromBucketName(
        this,
        'ModelBucket',
        modelBucketName(props.config.stage, this.account, this.region),
      ),
      modelPrefix: inference.modelPrefix,
      encryptionKey: props.encryptionKey,
      modelId: props.config.modelId,
      instanceType: inference.instanceType,
      minInstances: inference.minInstances,
      maxInstances: inference.maxInstances,
      targetConcurrentRequestsPerModel: inference.targetConcurrentRequestsPerModel,
      startupHealthCheckTimeout: Duration.seconds(inference.startupHealthCheckTimeoutSeconds),
      modelDataDownloadTimeout: Duration.seconds(inference.modelDataDownloadTimeoutSeconds),
      memoryPerCopyMb: inference.memoryPerCopyMb,
      acceleratorsPerCopy: inference.acceleratorsPerCopy,
      canaryPercent: props.config.release.endpoint.canaryPercent,
      bakeTime: Duration.minutes(props.config.release.endpoint.bakeMinutes),
      // Dev may scale to zero; prod keeps two instances in two AZs.
      requiredMinInstances: props.config.stage === 'prod' ? 2 : 0,
    });
    this.endpoint.addAlarms(resolveThresholds(props.config.alarms.thresholds));
    new CfnOutput(this, 'EndpointName', { value: this.endpoint.endpointName });
    if (this.endpoint.componentName !== undefined) {
      new CfnOutput(this, 'InferenceComponentName', { value: this.endpoint.componentName });
    }
  }
}
