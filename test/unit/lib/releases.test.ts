import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { FunctionName } from '../../../lambdas/contracts/routes';
import { parseStageConfig } from '../../../lib/config';
import { AppFunction, releaseConfig as releaseConfigFor } from '../../../lib/constructs/app-function';
import { InferenceEndpoint, type InferenceEndpointProps } from '../../../lib/constructs/inference-endpoint';
import { DEFAULT_ALARM_THRESHOLDS } from '../../../lib/constructs/monitoring/thresholds';
import { type SynthesizedChatstack, synthChatstack, testApp } from './fixtures/synth';

// One single-region synthesis with provisioned concurrency, shared by the function-release tests.
const SYNTH_TIMEOUT_MS = 300_000;
const REGION = 'us-east-1';
const API_FUNCTIONS = Object.values(FunctionName);

let built: SynthesizedChatstack;
beforeAll(() => {
  built = synthChatstack({ regions: [REGION], chatProvisionedConcurrency: 3 });
}, SYNTH_TIMEOUT_MS);

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is untyped JSON.
type Json = any;
type Resource = { Properties: Record<string, Json>; UpdatePolicy?: Json; DependsOn?: string[] };
const api = () => {
  const stack = built.stacks.regions.get(REGION)?.api;
  if (!stack) throw new Error('no api stack');
  return built.template(stack);
};
const resources = (template: Template, type: string) =>
  template.findResources(type) as Record<string, Resource>;

/** Logical id of the function whose `service` is `name`. */
function functionId(template: Template, name: string): string {
  const [id] = Object.entries(resources(template, 'AWS::Lambda::Function')).find(
    ([, each]) => each.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name,
  ) ?? [''];
  expect(id, name).not.toBe('');
  return id;
}

/** The `live` alias of the function `name`. */
function aliasOf(template: Template, name: string): [string, Resource] {
  const fn = functionId(template, name);
  const found = Object.entries(resources(template, 'AWS::Lambda::Alias')).filter(
    ([, alias]) => alias.Properties.FunctionName.Ref === fn,
  );
  expect(found, name).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** The deployment group that releases the alias of `name`, and the descriptions of the alarms it watches. */
function releaseOf(template: Template, name: string): { group: Resource; watched: string[] } {
  const [, alias] = aliasOf(template, name);
  const groupId = alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.DeploymentGroupName?.Ref;
  const group = resources(template, 'AWS::CodeDeploy::DeploymentGroup')[groupId];
  if (!group) throw new Error(`no deployment group releases ${name}`);
  const alarms = resources(template, 'AWS::CloudWatch::Alarm');
  const watched = group.Properties.AlarmConfiguration.Alarms.map(
    (entry: { Name: { Ref: string } }) => alarms[entry.Name.Ref]?.Properties.AlarmDescription ?? 'missing',
  );
  return { group, watched };
}

describe('function releases (CodeDeploy)', () => {
  it.each(API_FUNCTIONS)('deploys %s through its live alias, which the API invokes', (name) => {
    const template = api();
    const [aliasId] = aliasOf(template, name);
    const methods = Object.values(resources(template, 'AWS::ApiGateway::Method')).filter((method) =>
      JSON.stringify(method.Properties.Integration?.Uri ?? '').includes(`"Ref":"${aliasId}"`),
    );
    expect(methods.length, name).toBeGreaterThan(0);
    // No integration calls the unqualified function: that would bypass the release.
    const fn = functionId(template, name);
    for (const method of Object.values(resources(template, 'AWS::ApiGateway::Method'))) {
      expect(JSON.stringify(method.Properties.Integration?.Uri ?? '')).not.toContain(`"${fn}","Arn"`);
    }
  });

  it.each(API_FUNCTIONS)('rolls a release of %s back on failure, on a stop and on an alarm', (name) => {
    const { group } = releaseOf(api(), name);
    expect(group.Properties.AutoRollbackConfiguration).toEqual({
      Enabled: true,
      Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
    });
    expect(group.Properties.AlarmConfiguration.Enabled).toBe(true);
  });

  it.each(API_FUNCTIONS)('watches the errors of %s and the 5xx rate of its routes', (name) => {
    const { watched } = releaseOf(api(), name);
    expect(watched).toContain(`Function ${name} failed more than 5 times in 5 minutes.`);
    expect(watched).toContain(`More than 5 % of the requests served by ${name} fail with 5xx.`);
    // Throttling is a capacity problem, not a bad release.
    expect(watched.some((description) => description.includes('throttled'))).toBe(false);
  });

  it('keeps every alarm within CloudWatch’s ten metrics, watching a function of more than five routes in groups', () => {
    const alarms = Object.values(resources(api(), 'AWS::CloudWatch::Alarm'));
    for (const each of alarms) {
      const metrics = (each.Properties.Metrics ?? []).filter((query: Json) => query.MetricStat);
      expect(metrics.length, each.Properties.AlarmDescription).toBeLessThanOrEqual(10);
    }
    // conversations serves eight routes (feedback and share links among them): two groups, both watched.
    const { watched } = releaseOf(api(), FunctionName.conversations);
    expect(watched).toEqual(
      expect.arrayContaining([
        'More than 5 % of the requests served by conversations fail with 5xx.',
        expect.stringMatching(
          /^More than 5 % of the requests served by conversations \(.*GET \/v1\/shared\/\{share_id\}\) fail with 5xx\.$/,
        ),
      ]),
    );
  });

  it('watches the chat promises a 200 cannot show: time to first token p99 and the server error rate', () => {
    const { watched } = releaseOf(api(), 'chat');
    expect(watched).toEqual(
      expect.arrayContaining([
        'Chat time to first token p99 is above 2000 ms.',
        'Chat server error rate is above 0.1 %.',
        // Its routes past the fifth have a 5xx-rate alarm of their own (ten metrics per alarm at most).
        expect.stringMatching(
          /^More than 5 % of the requests served by chat \(.*POST \/v1\/responses\/\{id\}\/cancel\) fail with 5xx\.$/,
        ),
      ]),
    );
    expect(watched).toHaveLength(5);
  });

  it('shifts 10 % of requests for 5 minutes, then the rest, by default', () => {
    api().hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: {
        Type: 'TimeBasedCanary',
        TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 5 },
      },
    });
  });

  it('keeps provisioned concurrency on the alias that CodeDeploy shifts', () => {
    const [, alias] = aliasOf(api(), 'chat');
    expect(alias.Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 3 });
    expect(alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate).toBeDefined();
  });

  it('releases no function outside the API (queue and stream consumers keep their own retries)', () => {
    const asyncStack = built.stacks.regions.get(REGION)?.async;
    if (!asyncStack) throw new Error('no async stack');
    expect(Object.keys(resources(built.template(asyncStack), 'AWS::CodeDeploy::DeploymentGroup'))).toEqual(
      [],
    );
  });
});

describe('release settings', () => {
  function release(settings: Parameters<typeof parseStageConfig>[0]): Template {
    const stack = new Stack(testApp(), 'Release', { env: { account: '123456789012', region: REGION } });
    const config = parseStageConfig(settings);
    const fn = new AppFunction(stack, 'Models', {
      functionName: 'models',
      description: 'test',
      logRetention: RetentionDays.ONE_DAY,
      releaseConfig: releaseConfigFor(stack, 'ReleaseConfig', config.release.functions),
    });
    fn.addAlarms(DEFAULT_ALARM_THRESHOLDS);
    return Template.fromStack(stack);
  }

  it('moves linearly when configured: a step of the percentage every interval', () => {
    release({
      release: { functions: { type: 'linear', percent: 20, intervalMinutes: 2 } },
    }).hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      TrafficRoutingConfig: {
        Type: 'TimeBasedLinear',
        TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 },
      },
    });
  });

  it('can switch at once, still watched and rolled back by the alarms', () => {
    const template = release({ release: { functions: { type: 'all-at-once' } } });
    template.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
      AlarmConfiguration: { Enabled: true, Alarms: [Match.anyValue()] },
    });
  });

  it('refuses a step of 100 % or more', () => {
    expect(() => parseStageConfig({ release: { functions: { percent: 100 } } })).toThrow(
      /release.functions.percent/,
    );
  });
});

/** A vLLM endpoint on two to four GPU instances (unless `props` say otherwise), with its alarms. */
function alarmedEndpoint(
  props: Partial<InferenceEndpointProps>,
  stack = new Stack(testApp(), 'Inference', { env: { account: '123456789012', region: REGION } }),
) {
  const inference = new InferenceEndpoint(stack, 'Endpoint', {
    engine: {
      kind: 'vllm',
      imageTag: '0.33.0-lmi15.0.0-cu128',
      maxRollingBatchSize: 32,
      tensorParallelDegree: 1,
    },
    modelBucket: new Bucket(stack, 'Models'),
    modelPrefix: 'models/tiny/',
    encryptionKey: new Key(stack, 'Key'),
    modelId: 'tiny',
    instanceType: 'ml.g5.2xlarge',
    minInstances: 2,
    maxInstances: 4,
    targetConcurrentRequestsPerModel: 16,
    ...props,
  });
  inference.addAlarms(DEFAULT_ALARM_THRESHOLDS);
  return { stack, inference };
}

describe('model endpoint releases (SageMaker deployment guardrails)', () => {
  function endpoint(props: Partial<InferenceEndpointProps> = {}) {
    const { stack, inference } = alarmedEndpoint(props);
    return { inference, stack, template: Template.fromStack(stack) };
  }

  /** Names of the alarms of the template, by what they watch. */
  function alarmNames(template: Template): Record<string, string> {
    return Object.fromEntries(
      Object.values(resources(template, 'AWS::CloudWatch::Alarm'))
        .filter((each) => each.Properties.AlarmName !== undefined)
        .map((each) => [each.Properties.MetricName ?? 'math', each.Properties.AlarmName]),
    );
  }

  it('updates blue/green with a canary, rolled back by the invocation-error, latency and capacity alarms', () => {
    const { template } = endpoint({ canaryPercent: 25, bakeTime: Duration.minutes(5) });
    const names = alarmNames(template);
    expect(Object.keys(names).sort()).toEqual(['CPUUtilization', 'Invocation5XXErrors', 'ModelLatency']);
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: Match.objectLike({
          TrafficRoutingConfiguration: {
            Type: 'CANARY',
            CanarySize: { Type: 'CAPACITY_PERCENT', Value: 25 },
            WaitIntervalInSeconds: 300,
          },
          TerminationWaitInSeconds: 300,
        }),
        AutoRollbackConfiguration: {
          Alarms: [names.Invocation5XXErrors, names.ModelLatency, names.CPUUtilization].map((AlarmName) => ({
            AlarmName,
          })),
        },
      },
    });
  });

  it('lets SageMaker read exactly those alarms during an update', () => {
    const { template } = endpoint();
    const names = Object.values(alarmNames(template));
    const statements = Object.values(resources(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    const describe = statements.find((statement: Json) => statement.Action === 'cloudwatch:DescribeAlarms');
    expect(describe.Resource.map((arn: string) => arn.split(':alarm:')[1]).sort()).toEqual(names.sort());
  });

  it('shifts a single-instance fleet at once (a canary cannot split it) and still bakes and rolls back', () => {
    endpoint({ minInstances: 1, maxInstances: 1 }).template.hasResourceProperties(
      'AWS::SageMaker::Endpoint',
      {
        DeploymentConfig: {
          BlueGreenUpdatePolicy: Match.objectLike({
            TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 600 },
          }),
          AutoRollbackConfiguration: {
            Alarms: Match.arrayWith([Match.objectLike({ AlarmName: Match.anyValue() })]),
          },
        },
      },
    );
  });

  it('refuses a canary above half the fleet', () => {
    expect(() => endpoint({ canaryPercent: 60 })).toThrow(
      /canaryPercent must be a whole percentage from 1 to 50, got 60/,
    );
  });
});

describe('scale to zero (inference components)', () => {
  function zero() {
    const { stack, inference } = alarmedEndpoint({
      minInstances: 0,
      maxInstances: 2,
      memoryPerCopyMb: 16_384,
      requiredMinInstances: 0,
    });
    const chat = new AppFunction(stack, 'Chat', {
      functionName: 'chat',
      description: 'test',
      logRetention: RetentionDays.ONE_DAY,
    });
    inference.grantInvoke(chat);
    return Template.fromStack(stack);
  }
  const template = zero();
  const componentName = {
    'Fn::Select': [
      1,
      {
        'Fn::Split': [
          '/',
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^EndpointComponent'), 'InferenceComponentArn'] },
        ],
      },
    ],
  };

  it('serves the model as an inference component on an endpoint whose instances may scale to zero', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ExecutionRoleArn: Match.anyValue(),
      ProductionVariants: [
        Match.objectLike({
          ModelName: Match.absent(),
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 2 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::InferenceComponent', {
      Specification: Match.objectLike({
        ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EndpointModel'), 'ModelName'] },
        ComputeResourceRequirements: { MinMemoryRequiredInMb: 16_384, NumberOfAcceleratorDevicesRequired: 1 },
      }),
      RuntimeConfig: { CopyCount: 1 },
    });
    // Its containers log under the components' own prefix.
    expect(JSON.stringify(resources(template, 'AWS::IAM::Policy'))).toContain(
      'log-group:/aws/sagemaker/InferenceComponents/*',
    );
  });

  it('scales the copies between 0 and the maximum on in-flight requests per copy', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      MinCapacity: 0,
      MaxCapacity: 2,
      ResourceId: { 'Fn::Join': ['', ['inference-component/', componentName]] },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution',
        },
      }),
    });
  });

  it('wakes from zero: a request that finds no copy fires an alarm whose step policy adds one', () => {
    const [policyId] = Object.keys(
      template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', {
        Properties: {
          PolicyType: 'StepScaling',
          StepScalingPolicyConfiguration: Match.objectLike({
            AdjustmentType: 'ChangeInCapacity',
            StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
          }),
        },
      }),
    );
    expect(policyId).toBeDefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'NoCapacityInvocationFailures',
      Namespace: 'AWS/SageMaker',
      Dimensions: [{ Name: 'InferenceComponentName', Value: componentName }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [{ Ref: policyId }],
    });
  });

  it('updates the component copy by copy, rolled back by its alarms, and never alarms on being idle', () => {
    template.hasResourceProperties('AWS::SageMaker::InferenceComponent', {
      DeploymentConfig: {
        RollingUpdatePolicy: Match.objectLike({ MaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 10 } }),
        AutoRollbackConfiguration: {
          Alarms: Match.arrayWith([Match.objectLike({ AlarmName: Match.anyValue() })]),
        },
      },
    });
    template.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    expect(JSON.stringify(template.findResources('AWS::SageMaker::Endpoint'))).not.toContain(
      'DeploymentConfig',
    );
    // Zero instances report no CPU: the capacity alarm counts requests that found no copy instead.
    const capacity = Object.values(resources(template, 'AWS::CloudWatch::Alarm')).find((each) =>
      String(each.Properties.AlarmName).endsWith('no-healthy-capacity'),
    );
    expect(capacity?.Properties).toMatchObject({
      MetricName: 'NoCapacityInvocationFailures',
      TreatMissingData: 'notBreaching',
    });
  });

  it('tells the inference client which component to call (INFERENCE_COMPONENTS) and lets it call it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          INFERENCE_ENDPOINTS: Match.anyValue(),
          INFERENCE_COMPONENTS: componentName,
        }),
      },
    });
    const invoke = Object.values(resources(template, 'AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .find((statement: Json) =>
        [statement.Action].flat().includes('sagemaker:InvokeEndpointWithResponseStream'),
      );
    expect(JSON.stringify(invoke.Resource)).toContain('InferenceComponentArn');
  });

  it('names each endpoint’s component at the endpoint’s position, fallbacks in other regions included', () => {
    const app = testApp();
    const inRegion = (region: string) => {
      const stack = new Stack(app, `Inference-${region}`, {
        env: { account: '123456789012', region },
        crossRegionReferences: true,
      });
      const { inference } = alarmedEndpoint(
        { minInstances: 0, maxInstances: 1, requiredMinInstances: 0 },
        stack,
      );
      return { stack, inference };
    };
    const own = inRegion('us-east-1');
    const fallback = inRegion('us-west-2');
    const chat = new AppFunction(own.stack, 'Chat', {
      functionName: 'chat',
      description: 'test',
      logRetention: RetentionDays.ONE_DAY,
    });
    own.inference.grantInvoke(chat, [fallback.inference]);
    const variables = Object.values(resources(Template.fromStack(own.stack), 'AWS::Lambda::Function'))[0]
      ?.Properties.Environment.Variables;
    const parts = variables.INFERENCE_COMPONENTS['Fn::Join'][1];
    // [own component, ",", fallback component]: the same positions as INFERENCE_ENDPOINTS.
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(',');
    expect(JSON.stringify(parts[0])).not.toContain('us-west-2');
    expect(JSON.stringify(parts[2])).toContain('us-west-2');
  });

  it('is allowed in dev and refused in prod, which keeps at least two instances', () => {
    expect(parseStageConfig({ inference: { minInstances: 0 } }).inference).toMatchObject({
      minInstances: 0,
      maxInstances: 1,
    });
    expect(() => parseStageConfig({ stage: 'prod', inference: { minInstances: 0 } })).toThrow(
      /prod needs at least 2 instances across AZs, got 0/,
    );
    expect(() => parseStageConfig({ stage: 'prod', inference: { minInstances: 1 } })).toThrow(
      /prod needs at least 2 instances/,
    );
  });
});
