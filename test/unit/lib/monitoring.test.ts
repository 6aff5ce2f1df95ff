import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, type CfnCompositeAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { MetricName } from '../../../lambdas/contracts/metrics';
import type { RegionStacks } from '../../../lib/chatstack';
import {
  AlarmThresholdsSchema,
  DEFAULT_ALARM_THRESHOLDS,
  GlobalOverviewDashboard,
  resolveThresholds,
} from '../../../lib/constructs/monitoring';
import { type SynthesizedChatstack, synthChatstack, testApp } from './fixtures/synth';

// Synthesis is CPU-bound and slow on a busy machine: one two-region app shared by every test.
const SYNTH_TIMEOUT_MS = 300_000;
const PRIMARY = 'us-east-1';
const SECONDARY = 'us-west-2';

let built: SynthesizedChatstack;
beforeAll(() => {
  built = synthChatstack({
    regions: [PRIMARY, SECONDARY],
    alarms: {
      emails: ['ops@example.com'],
      slackWebhookSecretName: 'chatstack/slack-webhook',
      thresholds: { timeToFirstTokenP99Ms: 1500 },
    },
  });
}, SYNTH_TIMEOUT_MS);

function region(name = PRIMARY): RegionStacks {
  const stacks = built.stacks.regions.get(name);
  if (!stacks) throw new Error(`no stacks for ${name}`);
  return stacks;
}
const template = (stack: Stack) => built.template(stack);
const stacksOf = (r = PRIMARY) => {
  const { inference, async, api, ops } = region(r);
  return [inference, async, api, ops];
};

function dashboardBody(): string {
  const [dashboard] = Object.values(template(region().ops).findResources('AWS::CloudWatch::Dashboard'));
  return JSON.stringify(dashboard?.Properties.DashboardBody);
}

describe('alarms belong to the constructs that own the resources', () => {
  it('puts the chat targets and the 5xx rate with the API (one 5xx alarm, also the health check’s)', () => {
    const api = template(region().api);
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Chatstack',
      MetricName: 'TimeToFirstToken',
      Dimensions: [{ Name: 'service', Value: 'chat' }],
      ExtendedStatistic: 'p99',
      Threshold: 1500,
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ResponseLatency',
      ExtendedStatistic: 'p99',
      Threshold: 2000,
    });
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0.1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * (internal + inference) / requests, 0)' }),
      ]),
    });
    const fiveXx = api.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'AWS/ApiGateway', MetricName: '5XXError' },
    });
    expect(Object.values(fiveXx).map((alarm) => alarm.Properties)).toEqual([
      expect.objectContaining({ Statistic: 'Average', Threshold: 0.05, EvaluationPeriods: 3 }),
    ]);
    for (const other of [region().inference, region().async, region().ops]) {
      const found = template(other).findResources('AWS::CloudWatch::Alarm', {
        Properties: { MetricName: '5XXError' },
      });
      expect(Object.keys(found)).toHaveLength(0);
    }
  });

  it('alarms on moderation-block and client-error spikes across every dimension', () => {
    const api = template(region().api);
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: 'SELECT SUM(ModerationBlocks) FROM "Chatstack"', Period: 300 }),
      ],
      Threshold: 50,
    });
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ Expression: 'SELECT SUM(ClientErrors) FROM "Chatstack"', Period: 300 })],
      Threshold: 100,
    });
  });

  it('puts the endpoint’s errors, latency (µs) and capacity alarms with the endpoint', () => {
    const inference = template(region().inference);
    inference.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Period: 300,
      Threshold: 5,
    });
    inference.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 10_000_000,
    });
    inference.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: '/aws/sagemaker/Endpoints',
      MetricName: 'CPUUtilization',
      Statistic: 'SampleCount',
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('alarms on what the dead-letter handler receives, not on the depth it keeps at zero', () => {
    const async = template(region().async);
    async.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesReceived',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetterQueue'), 'QueueName'] },
        },
      ],
      Statistic: 'Sum',
      Threshold: 0,
      Period: 60,
    });
    async.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetterQueue'), 'QueueName'] },
        },
      ],
      Threshold: DEFAULT_ALARM_THRESHOLDS.jobsDeadLetterOldestMessageAgeSeconds,
    });
    expect(
      Object.keys(
        async.findResources('AWS::CloudWatch::Alarm', {
          Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' },
        }),
      ),
    ).toHaveLength(0);
  });

  it('watches every queue: jobs, its dead letters, the events on-failure queue and the Slack forwarder’s', () => {
    for (const stack of stacksOf()) {
      const t = template(stack);
      const watched = JSON.stringify(
        Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.Dimensions),
      );
      for (const queueId of Object.keys(t.findResources('AWS::SQS::Queue'))) {
        expect(watched, `${stack.stackName}/${queueId}`).toContain(`"${queueId}"`);
      }
    }
    // 3 in the async stack, 4 in api (file ingest, user-data tasks and their dead letters), 1 in ops (the Slack
    // forwarder's failure destination).
    const queues = stacksOf().flatMap((stack) =>
      Object.keys(template(stack).findResources('AWS::SQS::Queue')),
    );
    expect(queues).toHaveLength(8);
  });

  it('alarms on the stream falling behind and on every batch a consumer gives up', () => {
    const async = template(region().async);
    async.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Threshold: 60_000,
    });
    async.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'NumberOfMessagesSent',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsFailureQueue'), 'QueueName'] },
        },
      ],
      Threshold: 0,
    });
  });

  // The Slack forwarder is watched through its failure destination instead (above).
  it('gives every application function its own error and throttle alarms, in the function’s stack', () => {
    for (const [stack, count] of [
      [region().api, 13],
      [region().async, 4],
    ] as const) {
      for (const metricName of ['Errors', 'Throttles']) {
        const alarms = template(stack).findResources('AWS::CloudWatch::Alarm', {
          Properties: { Namespace: 'AWS/Lambda', MetricName: metricName },
        });
        expect(Object.keys(alarms), `${stack.stackName} ${metricName}`).toHaveLength(count);
      }
    }
  });

  it('alarms on table throttling and on replication lag to the other region', () => {
    const ops = template(region().ops);
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'reads + writes' })]),
      Threshold: 10,
    });
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReplicationLatency',
      Dimensions: Match.arrayWith([{ Name: 'ReceivingRegion', Value: SECONDARY }]),
      Threshold: 5000,
    });
  });
});

describe('Monitoring composes', () => {
  it('watches every alarm of the region, each through its owner’s composite alarm, which notifies the topic', () => {
    const { monitoring } = region().ops;
    const everyAlarm = stacksOf().flatMap((stack) => stack.node.findAll().filter((c) => c instanceof Alarm));
    expect(new Set(Object.values(monitoring.alarms))).toEqual(new Set(everyAlarm));
    const composites = Object.values(template(region().ops).findResources('AWS::CloudWatch::CompositeAlarm'));
    // Api, Endpoint, Jobs, Events, Table, Files, UserData, Functions, Alerts + ServiceDegraded.
    expect(composites).toHaveLength(10);
    for (const composite of composites) {
      expect(composite.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlertsTopic/) }]);
      expect(composite.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^AlertsTopic/) }]);
    }
    for (const [owner, composite] of Object.entries(monitoring.ownerAlarms)) {
      const rule = (composite.node.defaultChild as CfnCompositeAlarm).alarmRule;
      const children = Object.entries(monitoring.alarms).filter(([name]) => name.startsWith(`${owner}.`));
      expect(JSON.stringify(rule).match(/ALARM\(/g) ?? [], owner).toHaveLength(children.length);
    }
  });

  it('raises "service degraded" from the chat targets, the 5xx rate and the endpoint’s errors and capacity', () => {
    const { monitoring } = region().ops;
    const rule = JSON.stringify(
      (monitoring.serviceDegraded.node.defaultChild as CfnCompositeAlarm).alarmRule,
    );
    expect(rule.match(/ALARM\(/g)).toHaveLength(6);
  });

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
    'IntegrationLatency',
    'ReadThrottleEvents',
    'WriteThrottleEvents',
    'ReplicationLatency',
    'ApproximateNumberOfMessagesVisible',
    'ApproximateNumberOfMessagesNotVisible',
    'NumberOfMessagesReceived',
    'ApproximateAgeOfOldestMessage',
    'GetRecords.IteratorAgeMilliseconds',
    'PutRecords.ThrottledRecords',
    'NumberOfMessagesSent',
  ])('has a widget charting %s', (metricName) => {
    expect(dashboardBody()).toContain(`${metricName}`);
  });

  it('charts thumbs up and down from the conversations function, one line per rating', () => {
    const body = dashboardBody().replaceAll('\\', '');
    expect(body).toContain('Answer feedback');
    for (const rating of ['up', 'down']) {
      expect(body).toContain(`"FeedbackRatings","Rating","${rating}","service","conversations"`);
    }
  });

  it('draws the 2 s target as a horizontal annotation on the latency graphs', () => {
    const annotations = dashboardBody().match(/\{\\"value\\":2000,\\"label\\":\\"2 s target\\"/g) ?? [];
    // Response latency, time to first token, model latency, API Gateway latency.
    expect(annotations.length).toBe(4);
  });
});

describe('a single region', () => {
  it(
    'has no replication alarm and still charts replication latency (by search)',
    () => {
      const single = synthChatstack({ regions: ['eu-west-1'] });
      const ops = single.stacks.regions.get('eu-west-1')?.ops;
      if (!ops) throw new Error('no ops stack');
      const template = single.template(ops);
      expect(
        Object.keys(
          template.findResources('AWS::CloudWatch::Alarm', {
            Properties: { MetricName: 'ReplicationLatency' },
          }),
        ),
      ).toHaveLength(0);
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toMatch(
        /SEARCH\(.*AWS\/DynamoDB.*ReplicationLatency/,
      );
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('thresholds', () => {
  it('accepts overrides from the stage config and rejects unknown keys', () => {
    expect(AlarmThresholdsSchema.parse({ timeToFirstTokenP99Ms: 1500 })).toEqual({
      timeToFirstTokenP99Ms: 1500,
    });
    expect(AlarmThresholdsSchema.safeParse({ ttft: 1500 }).success).toBe(false);
    expect(AlarmThresholdsSchema.safeParse({ minHealthyInstances: 0 }).success).toBe(false);
  });

  it('rejects a negative threshold, naming it', () => {
    expect(() => resolveThresholds({ api5xxRatePercent: -1 })).toThrow(/api5xxRatePercent.*-1/);
  });
});

describe('GlobalOverviewDashboard', () => {
  it(
    'charts every region with cross-region searches and the 2 s target',
    () => {
      const app = testApp();
      const stack = new Stack(app, 'Global', { env: { account: '123456789012', region: 'us-east-1' } });
      new GlobalOverviewDashboard(stack, 'Overview', { regions: ['us-east-1', 'eu-west-1'] });

      const [dashboard] = Object.values(
        Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'),
      );
      const body = JSON.stringify(dashboard?.Properties.DashboardBody);
      // The primary's own searches need no region; the others name theirs.
      expect(body).toContain('\\"region\\":\\"eu-west-1\\"');
      for (const r of ['us-east-1', 'eu-west-1']) expect(body).toContain(`\\"label\\":\\"${r}\\"`);
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
