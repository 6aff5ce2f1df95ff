import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IGrantable, IPrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EnvName } from '../../lambdas/contracts/env';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/metrics';
import type { AppFunctionName } from '../config';
import { acknowledgeManagedPolicy } from '../nag';

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
}

/**
 * The house Lambda function: Node.js 22 on arm64, bundled by the local esbuild as minified ESM with source maps,
 * an explicit log group with retention, active X-Ray tracing and Powertools settings.
 */
export class AppFunction extends Construct implements IGrantable {
  /** The Lambda function itself (for event sources, integrations, metrics). */
  public readonly lambda: NodejsFunction;
  public readonly logGroup: LogGroup;
  /** The `Service` dimension of the function's EMF metrics (POWERTOOLS_SERVICE_NAME). */
  public readonly serviceName: string;

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
      tracing: Tracing.ACTIVE,
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

    acknowledgeManagedPolicy(
      this,
      'service-role/AWSLambdaBasicExecutionRole',
      'The AWS managed basic execution policy only lets the function write its own logs.',
    );
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is pinned on purpose: it matches the esbuild target and the tested toolchain.',
      },
    );
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
