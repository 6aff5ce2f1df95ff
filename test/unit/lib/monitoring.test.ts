import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Stream } from 'aws-cdk-lib/aws-kinesis';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MetricName } from '../../../lambdas/contracts/metrics';
import { Alerts } from '../../../lib/constructs/alerts';
import {
  AlarmThresholdsSchema,
  DEFAULT_ALARM_THRESHOLDS,
  GlobalOverviewDashboard,
  Monitoring,
  type MonitoringProps,
} from '../../../lib/constructs/monitoring';
import { testApp } from './fixtures/synth';

interface Built {
  stack: Stack;
  template: Template;
  monitoring: Monitoring;
  topicRef: unknown;
}

/** A stack with stand-ins for everything Monitoring watches. */
function build(overrides: Partial<MonitoringProps> = {}): Built {
  const app = testApp();
  const stack = new Stack(app, 'Ops', { env: { account: '123456789012', region: 'us-east-1' } });
  const api = new RestApi(stack, 'Api');
  api.root.addResource('v1').addMethod('GET', new MockIntegration());
  const table = new TableV2(stack, 'Table', {
    partitionKey: { name: 'pk', type: AttributeType.STRING },
    sortKey: { name: 'sk', type: AttributeType.STRING },
  });
  const fn = (name: string) =>
    new LambdaFunction(stack, `Fn-${name}`, {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
  const alerts = new Alerts(stack, 'Alerts', { emailAddresses: ['ops@example.com'] });
  const monitoring = new Monitoring(stack, 'Monitoring', {
    alerts,
    api,
    functions: { chat: fn('chat'), 'client-errors': fn('client-errors') },
    table,
    replicaRegions: ['us-west-2'],
    jobsQueue: new Queue(stack, 'Jobs'),
    jobsDeadLetterQueue: new Queue(stack, 'JobsDlq'),
    eventsStream: new Stream(stack, 'Events'),
    endpointName: 'chat-endpoint',
    variantName: 'AllTraffic',
    ...overrides,
  });
  return {
    stack,
    template: Template.fromStack(stack),
    monitoring,
    topicRef: stack.resolve(alerts.topic.topicArn),
  };
}

function dashboardBodies(template: Template): string[] {
  return Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map((resource) =>
    JSON.stringify((resource as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody),
  );
}

let built: Built;
// Synthesis is CPU-bound and slow on a busy machine: generous timeouts, one build shared by most tests.
const SYNTH_TIMEOUT_MS = 180_000;
beforeAll(() => {
  built = build();
}, SYNTH_TIMEOUT_MS);

describe('Monitoring dashboard', () => {
  it.each([
    ...Object.values(MetricName),
    'ModelLatency',
    'Invocations',
    'Invocation5XXErrors',
    'GPUUtilization',
    'GPUMemoryUtilization',
    'ConcurrentRequestsPerModel',
    'Duration',
    'Throttles',
    'ConcurrentExecutions',
    '5XXError',
    '4XXError',
    'Latency',
    'ReadThrottleEvents',
    'WriteThrottleEvents',
    'ReplicationLatency',
    'ApproximateNumberOfMessagesVisible',
    'ApproximateAgeOfOldestMessage',
    'GetRecords.IteratorAgeMilliseconds',
  ])('has a widget charting %s', (metricName) => {
    const [body] = dashboardBodies(built.template);
    expect(body).toContain(`${metricName}`);
  });

  it('charts the GPU metrics from the endpoint instance namespace', () => {
    const [body] = dashboardBodies(built.template);
    expect(body).toContain('/aws/sagemaker/Endpoints');
    expect(body).toMatch(
      /\/aws\/sagemaker\/Endpoints\\",\\"GPUMemoryUtilization\\",\\"EndpointName\\",\\"chat-endpoint/,
    );
  });

  it('draws the 2 s target as a horizontal annotation on the latency graphs', () => {
    const [body] = dashboardBodies(built.template);
    const annotations = body?.match(/\{\\"value\\":2000,\\"label\\":\\"2 s target\\"/g) ?? [];
    // Response latency, time to first token, model latency, API Gateway latency.
    expect(annotations.length).toBe(4);
  });
});

describe('Monitoring alarms', () => {
  function expectAlarm(properties: Record<string, unknown>) {
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...properties,
      AlarmActions: [built.topicRef],
      OKActions: [built.topicRef],
    });
  }

  it('alarms on chat TTFT p99 above 2000 ms over 1-minute periods, 3 of 5', () => {
    expectAlarm({
      Namespace: 'Chatstack',
      MetricName: 'TimeToFirstToken',
      Dimensions: [{ Name: 'service', Value: 'chat' }],
      ExtendedStatistic: 'p99',
      Threshold: 2000,
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on chat response latency p99 above 2000 ms', () => {
    expectAlarm({ MetricName: 'ResponseLatency', ExtendedStatistic: 'p99', Threshold: 2000, Period: 60 });
  });

  it('alarms on a chat server error rate above 0.1 %', () => {
    expectAlarm({
      Threshold: 0.1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * (internal + inference) / requests, 0)' }),
        Match.objectLike({
          Id: 'internal',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'Errors',
              Dimensions: Match.arrayWith([{ Name: 'ErrorKind', Value: 'internal' }]),
            }),
            Period: 60,
          }),
        }),
      ]),
    });
  });

  it('alarms on API Gateway 5XX responses per 5 minutes', () => {
    expectAlarm({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
    });
  });

  it('alarms on SageMaker invocation errors and model latency (in microseconds)', () => {
    expectAlarm({
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Dimensions: Match.arrayWith([{ Name: 'EndpointName', Value: 'chat-endpoint' }]),
      Period: 300,
    });
    expectAlarm({
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 10_000_000,
    });
  });

  it('alarms when no endpoint instance reports, treating missing data as breaching', () => {
    expectAlarm({
      Namespace: '/aws/sagemaker/Endpoints',
      MetricName: 'CPUUtilization',
      Statistic: 'SampleCount',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('alarms on errors and throttles of every function', () => {
    for (const metricName of ['Errors', 'Throttles']) {
      const alarms = built.template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { Namespace: 'AWS/Lambda', MetricName: metricName },
      });
      expect(Object.keys(alarms)).toHaveLength(2);
    }
    expectAlarm({ Namespace: 'AWS/Lambda', MetricName: 'Throttles', Threshold: 0, Period: 300 });
  });

  it('alarms when the dead-letter queue is not empty and when the oldest job is too old', () => {
    expectAlarm({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      Period: 60,
    });
    expectAlarm({ Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 300 });
  });

  it('alarms on the events stream iterator age', () => {
    expectAlarm({
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Threshold: 60_000,
    });
  });

  it('alarms on DynamoDB throttling and on replication latency to each replica region', () => {
    expectAlarm({
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'reads + writes' })]),
      Threshold: 10,
    });
    expectAlarm({
      Namespace: 'AWS/DynamoDB',
      MetricName: 'ReplicationLatency',
      Dimensions: Match.arrayWith([{ Name: 'ReceivingRegion', Value: 'us-west-2' }]),
      Threshold: 5000,
    });
  });

  it('alarms on moderation-block and client-error spikes across every dimension', () => {
    expectAlarm({
      Metrics: [
        Match.objectLike({ Expression: 'SELECT SUM(ModerationBlocks) FROM "Chatstack"', Period: 300 }),
      ],
      Threshold: 50,
    });
    expectAlarm({
      Metrics: [Match.objectLike({ Expression: 'SELECT SUM(ClientErrors) FROM "Chatstack"', Period: 300 })],
      Threshold: 100,
    });
  });

  it('sends every alarm and its recovery to the alerts topic', () => {
    const alarms = Object.values(built.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBe(Object.keys(built.monitoring.alarms).length);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([built.topicRef]);
      expect(alarm.Properties.OKActions).toEqual([built.topicRef]);
    }
  });

  it('raises a composite "service degraded" alarm from latency, errors and capacity, notifying the topic', () => {
    const composites = Object.values(built.template.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composites).toHaveLength(1);
    const composite = composites[0];
    expect(composite?.Properties.AlarmActions).toEqual([built.topicRef]);
    expect(composite?.Properties.OKActions).toEqual([built.topicRef]);
    const rule = JSON.stringify(composite?.Properties.AlarmRule);
    for (const child of [
      'TimeToFirstTokenP99',
      'ResponseLatencyP99',
      'ErrorRate',
      'Api5xx',
      'SageMakerInvocationErrors',
      'SageMakerNoHealthyCapacity',
    ]) {
      const alarm = built.monitoring.alarms[child];
      expect(alarm).toBeDefined();
      expect(rule).toContain(built.stack.getLogicalId(alarm?.node.defaultChild as never));
    }
  });

  it(
    'takes thresholds from props',
    () => {
      const { template } = build({ thresholds: { timeToFirstTokenP99Ms: 1500, errorRatePercent: 1 } });

      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'TimeToFirstToken',
        Threshold: 1500,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 1,
        Metrics: Match.arrayWith([Match.objectLike({ Id: 'requests' })]),
      });
      expect(DEFAULT_ALARM_THRESHOLDS.timeToFirstTokenP99Ms).toBe(2000);
    },
    SYNTH_TIMEOUT_MS,
  );

  it('accepts threshold overrides from the stage config and rejects unknown keys', () => {
    expect(AlarmThresholdsSchema.parse({ timeToFirstTokenP99Ms: 1500 })).toEqual({
      timeToFirstTokenP99Ms: 1500,
    });
    expect(AlarmThresholdsSchema.safeParse({ ttft: 1500 }).success).toBe(false);
    expect(AlarmThresholdsSchema.safeParse({ minHealthyInstances: 0 }).success).toBe(false);
  });

  it('rejects a negative threshold, naming it', () => {
    expect(() => build({ thresholds: { api5xxPer5Min: -1 } })).toThrow(/api5xxPer5Min.*-1/);
  });
});

describe('GlobalOverviewDashboard', () => {
  it(
    'charts every region with cross-region searches and the 2 s target',
    () => {
      const app = testApp();
      const stack = new Stack(app, 'Global', { env: { account: '123456789012', region: 'us-east-1' } });
      new GlobalOverviewDashboard(stack, 'Overview', { regions: ['us-east-1', 'eu-west-1'] });

      const [body] = dashboardBodies(Template.fromStack(stack));
      // The primary's own searches need no region; the others name theirs.
      expect(body).toContain('\\"region\\":\\"eu-west-1\\"');
      for (const region of ['us-east-1', 'eu-west-1']) expect(body).toContain(`\\"label\\":\\"${region}\\"`);
      for (const metric of [
        'Requests',
        'TimeToFirstToken',
        'ResponseLatency',
        'Invocation5XXErrors',
        'GPUUtilization',
        'ClientErrors',
      ]) {
        expect(body).toContain(metric);
      }
      expect(body).toContain('2 s target');
    },
    SYNTH_TIMEOUT_MS,
  );

  it('refuses an empty region list', () => {
    const stack = new Stack(testApp(), 'Empty');
    expect(() => new GlobalOverviewDashboard(stack, 'Overview', { regions: [] })).toThrow(/regions is empty/);
  });
});
