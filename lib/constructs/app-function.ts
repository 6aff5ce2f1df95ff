import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type Alarm, type IAlarm, type Metric, type MetricOptions, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import {
  type ILambdaApplication,
  type ILambdaDeploymentConfig,
  LambdaDeploymentConfig,
  LambdaDeploymentGroup,
  TrafficRouting,
} from 'aws-cdk-lib/aws-codedeploy';
import {
  type IGrantable,
  type IPrincipal,
  ManagedPolicy,
  Policy,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, type IFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { METRICS_NAMESPACE, type MetricName } from '../../lambdas/contracts/metrics';
import type { AppFunctionName } from '../config';
import { acknowledgeManagedPolicy } from '../nag';
import { alarm, type Watched } from './monitoring/alarm';
import { type CustomMetricOptions, customMetric, FIVE_MINUTES } from './monitoring/metrics';
import type { AlarmThresholds } from './monitoring/thresholds';

/** The folder holding `lambdas/<fn>/handler.ts`. */
export const LAMBDAS_DIR = fileURLToPath(new URL('../../lambdas/', import.meta.url));

/** The repository root: esbuild's project root, holding the one package-lock.json. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where a function's handler lives; fails loudly when the file is missing instead of deploying nothing. */
export function handlerEntry(functionName: string): string {
  const entry = `${LAMBDAS_DIR}${functionName}/handler.ts`;
  if (!existsSync(entry)) {
    throw new Error(
      `Missing Lambda entry for "${functionName}": expected ${entry} exporting \`handler\`. ` +
        'Every function the stacks deploy must exist before synth.',
    );
  }
  return entry;
}

/** Environment variables a function receives: names come from the shared contract, never ad-hoc strings. */
export type FunctionEnvironment = Partial<Record<EnvName, string>>;

export interface AppFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts`. */
  readonly functionName: AppFunctionName | 'alerts-slack';
  /** One line saying what the function does. */
  readonly description: string;
  /** How long CloudWatch keeps the function's logs. */
  readonly logRetention: RetentionDays;
  /** @default - none beyond the Powertools settings */
  readonly environment?: FunctionEnvironment;
  /** @default 29 seconds (the API Gateway limit for buffered responses) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - unreserved (shares the account's pool) */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Environments kept initialized on the `live` alias; callers then invoke the alias (`invokeTarget`), since
   * provisioned concurrency serves only invocations of that alias.
   * @default 0 (none)
   */
  readonly provisionedConcurrency?: number;
  /**
   * How CodeDeploy moves the `live` alias to a new version (canary, linear, all at once). The function's own
   * error alarm and every alarm passed to `watchRelease` roll a release back when they fire.
   * @default - no gradual release: a deploy switches every request at once
   */
  readonly releaseConfig?: ILambdaDeploymentConfig;
  /**
   * The CodeDeploy application the functions of one stack share for their releases.
   * @default - an application of the function's own (only with `releaseConfig`)
   */
  readonly releaseApplication?: ILambdaApplication;
  /**
   * The X-Ray write policy the functions of one stack share (one IAM5 acknowledgement for all of them).
   * @default - a policy of the function's own
   */
  readonly tracingPolicy?: TracingPolicy;
}

/** How a release moves traffic: the stage config's `release.functions`. */
export interface ReleaseSettings {
  readonly type: 'canary' | 'linear' | 'all-at-once';
  /** Share of requests per step. */
  readonly percent: number;
  /** Minutes between steps. */
  readonly intervalMinutes: number;
}

/** The CodeDeploy deployment config for `settings` (a custom one: CodeDeploy's predefined set is fixed). */
export function releaseConfig(
  scope: Construct,
  id: string,
  settings: ReleaseSettings,
): ILambdaDeploymentConfig {
  if (settings.type === 'all-at-once') return LambdaDeploymentConfig.ALL_AT_ONCE;
  const step = { interval: Duration.minutes(settings.intervalMinutes), percentage: settings.percent };
  return new LambdaDeploymentConfig(scope, id, {
    trafficRouting:
      settings.type === 'canary'
        ? TrafficRouting.timeBasedCanary(step)
        : TrafficRouting.timeBasedLinear(step),
  });
}

/**
 * X-Ray's two write actions, which have no resource type, in one customer-managed policy that every function of a
 * stack attaches: the IAM5 acknowledgement sits on this policy alone, never on a function's own grants.
 */
export class TracingPolicy extends Construct {
  public readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: 'Lets Lambda functions send X-Ray trace segments and telemetry',
      statements: [new PolicyStatement({ actions: [...XRAY_ACTIONS], resources: ['*'] })],
    });
    Validations.of(this.policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: XRAY_REASON });
  }
}

const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;
const XRAY_REASON = 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.';

/**
 * The house Lambda function: Node.js 22 on arm64, bundled by the local esbuild as minified ESM with source maps,
 * an explicit log group with retention, active X-Ray tracing and Powertools settings.
 */
export class AppFunction extends Construct implements IGrantable, Watched {
  /** The Lambda function itself (for event sources, integrations, metrics). */
  public readonly lambda: NodejsFunction;
  public readonly logGroup: LogGroup;
  /** The `Service` dimension of the function's EMF metrics (POWERTOOLS_SERVICE_NAME). */
  public readonly serviceName: string;
  /**
   * What integrations and event sources invoke: the `live` alias when the function has provisioned concurrency
   * or gradual releases, else the function.
   */
  public readonly invokeTarget: IFunction;
  /** The CodeDeploy deployment group that releases new versions to `live` (with `releaseConfig`). */
  public readonly release?: LambdaDeploymentGroup;
  private readonly ownAlarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    const entry = handlerEntry(props.functionName);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.lambda = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(29),
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        [EnvName.serviceName]: props.functionName,
        [EnvName.metricsNamespace]: METRICS_NAMESPACE,
        [EnvName.logLevel]: 'INFO',
        // Stack traces point into the TypeScript sources (the bundle ships its source map).
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        target: 'node22',
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL,
        mainFields: ['module', 'main'],
        // ESM bundles have no `require`; some CommonJS dependencies still call it.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        // The Node.js 22 runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
      },
    });
    this.serviceName = props.functionName;
    const provisioned = props.provisionedConcurrency ?? 0;
    if (!Number.isInteger(provisioned) || provisioned < 0) {
      throw new Error(
        `AppFunction ${props.functionName}: provisionedConcurrency ${provisioned} is not a count`,
      );
    }
    if (provisioned > 0 || props.releaseConfig) {
      // Provisioned concurrency stays on the alias while CodeDeploy shifts it from version to version.
      const live = this.lambda.addAlias('live', {
        provisionedConcurrentExecutions: provisioned > 0 ? provisioned : undefined,
      });
      this.invokeTarget = live;
      if (props.releaseConfig) {
        this.release = new LambdaDeploymentGroup(this, 'Release', {
          alias: live,
          application: props.releaseApplication,
          deploymentConfig: props.releaseConfig,
          autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
        });
        acknowledgeManagedPolicy(
          this.release,
          'service-role/AWSCodeDeployRoleForLambdaLimited',
          'The AWS managed CodeDeploy role for Lambda only shifts alias weights and reads the watched alarms.',
        );
      }
    } else {
      this.invokeTarget = this.lambda;
    }
    // Active tracing, with its two account-wide X-Ray actions in a policy apart, so the IAM5 acknowledgement
    // names that policy and nothing else the function may later be granted.
    const cfnFunction = this.lambda.node.defaultChild as CfnFunction;
    cfnFunction.tracingConfig = { mode: 'Active' };
    const role = this.lambda.role ?? fail(`${this.node.path} has no role`);
    if (props.tracingPolicy) {
      role.addManagedPolicy(props.tracingPolicy.policy);
      cfnFunction.node.addDependency(props.tracingPolicy.policy);
    } else {
      cfnFunction.node.addDependency(this.addAccountWidePolicy('TracingPolicy', XRAY_ACTIONS, XRAY_REASON));
    }

    acknowledgeManagedPolicy(
      this,
      'service-role/AWSLambdaBasicExecutionRole',
      'The AWS managed basic execution policy only lets the function write its own logs.',
    );
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is pinned on purpose: it matches the esbuild target and the tested toolchain.',
    });
  }

  /**
   * Grants actions that have no resource type (`Resource: *`) in a policy of their own, acknowledged for IAM5
   * there alone: every other statement of the function stays checked.
   */
  public addAccountWidePolicy(id: string, actions: readonly string[], reason: string): Policy {
    const policy = new Policy(this, id, {
      statements: [new PolicyStatement({ actions: [...actions], resources: ['*'] })],
    });
    policy.attachToRole(this.lambda.role ?? fail(`${this.node.path} has no role`));
    Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason });
    return policy;
  }

  /** Alarms on this function's errors and throttles (see `addAlarms`). */
  public get alarms(): Readonly<Record<string, Alarm>> {
    return this.ownAlarms;
  }

  /** Errors and throttles per 5 minutes above the thresholds. Call once, from the stack that owns the function. */
  public addAlarms(thresholds: AlarmThresholds): void {
    const name = this.serviceName;
    this.ownAlarms.Errors = alarm(this, 'ErrorsAlarm', {
      metric: this.metricErrors({ period: FIVE_MINUTES }),
      threshold: thresholds.lambdaErrorsPer5Min,
      description: `Function ${name} failed more than ${thresholds.lambdaErrorsPer5Min} times in 5 minutes.`,
    });
    this.ownAlarms.Throttles = alarm(this, 'ThrottlesAlarm', {
      metric: this.metricThrottles({ period: FIVE_MINUTES }),
      threshold: thresholds.lambdaThrottlesPer5Min,
      description: `Function ${name} was throttled more than ${thresholds.lambdaThrottlesPer5Min} times in 5 minutes.`,
    });
    // Throttles say capacity is short, not that the new code is bad: only errors roll a release back.
    this.watchRelease(this.ownAlarms.Errors);
  }

  /** Alarms that roll a release of this function back when they fire during it (no-op without `releaseConfig`). */
  public watchRelease(...alarms: readonly IAlarm[]): void {
    for (const each of alarms) this.release?.addAlarm(each);
  }

  /** Invocations that failed (sum). */
  public metricErrors(options?: MetricOptions): Metric {
    return this.lambda.metricErrors({ statistic: Stats.SUM, ...options });
  }

  /** Invocations refused for lack of concurrency (sum). */
  public metricThrottles(options?: MetricOptions): Metric {
    return this.lambda.metricThrottles({ statistic: Stats.SUM, ...options });
  }

  /** @default p99 */
  public metricDuration(options?: MetricOptions): Metric {
    return this.lambda.metricDuration({ statistic: Stats.percentile(99), ...options });
  }

  /** Environments running at once (maximum): what reserved and provisioned concurrency are sized against. */
  public metricConcurrentExecutions(options?: MetricOptions): Metric {
    return this.lambda.metric('ConcurrentExecutions', { statistic: Stats.MAXIMUM, ...options });
  }

  /** One of the product metrics this function emits (EMF, `service` = this function's name). */
  public metricProduct(metricName: MetricName, options: Omit<CustomMetricOptions, 'service'>): Metric {
    return customMetric(metricName, { ...options, service: this.serviceName });
  }

  public get grantPrincipal(): IPrincipal {
    return this.lambda.grantPrincipal;
  }

  /** Sets one contract-named environment variable (used by the constructs' `grantXxx` methods). */
  public setEnvironment(name: EnvName, value: string): this {
    this.lambda.addEnvironment(name, value);
    return this;
  }
}

function fail(message: string): never {
  throw new Error(message);
}
