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
  private readonly endpoint: CfnEndpoint;
  private readonly component?: CfnInferenceComponent;
  private readonly scaling: ScalableTarget;
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
      ...(scalesToZero ? [logGroups('/aws/sagemaker/InferenceComponents')] : []),
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
    acknowledgeWildcardResource(
      this.role,
      weights,
      'The endpoint reads every weight file under the model prefix.',
    );
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
    // The role's policies must exist before SageMaker tries to pull the image and the weights.
    model.node.addDependency(this.role, accountWide);

    const volumeEncryption = supportsVolumeEncryption(props.instanceType);
    const routingConfig = { routingStrategy: 'LEAST_OUTSTANDING_REQUESTS' };
    const endpointConfig = new CfnEndpointConfig(this, 'Config', {
      kmsKeyId: volumeEncryption ? props.encryptionKey.keyArn : undefined,
      // Endpoints of inference components run the copies with the endpoint's role.
      executionRoleArn: scalesToZero ? this.role.roleArn : undefined,
      productionVariants: [
        scalesToZero
          ? {
              variantName: this.variantName,
              instanceType: props.instanceType,
              initialInstanceCount: 1,
              // Instances follow the copies: none while no copy runs.
              managedInstanceScaling: {
                status: 'ENABLED',
                minInstanceCount: 0,
                maxInstanceCount: props.maxInstances,
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

    if (scalesToZero) {
      this.component = new CfnInferenceComponent(this, 'Component', {
        endpointName: this.endpointName,
        variantName: this.variantName,
        specification: {
          modelName: model.attrModelName,
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
        runtimeConfig: { copyCount: 1 },
      });
      // CloudFormation returns the component's ARN only: its name is what follows `inference-component/`.
      this.componentArn = this.component.attrInferenceComponentArn;
      this.componentName = Fn.select(1, Fn.split('/', this.componentArn));
    }

    this.scaling = new ScalableTarget(this, 'Scaling', {
      serviceNamespace: ServiceNamespace.SAGEMAKER,
      ...(this.componentName === undefined
        ? {
            resourceId: `endpoint/${this.endpointName}/variant/${this.variantName}`,
            scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
          }
        : {
            resourceId: `inference-component/${this.componentName}`,
            scalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
          }),
      minCapacity: props.minInstances,
      maxCapacity: props.maxInstances,
    });
    this.scaling.node.addDependency(this.component ?? this.endpoint);
    this.scaling.scaleToTrackMetric('ConcurrentRequests', {
      predefinedMetric: scalesToZero
        ? PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION
        : PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION,
      targetValue: props.targetConcurrentRequestsPerModel,
      // Scale out fast (a new GPU instance takes minutes); scale in slowly.
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(10),
    });
    if (scalesToZero) this.wakeOnRequest();
  }

  /**
   * Target tracking never scales out from zero copies (no copy, no concurrency to track): a request that finds no
   * copy counts in `NoCapacityInvocationFailures`, whose alarm adds one copy (and so an instance).
   */
  private wakeOnRequest(): void {
    const wake = new StepScalingAction(this, 'Wake', {
      scalingTarget: this.scaling,
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: Duration.minutes(1),
    });
    wake.addAdjustment({ lowerBound: 0, adjustment: 1 });
    const waking = alarm(this, 'WakeAlarm', {
      metric: this.metricNoCapacityInvocationFailures(),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: 'A request found no model copy: add one (scale up from zero).',
    });
    waking.addAlarmAction(new ApplicationScalingAction(wake));
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
          ...(props.contextTokens === undefined ? {} : { OPTION_MAX_MODEL_LEN: String(props.contextTokens) }),
        },
      };
    }
    const asset = new DockerImageAsset(this, 'Image', {
      directory: engine.imageDirectory,
      platform: Platform.LINUX_AMD64,
    });
    // Not `grantPull`: its ecr:GetAuthorizationToken (Resource *) is already in the account-wide policy.
    asset.repository.grant(
      this.role,
      'ecr:BatchCheckLayerAvailability',
      'ecr:GetDownloadUrlForLayer',
      'ecr:BatchGetImage',
    );
    return {
      image: asset.imageUri,
      environment: {
        MODEL_PATH: SAGEMAKER_MODEL_DIR,
        MODEL_NAME: props.modelId,
        // The adapter runs llama-server with -np SEQUENCES -c CONTEXT_SIZE×SEQUENCES --jinja --metrics;
        // every layer on the GPU.
        SEQUENCES: String(engine.sequences),
        ...(props.contextTokens === undefined ? {} : { CONTEXT_SIZE: String(props.contextTokens) }),
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

  /** The IAM half of `grantInvoke`: the permission alone, and the targets as the inference client lists them. */
  public grantInvokePolicy(fn: AppFunction, fallbacks: readonly InferenceEndpoint[] = []): InvokeTargets {
    const targets = this.invokeTargets(fallbacks);
    const all = [this, ...fallbacks];
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
        resources: all.flatMap((each) => [
          each.endpointArn,
          ...(each.componentArn ? [each.componentArn] : []),
        ]),
      }),
    );
    return targets;
  }

  /** This endpoint by name, then each fallback by ARN, with the component of each ('' where none). */
  public invokeTargets(fallbacks: readonly InferenceEndpoint[] = []): InvokeTargets {
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
      components: [this, ...fallbacks].map((each) => each.componentName ?? ''),
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
    // The update policy names these alarms and the alarms name the endpoint: fixed alarm names break the cycle.
    const names: string[] = [];
    const alarmName = (suffix: string) => {
      const name = `${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}-${suffix}`;
      names.push(name);
      return name;
    };
    this.ownAlarms.InvocationErrors = alarm(this, 'InvocationErrorsAlarm', {
      metric: this.metricInvocation5xxErrors({ period: FIVE_MINUTES }),
      threshold: t.sageMakerInvocationErrorsPer5Min,
      alarmName: alarmName('invocation-errors'),
      description: `The model endpoint returned more than ${t.sageMakerInvocationErrorsPer5Min} 5XX errors in 5 minutes.`,
    });
    this.ownAlarms.ModelLatencyP99 = alarm(this, 'ModelLatencyAlarm', {
      // ModelLatency is in microseconds.
      metric: this.metricModelLatency(),
      threshold: t.sageMakerModelLatencyP99Ms * 1000,
      ...SUSTAINED,
      alarmName: alarmName('model-latency'),
      description: `Model latency p99 is above ${t.sageMakerModelLatencyP99Ms} ms.`,
    });
    const minimum = Math.max(t.minHealthyInstances, 1);
    this.ownAlarms.NoHealthyCapacity =
      this.component === undefined
        ? alarm(this, 'NoHealthyCapacityAlarm', {
            metric: this.metricInstancesReporting(),
            threshold: minimum,
            comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluationPeriods: 3,
            // No data at all means no instance is running.
            treatMissingData: TreatMissingData.BREACHING,
            alarmName: alarmName('no-healthy-capacity'),
            description: `Fewer than ${minimum} model endpoint instance(s) are reporting: no healthy capacity.`,
          })
        : alarm(this, 'NoHealthyCapacityAlarm', {
            // Idle at zero copies is normal; requests still finding no copy long after the wake-up began are not.
            metric: this.metricNoCapacityInvocationFailures(),
            threshold: 0,
            evaluationPeriods: 15,
            datapointsToAlarm: 10,
            alarmName: alarmName('no-healthy-capacity'),
            description: 'Requests found no model copy in 10 of 15 minutes: the model did not wake up.',
          });
    this.rollBackOn(names);
  }

  /**
   * Updates shift traffic gradually and roll back when an alarm fires: blue/green with a canary (a single instance
   * shifts at once, then bakes) for a plain endpoint; a rolling update of copies for an inference component.
   */
  private rollBackOn(alarmNames: readonly string[]): void {
    const { canaryPercent, bakeSeconds, timeoutSeconds, canary } = this.release;
    const autoRollbackConfiguration = { alarms: alarmNames.map((alarmName) => ({ alarmName })) };
    if (this.component) {
      const batch = { type: 'CAPACITY_PERCENT', value: canaryPercent };
      this.component.deploymentConfig = {
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
  private metric(metricName: string, options: MetricOptions & { namespace?: string } = {}): Metric {
    return new Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      dimensionsMap:
        this.componentName === undefined || options.namespace === INSTANCE_NAMESPACE
          ? { EndpointName: this.endpointName, VariantName: this.variantName }
          : { InferenceComponentName: this.componentName },
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
