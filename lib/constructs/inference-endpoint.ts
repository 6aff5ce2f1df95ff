import { Arn, ArnFormat, Duration, Fn, Names, Stack, Validations } from 'aws-cdk-lib';
import {
  AdjustmentType,
  MetricAggregationType,
  PredefinedMetric,
  ScalableTarget,
  ServiceNamespace,
  StepScalingAction,
} from 'aws-cdk-lib/aws-applicationautoscaling';
import {
  type Alarm,
  ComparisonOperator,
  Metric,
  type MetricOptions,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationScalingAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Effect, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { CfnEndpoint, CfnEndpointConfig, CfnInferenceComponent, CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { acknowledgeWildcardResource } from '../nag';
import type { AppFunction } from './app-function';
import { alarm, SUSTAINED, type Watched } from './monitoring/alarm';
import { FIVE_MINUTES } from './monitoring/metrics';
import type { AlarmThresholds } from './monitoring/thresholds';

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

/** A model an endpoint hosts as an inference component beside its own. */
export interface HostedModelSpec {
  readonly modelId: string;
  /** Key prefix of its weights in the endpoint's model bucket, ending in `/`. */
  readonly modelPrefix: string;
  /** @default the engine's own (see `InferenceEndpointProps.contextTokens`) */
  readonly contextTokens?: number;
  /** vLLM's tool-call parser for it. @default the engine's `toolCallParser` */
  readonly toolCallParser?: string;
}

/** One model as its container is set up: which, from where, with what context and tool-call parser. */
interface ServedSpec {
  readonly modelId: string;
  readonly modelPrefix: string;
  readonly contextTokens?: number | undefined;
  readonly toolCallParser?: string | undefined;
}

/** What serves one model: its model, its component (when it is one) and the scaling of its copies or instances. */
interface ServedComponent {
  readonly scope: Construct;
  readonly component: CfnInferenceComponent;
  readonly componentName: string;
  readonly componentArn: string;
}

/** Where a function calls a model: endpoints (this region's by name, then fallbacks by ARN) and their components. */
export interface InvokeTargets {
  readonly endpoints: readonly string[];
  /** Position by position with `endpoints`; '' where the endpoint serves the model directly. */
  readonly components: readonly string[];
}

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
  /**
   * More models served on this endpoint, each as an inference component of its own beside this endpoint's model
   * (which is then a component too): their own weights, copies, autoscaling, alarms and rolling updates, sharing
   * the endpoint's instances.
   * @default none
   */
  readonly hostedModels?: readonly HostedModelSpec[];
  /**
   * Tokens of one sequence's context, given to the engine (LMI `OPTION_MAX_MODEL_LEN`; the llama.cpp image's
   * `CONTEXT_SIZE` per slot).
   * @default the engine's own: the model's full context on vLLM, 4096 per slot on the llama.cpp image
   */
  readonly contextTokens?: number;
  /** e.g. `ml.g5.2xlarge`. */
  readonly instanceType: string;
  /**
   * 0 serves the model as an inference component whose copies (and the instances under them) scale to zero when
   * idle and wake on the first request that finds no copy.
   */
  readonly minInstances: number;
  readonly maxInstances: number;
  /** In-flight requests per model copy the autoscaler aims for. */
  readonly targetConcurrentRequestsPerModel: number;
  /**
   * With `minInstances: 0`: memory one model copy reserves when SageMaker places it (a reservation, not a limit;
   * the schedulable share of an instance is well below its memory).
   * @default 1024
   */
  readonly memoryPerCopyMb?: number;
  /** With `minInstances: 0`: accelerators (GPUs) one model copy uses. @default 1 */
  readonly acceleratorsPerCopy?: number;
  /**
   * Share of the new fleet's capacity that takes traffic first during an update (at most 50 %). Fleets of one
   * instance cannot split, so they shift at once and are still watched for `bakeTime`.
   * @default 10
   */
  readonly canaryPercent?: number;
  /** How long the rollback alarms watch each step of an update. @default 10 minutes */
  readonly bakeTime?: Duration;
  /** @default 20 minutes */
  readonly startupHealthCheckTimeout?: Duration;
  /** @default 20 minutes */
  readonly modelDataDownloadTimeout?: Duration;
  /**
   * Require at least this many instances (production: 2, spread across AZs by SageMaker; 0 allows scaling to zero).
   * @default 1
   */
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
export class InferenceEndpoint extends Construct implements Watched {
  public readonly endpointName: string;
  public readonly endpointArn: string;
  public readonly variantName = 'AllTraffic';
  public readonly role: Role;
  /** The inference component serving the model (with `minInstances: 0`), passed as `InferenceComponentName`. */
  public readonly componentName?: string;
  public readonly componentArn?: string;
  private readonly modelId: string;
  private readonly ownAlarms: Record<string, Alarm> = {};
  /** The hosted models (`hostedModels`) by id. */
  private readonly hosted = new Map<string, ServedComponent>();
  /** The llama.cpp image, built once for every model the endpoint serves. */
  private imageAsset?: DockerImageAsset;
  private readonly endpoint: CfnEndpoint;
  private readonly component?: CfnInferenceComponent;
  private readonly release: {
    readonly canaryPercent: number;
    readonly bakeSeconds: number;
    readonly timeoutSeconds: number;
    readonly canary: boolean;
  };

  constructor(scope: Construct, id: string, props: InferenceEndpointProps) {
    super(scope, id);
    const required = props.requiredMinInstances ?? 1;
    if (props.minInstances < required || props.minInstances < 0) {
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
    const canaryPercent = props.canaryPercent ?? 10;
    if (!Number.isInteger(canaryPercent) || canaryPercent < 1 || canaryPercent > 50) {
      throw new Error(`canaryPercent must be a whole percentage from 1 to 50, got ${canaryPercent}`);
    }
    this.modelId = props.modelId;
    const stack = Stack.of(this);
    const scalesToZero = props.minInstances === 0;
    const hostedModels = props.hostedModels ?? [];
    // Several models share the endpoint as components; one model is a component when it scales to zero.
    const asComponents = scalesToZero || hostedModels.length > 0;
    for (const hosted of hostedModels) {
      if (!hosted.modelPrefix.endsWith('/'))
        throw new Error(`modelPrefix must end with "/", got "${hosted.modelPrefix}"`);
      if (
        hosted.modelId === props.modelId ||
        hostedModels.filter((m) => m.modelId === hosted.modelId).length > 1
      )
        throw new Error(`InferenceEndpoint: model ${hosted.modelId} is served twice`);
    }
    const startupSeconds = (props.startupHealthCheckTimeout ?? Duration.minutes(20)).toSeconds();
    const downloadSeconds = (props.modelDataDownloadTimeout ?? Duration.minutes(20)).toSeconds();
    const bakeSeconds = (props.bakeTime ?? Duration.minutes(10)).toSeconds();
    this.release = {
      canaryPercent,
      bakeSeconds,
      // New instances download the weights and start before the first step, then each step bakes.
      timeoutSeconds: Math.min(
        14_400,
        Math.max(600, downloadSeconds + startupSeconds + 2 * bakeSeconds + 900),
      ),
      canary: props.minInstances >= 2,
    };

    this.role = new Role(this, 'ExecutionRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SageMaker endpoint: pull the image, read model weights, write logs and metrics',
    });
    const prefixes = [props.modelPrefix, ...hostedModels.map((hosted) => hosted.modelPrefix)];
    const weights = prefixes.map((prefix) => props.modelBucket.arnForObjects(`${prefix}*`));
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: weights }));
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.modelBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [props.encryptionKey.keyArn],
      }),
    );
    const logGroups = (prefix: string) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${prefix}/*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    // An inference component's containers log under its own prefix.
    const logs = [
      logGroups('/aws/sagemaker/Endpoints'),
      ...(asComponents ? [logGroups('/aws/sagemaker/InferenceComponents')] : []),
    ];
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: logs,
      }),
    );
    for (const each of weights) {
      acknowledgeWildcardResource(
        this.role,
        each,
        'The endpoint reads every weight file under the model prefix.',
      );
    }
    for (const each of logs) {
      acknowledgeWildcardResource(
        this.role,
        each,
        'SageMaker names the endpoint and inference component log groups after their generated names.',
      );
    }
    // The two actions without a resource type, in a policy of their own: the IAM5 acknowledgement names it alone.
    const accountWide = new Policy(this, 'AccountWidePolicy', {
      roles: [this.role],
      statements: [
        new PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
        }),
        // ECR's authorization token is account-wide: the action has no resource type.
        new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
      ],
    });
    Validations.of(accountWide).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource type; cloudwatch:PutMetricData is limited to SageMaker namespaces by condition.',
    });

    const servedModel = (scope: Construct, served: ServedSpec): CfnModel => {
      const { image, environment } = this.container(props, stack, served);
      const model = new CfnModel(scope, 'Model', {
        executionRoleArn: this.role.roleArn,
        enableNetworkIsolation: true,
        primaryContainer: {
          image,
          environment,
          modelDataSource: {
            s3DataSource: {
              s3Uri: props.modelBucket.s3UrlForObject(served.modelPrefix),
              s3DataType: 'S3Prefix',
              compressionType: 'None',
            },
          },
        },
      });
      // The role's policies must exist before SageMaker tries to pull the image and the weights.
      model.node.addDependency(this.role, accountWide);
      return model;
    };
    const model = servedModel(this, {
      modelId: props.modelId,
      modelPrefix: props.modelPrefix,
      contextTokens: props.contextTokens,
      toolCallParser: props.engine.kind === 'vllm' ? props.engine.toolCallParser : undefined,
    });

    const volumeEncryption = supportsVolumeEncryption(props.instanceType);
    const routingConfig = { routingStrategy: 'LEAST_OUTSTANDING_REQUESTS' };
    const endpointConfig = new CfnEndpointConfig(this, 'Config', {
      kmsKeyId: volumeEncryption ? props.encryptionKey.keyArn : undefined,
      // Endpoints of inference components run the copies with the endpoint's role.
      executionRoleArn: asComponents ? this.role.roleArn : undefined,
      productionVariants: [
        asComponents
          ? {
              variantName: this.variantName,
              instanceType: props.instanceType,
              initialInstanceCount: 1,
              // Instances follow the copies: none while no copy runs; room for every model's copies at most.
              managedInstanceScaling: {
                status: 'ENABLED',
                minInstanceCount: 0,
                maxInstanceCount: props.maxInstances * (1 + hostedModels.length),
              },
              routingConfig,
            }
          : {
              variantName: this.variantName,
              modelName: model.attrModelName,
              instanceType: props.instanceType,
              initialInstanceCount: props.minInstances,
              containerStartupHealthCheckTimeoutInSeconds: startupSeconds,
              modelDataDownloadTimeoutInSeconds: downloadSeconds,
              routingConfig,
            },
      ],
    });
    if (volumeEncryption) {
      // SageMaker encrypts the instances' volumes through grants it creates for them: only grants for AWS
      // resources, never one the role could hand to a principal of its own.
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['kms:CreateGrant'],
          resources: [props.encryptionKey.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      );
    } else {
      Validations.of(endpointConfig).acknowledge({
        id: 'AwsSolutions-SM2',
        reason: `${props.instanceType} uses local NVMe instance storage, which is hardware-encrypted; SageMaker rejects a volume KMS key for it.`,
      });
    }

    this.endpoint = new CfnEndpoint(this, 'Endpoint', {
      endpointConfigName: endpointConfig.attrEndpointConfigName,
    });
    this.endpointName = this.endpoint.attrEndpointName;
    this.endpointArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: this.endpointName,
    });

    const copies = (scope: Construct, served: CfnModel): CfnInferenceComponent =>
      new CfnInferenceComponent(scope, 'Component', {
        endpointName: this.endpointName,
        variantName: this.variantName,
        specification: {
          modelName: served.attrModelName,
          computeResourceRequirements: {
            minMemoryRequiredInMb: props.memoryPerCopyMb ?? 1024,
            numberOfAcceleratorDevicesRequired: props.acceleratorsPerCopy ?? 1,
          },
          startupParameters: {
            containerStartupHealthCheckTimeoutInSeconds: startupSeconds,
            modelDataDownloadTimeoutInSeconds: downloadSeconds,
          },
        },
        // One copy to start with (the scaling target needs a component in service); idle, it scales to zero.
        runtimeConfig: { copyCount: Math.max(1, props.minInstances) },
      });
    if (asComponents) {
      this.component = copies(this, model);
      // CloudFormation returns the component's ARN only: its name is what follows `inference-component/`.
      this.componentArn = this.component.attrInferenceComponentArn;
      this.componentName = Fn.select(1, Fn.split('/', this.componentArn));
    }

    this.scaleCopies(this, props, this.componentName, this.component ?? this.endpoint);
    for (const hosted of hostedModels) {
      const scope = new Construct(this, `Model-${hosted.modelId}`);
      const component = copies(scope, servedModel(scope, hosted));
      const componentArn = component.attrInferenceComponentArn;
      const componentName = Fn.select(1, Fn.split('/', componentArn));
      this.scaleCopies(scope, props, componentName, component);
      this.hosted.set(hosted.modelId, { scope, component, componentName, componentArn });
    }
  }

  /**
   * Target tracking on in-flight requests per copy (a component) or per instance; a component that may have no
   * copies also wakes on the first request that finds none.
   */
  private scaleCopies(
    scope: Construct,
    props: InferenceEndpointProps,
    componentName: string | undefined,
    scaled: CfnInferenceComponent | CfnEndpoint,
  ): ScalableTarget {
    const scaling = new ScalableTarget(scope, 'Scaling', {
      serviceNamespace: ServiceNamespace.SAGEMAKER,
      ...(componentName === undefined
        ? {
            resourceId: `endpoint/${this.endpointName}/variant/${this.variantName}`,
            scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
          }
        : {
            resourceId: `inference-component/${componentName}`,
            scalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
          }),
      minCapacity: props.minInstances,
      maxCapacity: props.maxInstances,
    });
    scaling.node.addDependency(scaled);
    scaling.scaleToTrackMetric('ConcurrentRequests', {
      predefinedMetric:
        componentName === undefined
          ? PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION
          : PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
      targetValue: props.targetConcurrentRequestsPerModel,
      // Scale out fast (a new GPU instance takes minutes); scale in slowly.
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(10),
    });
    if (componentName !== undefined && props.minInstances === 0)
      this.wakeOnRequest(scope, scaling, componentName);
    return scaling;
  }

  /**
   * Target tracking never scales out from zero copies (no copy, no concurrency to track): a request that finds no
   * copy counts in `NoCapacityInvocationFailures`, whose alarm adds one copy (and so an instance).
   */
  private wakeOnRequest(scope: Construct, scaling: ScalableTarget, componentName: string): void {
    const wake = new StepScalingAction(scope, 'Wake', {
      scalingTarget: scaling,
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: Duration.minutes(1),
    });
    wake.addAdjustment({ lowerBound: 0, adjustment: 1 });
    const waking = alarm(scope, 'WakeAlarm', {
      metric: this.metric('NoCapacityInvocationFailures', { statistic: 'Sum' }, componentName),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: 'A request found no model copy: add one (scale up from zero).',
    });
    waking.addAlarmAction(new ApplicationScalingAction(wake));
  }

  private container(
    props: InferenceEndpointProps,
    stack: Stack,
    served: ServedSpec,
  ): { image: string; environment: Record<string, string> } {
    const { engine } = props;
    if (engine.kind === 'vllm') {
      const image = lmiImageUri(stack.region, engine.imageTag);
      const registryAccount = image.split('.')[0] ?? '';
      // Once, with the endpoint's own model: hosted models pull the same image.
      if (served.modelId === props.modelId)
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
          OPTION_SERVED_MODEL_NAME: served.modelId,
          // A conversation's turns share their prefix: reuse its KV blocks instead of prefilling it again.
          OPTION_ENABLE_PREFIX_CACHING: 'true',
          // `tools` / `tool_choice: auto` parsed from the model's output (forced choices use guided decoding).
          OPTION_ENABLE_AUTO_TOOL_CHOICE: 'true',
          OPTION_TOOL_CALL_PARSER: served.toolCallParser ?? engine.toolCallParser ?? 'hermes',
          ...(served.contextTokens === undefined
            ? {}
            : { OPTION_MAX_MODEL_LEN: String(served.contextTokens) }),
        },
      };
    }
    const built = this.imageAsset;
    const asset =
      built ??
      new DockerImageAsset(this, 'Image', {
        directory: engine.imageDirectory,
        platform: Platform.LINUX_AMD64,
      });
    this.imageAsset = asset;
    // Not `grantPull`: its ecr:GetAuthorizationToken (Resource *) is already in the account-wide policy.
    if (built === undefined) {
      asset.repository.grant(
        this.role,
        'ecr:BatchCheckLayerAvailability',
        'ecr:GetDownloadUrlForLayer',
        'ecr:BatchGetImage',
      );
    }
    return {
      image: asset.imageUri,
      environment: {
        MODEL_PATH: SAGEMAKER_MODEL_DIR,
        MODEL_NAME: served.modelId,
        // The adapter runs llama-server with -np SEQUENCES -c CONTEXT_SIZE×SEQUENCES --jinja --metrics;
        // every layer on the GPU.
        SEQUENCES: String(engine.sequences),
        ...(served.contextTokens === undefined ? {} : { CONTEXT_SIZE: String(served.contextTokens) }),
        GPU_LAYERS: 'all',
      },
    };
  }

  /**
   * Lets a function stream from this endpoint and, in order, from each fallback (other regions' endpoints), and
   * names them all in `INFERENCE_ENDPOINTS`: this endpoint by name, each fallback by ARN, which carries the
   * region the inference client must call it in.
   */
  public grantInvoke(fn: AppFunction, fallbacks: readonly InferenceEndpoint[] = []): void {
    const targets = this.grantInvokePolicy(fn, fallbacks);
    fn.setEnvironment(EnvName.inferenceEndpoints, targets.endpoints.join(','));
    if (targets.components.some((component) => component !== '')) {
      fn.setEnvironment(EnvName.inferenceComponents, targets.components.join(','));
    }
    fn.setEnvironment(EnvName.modelId, this.modelId);
  }

  /**
   * The IAM half of `grantInvoke`: the permission alone (to `modelId`'s component where it is one), and the
   * targets as the inference client lists them.
   */
  public grantInvokePolicy(
    fn: AppFunction,
    fallbacks: readonly InferenceEndpoint[] = [],
    modelId: string = this.modelId,
  ): InvokeTargets {
    const targets = this.invokeTargets(fallbacks, modelId);
    const all = [this, ...fallbacks];
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
        resources: all.flatMap((each) => {
          const componentArn = each.servedComponent(modelId)?.componentArn;
          return [each.endpointArn, ...(componentArn ? [componentArn] : [])];
        }),
      }),
    );
    return targets;
  }

  /** The name of the inference component serving `modelId` here; undefined where the endpoint serves it directly. */
  public componentNameFor(modelId: string): string | undefined {
    return this.servedComponent(modelId)?.componentName;
  }

  /** The component serving a model this endpoint serves (undefined: the endpoint serves it directly). */
  private servedComponent(
    modelId: string,
  ): Pick<ServedComponent, 'componentName' | 'componentArn'> | undefined {
    if (modelId === this.modelId)
      return this.componentName === undefined || this.componentArn === undefined
        ? undefined
        : { componentName: this.componentName, componentArn: this.componentArn };
    const hosted = this.hosted.get(modelId);
    if (hosted === undefined)
      throw new Error(`InferenceEndpoint: the endpoint of ${this.modelId} does not serve ${modelId}`);
    return hosted;
  }

  /**
   * This endpoint by name, then each fallback by ARN, with the component serving `modelId` on each ('' where the
   * endpoint serves it directly).
   */
  public invokeTargets(
    fallbacks: readonly InferenceEndpoint[] = [],
    modelId: string = this.modelId,
  ): InvokeTargets {
    const seen = new Set([Stack.of(this).region]);
    for (const fallback of fallbacks) {
      const region = Stack.of(fallback).region;
      if (seen.has(region)) {
        throw new Error(`InferenceEndpoint.grantInvoke: a fallback in ${region} serves no other region`);
      }
      seen.add(region);
    }
    return {
      endpoints: [this.endpointName, ...fallbacks.map((fallback) => fallback.endpointArn)],
      components: [this, ...fallbacks].map((each) => each.servedComponent(modelId)?.componentName ?? ''),
    };
  }

  /** The endpoint's alarms: server errors, slow model, no healthy capacity. */
  public get alarms(): Readonly<Record<string, Alarm>> {
    return this.ownAlarms;
  }

  /**
   * The endpoint's alarms, which also judge its updates: a breach during one rolls it back. Call once, from the
   * stack that owns the endpoint.
   */
  public addAlarms(t: AlarmThresholds): void {
    Object.assign(this.ownAlarms, this.servedAlarms(this, this.component, this.componentName, t));
    for (const [modelId, hosted] of this.hosted) {
      const alarms = this.servedAlarms(hosted.scope, hosted.component, hosted.componentName, t);
      for (const [name, each] of Object.entries(alarms)) this.ownAlarms[`${modelId}.${name}`] = each;
    }
  }

  /** One served model's alarms (its component's, or the endpoint's), which also roll back its updates. */
  private servedAlarms(
    scope: Construct,
    component: CfnInferenceComponent | undefined,
    componentName: string | undefined,
    t: AlarmThresholds,
  ): Record<string, Alarm> {
    // The update policy names these alarms and the alarms name the endpoint: fixed alarm names break the cycle.
    const names: string[] = [];
    const alarmName = (suffix: string) => {
      const name = `${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${suffix}`;
      names.push(name);
      return name;
    };
    const metric = (metricName: string, options: MetricOptions) =>
      this.metric(metricName, options, componentName);
    const alarms: Record<string, Alarm> = {};
    alarms.InvocationErrors = alarm(scope, 'InvocationErrorsAlarm', {
      metric: metric('Invocation5XXErrors', { statistic: 'Sum', period: FIVE_MINUTES }),
      threshold: t.sageMakerInvocationErrorsPer5Min,
      alarmName: alarmName('invocation-errors'),
      description: `The model endpoint returned more than ${t.sageMakerInvocationErrorsPer5Min} 5XX errors in 5 minutes.`,
    });
    alarms.ModelLatencyP99 = alarm(scope, 'ModelLatencyAlarm', {
      // ModelLatency is in microseconds.
      metric: metric('ModelLatency', { statistic: 'p99' }),
      threshold: t.sageMakerModelLatencyP99Ms * 1000,
      ...SUSTAINED,
      alarmName: alarmName('model-latency'),
      description: `Model latency p99 is above ${t.sageMakerModelLatencyP99Ms} ms.`,
    });
    const minimum = Math.max(t.minHealthyInstances, 1);
    alarms.NoHealthyCapacity =
      component === undefined
        ? alarm(scope, 'NoHealthyCapacityAlarm', {
            metric: this.metricInstancesReporting(),
            threshold: minimum,
            comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluationPeriods: 3,
            // No data at all means no instance is running.
            treatMissingData: TreatMissingData.BREACHING,
            alarmName: alarmName('no-healthy-capacity'),
            description: `Fewer than ${minimum} model endpoint instance(s) are reporting: no healthy capacity.`,
          })
        : alarm(scope, 'NoHealthyCapacityAlarm', {
            // Idle at zero copies is normal; requests still finding no copy long after the wake-up began are not.
            metric: metric('NoCapacityInvocationFailures', { statistic: 'Sum' }),
            threshold: 0,
            evaluationPeriods: 15,
            datapointsToAlarm: 10,
            alarmName: alarmName('no-healthy-capacity'),
            description: 'Requests found no model copy in 10 of 15 minutes: the model did not wake up.',
          });
    this.rollBackOn(names, component);
    return alarms;
  }

  /**
   * Updates shift traffic gradually and roll back when an alarm fires: blue/green with a canary (a single instance
   * shifts at once, then bakes) for a plain endpoint; a rolling update of copies for an inference component.
   */
  private rollBackOn(alarmNames: readonly string[], component: CfnInferenceComponent | undefined): void {
    const { canaryPercent, bakeSeconds, timeoutSeconds, canary } = this.release;
    const autoRollbackConfiguration = { alarms: alarmNames.map((alarmName) => ({ alarmName })) };
    if (component) {
      const batch = { type: 'CAPACITY_PERCENT', value: canaryPercent };
      component.deploymentConfig = {
        rollingUpdatePolicy: {
          maximumBatchSize: batch,
          rollbackMaximumBatchSize: batch,
          waitIntervalInSeconds: bakeSeconds,
          maximumExecutionTimeoutInSeconds: Math.min(timeoutSeconds, 28_800),
        },
        autoRollbackConfiguration,
      };
    } else {
      this.endpoint.deploymentConfig = {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: canary
            ? {
                type: 'CANARY',
                canarySize: { type: 'CAPACITY_PERCENT', value: canaryPercent },
                waitIntervalInSeconds: bakeSeconds,
              }
            : { type: 'ALL_AT_ONCE', waitIntervalInSeconds: bakeSeconds },
          // The old fleet stays for one more bake after the last shift: a late alarm still rolls back.
          terminationWaitInSeconds: Math.min(bakeSeconds, 3600),
          maximumExecutionTimeoutInSeconds: timeoutSeconds,
        },
        autoRollbackConfiguration,
      };
    }
    // SageMaker reads the alarms' state with the endpoint's role while an update runs. ARNs from the names, not
    // references: the role must exist before the model, long before the alarms.
    const stack = Stack.of(this);
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: alarmNames.map((resourceName) =>
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
  }

  /**
   * A metric of the model: of the inference component when there is one (`InferenceComponentName`), else of the
   * endpoint's variant; in `AWS/SageMaker` unless `namespace` says otherwise.
   */
  private metric(
    metricName: string,
    options: MetricOptions & { namespace?: string } = {},
    componentName: string | undefined = this.componentName,
  ): Metric {
    return new Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap:
        componentName === undefined || options.namespace === INSTANCE_NAMESPACE
          ? { EndpointName: this.endpointName, VariantName: this.variantName }
          : { InferenceComponentName: componentName },
      period: Duration.minutes(1),
      ...options,
    });
  }

  private instanceMetric(metricName: string, statistic: string, options?: MetricOptions): Metric {
    return this.metric(metricName, { namespace: INSTANCE_NAMESPACE, statistic, ...options });
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

  /** Time the model container takes to answer, in microseconds. @default p99 */
  public metricModelLatency(options?: MetricOptions): Metric {
    return this.metric('ModelLatency', { statistic: 'p99', ...options });
  }

  /** SageMaker's own overhead per request, in microseconds. @default p99 */
  public metricOverheadLatency(options?: MetricOptions): Metric {
    return this.metric('OverheadLatency', { statistic: 'p99', ...options });
  }

  /** Requests in flight per model copy (maximum per minute; the scaling policy reads the 10-second series). */
  public metricConcurrentRequests(options?: MetricOptions): Metric {
    const metricName =
      this.componentName === undefined ? 'ConcurrentRequestsPerModel' : 'ConcurrentRequestsPerCopy';
    return this.metric(metricName, { statistic: 'Maximum', ...options });
  }

  /** Requests that found no model copy to serve them (inference components only: the wake-up signal). @default sum */
  public metricNoCapacityInvocationFailures(options?: MetricOptions): Metric {
    return this.metric('NoCapacityInvocationFailures', { statistic: 'Sum', ...options });
  }

  public metricGpuUtilization(options?: MetricOptions): Metric {
    return this.instanceMetric('GPUUtilization', 'Average', options);
  }

  public metricGpuMemoryUtilization(options?: MetricOptions): Metric {
    return this.instanceMetric('GPUMemoryUtilization', 'Average', options);
  }

  /** Instances up: each healthy instance reports its CPU once a minute, so the sample count counts them. */
  public metricInstancesReporting(options?: MetricOptions): Metric {
    return this.instanceMetric('CPUUtilization', 'SampleCount', options);
  }
}

const INSTANCE_NAMESPACE = '/aws/sagemaker/Endpoints';
