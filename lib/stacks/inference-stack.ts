import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { ModelConfig, StageConfig } from '../config';
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

/** One served model's endpoint in this region. */
export interface ModelEndpoint {
  readonly model: ModelConfig;
  readonly endpoint: InferenceEndpoint;
}

/** Stateless: this region's SageMaker endpoints, one per served model. */
export class InferenceStack extends Stack {
  /** The default (first) model's endpoint. */
  public readonly endpoint: InferenceEndpoint;
  /** Every served model's endpoint, in the order of `models` (the default first). */
  public readonly modelEndpoints: readonly [ModelEndpoint, ...ModelEndpoint[]];

  constructor(scope: Construct, id: string, props: InferenceStackProps) {
    super(scope, id, props);
    const { inference } = props.config;
    // By name, not by reference: the bucket's name is predictable (see modelBucketName).
    const modelBucket = Bucket.fromBucketName(
      this,
      'ModelBucket',
      modelBucketName(props.config.stage, this.account, this.region),
    );
    const thresholds = resolveThresholds(props.config.alarms.thresholds);
    const engineOf = (model: ModelConfig): InferenceEngine =>
      inference.engine === 'vllm'
        ? {
            kind: 'vllm',
            imageTag: inference.lmiImageTag,
            maxRollingBatchSize: inference.maxRollingBatchSize,
            tensorParallelDegree: inference.tensorParallelDegree,
            toolCallParser: model.toolCallParser,
          }
        : {
            kind: 'llamacpp',
            imageDirectory: props.llamaCppImageDirectory,
            sequences: inference.maxRollingBatchSize,
          };
    const models = props.config.models;
    const shared = models.filter((model) => model.placement === 'shared');
    /** An endpoint serving `model`, and the `shared` models after it as components beside it. */
    const endpointFor = (model: ModelConfig, hosted: readonly ModelConfig[]): InferenceEndpoint => {
      // The default model keeps the construct id it always had (its resources are not replaced).
      const id = model === models[0] ? 'Endpoint' : `Model-${model.id}`;
      const endpoint = new InferenceEndpoint(this, id, {
        engine: engineOf(model),
        modelBucket,
        modelPrefix: model.modelPrefix,
        encryptionKey: props.encryptionKey,
        modelId: model.id,
        ...(model.contextTokens === undefined ? {} : { contextTokens: model.contextTokens }),
        ...(hosted.length === 0
          ? {}
          : {
              hostedModels: hosted.map((each) => ({
                modelId: each.id,
                modelPrefix: each.modelPrefix,
                toolCallParser: each.toolCallParser,
                ...(each.contextTokens === undefined ? {} : { contextTokens: each.contextTokens }),
              })),
            }),
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
      endpoint.addAlarms(thresholds);
      const suffix = model === models[0] ? '' : `-${model.id}`;
      new CfnOutput(this, `EndpointName${suffix}`, { value: endpoint.endpointName });
      return endpoint;
    };
    const [firstShared, ...moreShared] = shared;
    const sharedEndpoint = firstShared ? endpointFor(firstShared, moreShared) : undefined;
    const [first, ...rest] = models.map((model): ModelEndpoint => {
      const endpoint =
        model.placement === 'shared' && sharedEndpoint ? sharedEndpoint : endpointFor(model, []);
      const component = endpoint.componentNameFor(model.id);
      if (component !== undefined) {
        const suffix = model === models[0] ? '' : `-${model.id}`;
        new CfnOutput(this, `InferenceComponentName${suffix}`, { value: component });
      }
      return { model, endpoint };
    });
    const defaultEndpoint = required(first, 'the default model');
    this.modelEndpoints = [defaultEndpoint, ...rest];
    this.endpoint = defaultEndpoint.endpoint;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`InferenceStack: missing ${what}`);
  return value;
}
