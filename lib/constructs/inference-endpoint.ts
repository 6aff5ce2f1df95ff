import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { PredefinedMetric, ScalableTarget, ServiceNamespace } from 'aws-cdk-lib/aws-applicationautoscaling';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { CfnEndpoint, CfnEndpointConfig, CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { acknowledgeWildcardResource } from '../nag';
import type { AppFunction } from './app-function';

/** AWS's LMI (djl-inference) container with vLLM rolling batches; weights come from the model bucket. */
export interface VllmEngine {
  readonly kind: 'vllm';
  /** Tag in the djl-inference repository, e.g. `0.33.0-lmi15.0.0-cu128`. */
  readonly imageTag: string;
  readonly maxRollingBatchSize: number;
  readonly tensorParallelDegree: number | 'max';
  /**
   * vLLM's parser for the model's tool-call syntax (`option.tool_call_parser`): `hermes` for Qwen2.5 and
   * Hermes-style templates, `llama3_json` for Llama 3.x, `mistral` for Mistral.
   * @default 'hermes'
   */
  readonly toolCallParser?: string;
}

/** The project's own llama.cpp server (`gpu-endpoint/`), built from its Dockerfile, serving a GGUF file. */
export interface LlamaCppEngine {
  readonly kind: 'llamacpp';
  /** Folder holding the Dockerfile. */
  readonly imageDirectory: string;
  /** Parallel sequences (llama-server slots, `-np`). */
  readonly sequences: number;
}

export type InferenceEngine = VllmEngine | LlamaCppEngine;

export interface InferenceEndpointProps {
  readonly engine: InferenceEngine;
  /** Bucket holding the uncompressed weights under `modelPrefix` (ModelDataSource, S3Prefix). */
  readonly modelBucket: IBucket;
  /** Key prefix ending in `/`. */
  readonly modelPrefix: string;
  /** Key the model bucket is encrypted with; also encrypts the endpoint's EBS volumes where there are any. */
  readonly encryptionKey: IKey;
  /** Model id the API reports (`MODEL_ID`). */
  readonly modelId: string;
  /** e.g. `ml.g5.2xlarge`. */
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** In-flight requests per model copy the autoscaler aims for. */
  readonly targetConcurrentRequestsPerModel: number;
  /** @default 20 minutes */
  readonly startupHealthCheckTimeout?: Duration;
  /** @default 20 minutes */
  readonly modelDataDownloadTimeout?: Duration;
  /** Require at least this many instances (production: 2, spread across AZs by SageMaker). @default 1 */
  readonly requiredMinInstances?: number;
}

/** Instance families with local NVMe storage: SageMaker rejects a volume KMS key for them (storage is hardware-encrypted). */
const INSTANCE_STORAGE_FAMILIES = new Set([
  'c5d',
  'm5d',
  'r5d',
  'g4dn',
  'g5',
  'g6',
  'g6e',
  'p3dn',
  'p4d',
  'p4de',
  'p5',
  'p5e',
  'p5en',
  'trn1',
  'trn1n',
]);

/** Account of AWS's Deep Learning Containers registry per region (763104351884 everywhere else). */
const DLC_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-south-2': '772153158452',
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ca-west-1': '204538143572',
  'eu-central-2': '380420809688',
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
};

/** The LMI image URI for a region (the Deep Learning Containers registry is regional). */
export function lmiImageUri(region: string, tag: string): string {
  const account = DLC_REGISTRY_ACCOUNTS[region] ?? '763104351884';
  return `${account}.dkr.ecr.${region}.amazonaws.com/djl-inference:${tag}`;
}

export function supportsVolumeEncryption(instanceType: string): boolean {
  const family = instanceType.split('.')[1] ?? '';
  return !INSTANCE_STORAGE_FAMILIES.has(family);
}

const SAGEMAKER_MODEL_DIR = '/opt/ml/model';

/**
 * A real-time SageMaker endpoint serving the chat model: model (LMI/vLLM or the llama.cpp image) with weights
 * from S3, an endpoint config on GPU instances with a startup health-check window for model load, and target
 * tracking on the high-resolution in-flight request metric.
 */
export class InferenceEndpoint extends Construct {
  public readonly endpointName: string;
  public readonly endpointArn: string;
  public readonly variantName = 'AllTraffic';
  public readonly role: Role;
  private readonly modelId: string;

  constructor(scope: Construct, id: string, props: InferenceEndpointProps) {
    super(scope, id);
    const required = props.requiredMinInstances ?? 1;
    if (props.minInstances < required) {
      throw new Error(
        `InferenceEndpoint needs at least ${required} instances, got minInstances=${props.minInstances}`,
      );
    }
    if (props.maxInstances < props.minInstances) {
      throw new Error(`maxInstances (${props.maxInstances}) is below minInstances (${props.minInstances})`);
    }
    if (!props.modelPrefix.endsWith('/')) {
      throw new Error(`modelPrefix must end with "/", got "${props.modelPrefix}"`);
    }
    this.modelId = props.modelId;
    const stack = Stack.of(this);

    this.role = new Role(this, 'ExecutionRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SageMaker endpoint: pull the image, read model weights, write logs and metrics',
    });
    const weights = props.modelBucket.arnForObjects(`${props.modelPrefix}*`);
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [weights] }));
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.modelBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${props.modelPrefix}*`] } },
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [props.encryptionKey.keyArn],
      }),
    );
    const endpointLogs = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/Endpoints/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [endpointLogs],
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      weights,
      'The endpoint reads every weight file under the model prefix.',
    );
    acknowledgeWildcardResource(
      this.role,
      endpointLogs,
      'SageMaker names the endpoint log groups after the generated endpoint name.',
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
      }),
    );
    // ECR's authorization token is account-wide: the action has no resource type.
    this.role.addToPolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));

    const { image, environment } = this.container(props, stack);

    const model = new CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      enableNetworkIsolation: true,
      primaryContainer: {
        image,
        environment,
        modelDataSource: {
          s3DataSource: {
            s3Uri: props.modelBucket.s3UrlForObject(props.modelPrefix),
            s3DataType: 'S3Prefix',
            compressionType: 'None',
          },
        },
      },
    });
    // The role's policy must exist before SageMaker tries to pull the image and the weights.
    model.node.addDependency(this.role);

    const volumeEncryption = supportsVolumeEncryption(props.instanceType);
    const endpointConfig = new CfnEndpointConfig(this, 'Config', {
      kmsKeyId: volumeEncryption ? props.encryptionKey.keyArn : undefined,
      productionVariants: [
        {
          variantName: this.variantName,
          modelName: model.attrModelName,
          instanceType: props.instanceType,
          initialInstanceCount: props.minInstances,
          containerStartupHealthCheckTimeoutInSeconds: (
            props.startupHealthCheckTimeout ?? Duration.minutes(20)
          ).toSeconds(),
          modelDataDownloadTimeoutInSeconds: (
            props.modelDataDownloadTimeout ?? Duration.minutes(20)
          ).toSeconds(),
          routingConfig: { routingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
    });
    if (volumeEncryption) {
      props.encryptionKey.grant(this.role, 'kms:CreateGrant', 'kms:DescribeKey');
    } else {
      Validations.of(endpointConfig).acknowledge({
        id: 'AwsSolutions-SM2',
        reason: `${props.instanceType} uses local NVMe instance storage, which is hardware-encrypted; SageMaker rejects a volume KMS key for it.`,
      });
    }

    const endpoint = new CfnEndpoint(this, 'Endpoint', {
      endpointConfigName: endpointConfig.attrEndpointConfigName,
    });
    this.endpointName = endpoint.attrEndpointName;
    this.endpointArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: this.endpointName,
    });

    const target = new ScalableTarget(this, 'Scaling', {
      serviceNamespace: ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${this.variantName}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: props.minInstances,
      maxCapacity: props.maxInstances,
    });
    target.node.addDependency(endpoint);
    target.scaleToTrackMetric('ConcurrentRequests', {
      predefinedMetric: PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION,
      targetValue: props.targetConcurrentRequestsPerModel,
      // Scale out fast (a new GPU instance takes minutes); scale in slowly.
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(10),
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource type; cloudwatch:PutMetricData is limited to SageMaker namespaces by condition.',
    });
  }

  private container(
    props: InferenceEndpointProps,
    stack: Stack,
  ): { image: string; environment: Record<string, string> } {
    const { engine } = props;
    if (engine.kind === 'vllm') {
      const image = lmiImageUri(stack.region, engine.imageTag);
      const registryAccount = image.split('.')[0] ?? '';
      this.role.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: [
            Arn.format({
              partition: stack.partition,
              service: 'ecr',
              region: stack.region,
              account: registryAccount,
              resource: 'repository',
              resourceName: 'djl-inference',
            }),
          ],
        }),
      );
      return {
        image,
        environment: {
          HF_MODEL_ID: SAGEMAKER_MODEL_DIR,
          OPTION_ROLLING_BATCH: 'vllm',
          OPTION_MAX_ROLLING_BATCH_SIZE: String(engine.maxRollingBatchSize),
          TENSOR_PARALLEL_DEGREE: String(engine.tensorParallelDegree),
          OPTION_SERVED_MODEL_NAME: props.modelId,
          // A conversation's turns share their prefix: reuse its KV blocks instead of prefilling it again.
          OPTION_ENABLE_PREFIX_CACHING: 'true',
          // `tools` / `tool_choice: auto` parsed from the model's output (forced choices use guided decoding).
          OPTION_ENABLE_AUTO_TOOL_CHOICE: 'true',
          OPTION_TOOL_CALL_PARSER: engine.toolCallParser ?? 'hermes',
        },
      };
    }
    const asset = new DockerImageAsset(this, 'Image', {
      directory: engine.imageDirectory,
      platform: Platform.LINUX_AMD64,
    });
    asset.repository.grantPull(this.role);
    return {
      image: asset.imageUri,
      environment: {
        MODEL_PATH: SAGEMAKER_MODEL_DIR,
        MODEL_NAME: props.modelId,
        // The adapter runs llama-server with -np SEQUENCES -c CONTEXT_SIZE×SEQUENCES --jinja --metrics;
        // every layer on the GPU.
        SEQUENCES: String(engine.sequences),
        GPU_LAYERS: 'all',
      },
    };
  }

  /** Lets a function stream from the endpoint and names it in `INFERENCE_ENDPOINTS` (this region first). */
  public grantInvoke(fn: AppFunction, fallbackEndpointNames: readonly string[] = []): void {
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
        resources: [this.endpointArn],
      }),
    );
    fn.setEnvironment(EnvName.inferenceEndpoints, [this.endpointName, ...fallbackEndpointNames].join(','));
    fn.setEnvironment(EnvName.modelId, this.modelId);
  }

  /** A metric of the endpoint's variant. */
  public metric(metricName: string, options: MetricOptions & { namespace?: string } = {}): Metric {
    return new Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
      period: Duration.minutes(1),
      ...options,
    });
  }

  public metricInvocations(options?: MetricOptions): Metric {
    return this.metric('Invocations', { statistic: 'Sum', ...options });
  }

  public metricInvocation4xxErrors(options?: MetricOptions): Metric {
    return this.metric('Invocation4XXErrors', { statistic: 'Sum', ...options });
  }

  public metricInvocation5xxErrors(options?: MetricOptions): Metric {
    return this.metric('Invocation5XXErrors', { statistic: 'Sum', ...options });
  }

  /** Time the model container takes to answer, in microseconds. */
  public metricModelLatency(options?: MetricOptions): Metric {
    return this.metric('ModelLatency', { statistic: 'p99', ...options });
  }

  /** SageMaker's own overhead per request, in microseconds. */
  public metricOverheadLatency(options?: MetricOptions): Metric {
    return this.metric('OverheadLatency', { statistic: 'p99', ...options });
  }

  /** Requests in flight per model copy (the scaling metric, 10-second resolution). */
  public metricConcurrentRequests(options?: MetricOptions): Metric {
    return this.metric('ConcurrentRequestsPerModel', {
      statistic: 'Maximum',
      period: Duration.seconds(10),
      ...options,
    });
  }

  public metricGpuUtilization(options?: MetricOptions): Metric {
    return this.metric('GPUUtilization', {
      namespace: '/aws/sagemaker/Endpoints',
      statistic: 'Average',
      ...options,
    });
  }

  public metricGpuMemoryUtilization(options?: MetricOptions): Metric {
    return this.metric('GPUMemoryUtilization', {
      namespace: '/aws/sagemaker/Endpoints',
      statistic: 'Average',
      ...options,
    });
  }

  public metricCpuUtilization(options?: MetricOptions): Metric {
    return this.metric('CPUUtilization', {
      namespace: '/aws/sagemaker/Endpoints',
      statistic: 'Average',
      ...options,
    });
  }
}
