import { Duration, Stack } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmRule,
  AlarmStatusWidget,
  Color,
  CompositeAlarm,
  Dashboard,
  type IMetric,
  type IWidget,
  MathExpression,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { MetricDimension, MetricName } from '../../lambdas/contracts/metrics';
import { FunctionName } from '../../lambdas/contracts/routes';
import type { Alerts } from './alerts';
import type { AppFunction } from './app-function';
import type { ChatApi } from './chat-api';
import type { RegionalTable } from './data-table';
import type { EventStream } from './event-stream';
import type { FileStore } from './file-store';
import type { InferenceEndpoint } from './inference-endpoint';
import type { JobQueue } from './job-queue';
import {
  CATEGORY,
  DIRECTION,
  ERROR_KIND,
  FIVE_MINUTES,
  microsToMillis,
  ONE_MINUTE,
  P50,
  P90,
  P99,
  SERVICE_DIMENSION,
  searchAws,
  searchCustom,
  sumOfCustom,
} from './monitoring/metrics';
import { type AlarmThresholds, LATENCY_TARGET_MS, resolveThresholds } from './monitoring/thresholds';
import { graph, HEIGHT, targetLine } from './monitoring/widgets';
import type { UserDataJobs } from './user-data-jobs';

export { GlobalOverviewDashboard, type GlobalOverviewDashboardProps } from './monitoring/global-overview';
export {
  type AlarmThresholds,
  AlarmThresholdsSchema,
  DEFAULT_ALARM_THRESHOLDS,
  resolveThresholds,
} from './monitoring/thresholds';

export interface MonitoringProps {
  /** Where the composite alarms (and their recoveries) are sent. */
  readonly alerts: Alerts;
  readonly api: ChatApi;
  /** The region's functions by name (`chat`, `client-errors`, `jobs-worker`…), each with its own alarms. */
  readonly functions: Readonly<Record<string, AppFunction>>;
  /** This region's replica of the global table, with its alarms. */
  readonly table: RegionalTable;
  /**
   * Regions that receive this region's writes (charted as replication latency).
   * @default - none (single-region table)
   */
  readonly replicaRegions?: readonly string[];
  readonly jobQueue: JobQueue;
  readonly eventStream: EventStream;
  readonly endpoint: InferenceEndpoint;
  /**
   * The other served models' endpoints by model id: each is an owner of its own (`Model-<id>`), and its errors and
   * capacity degrade the service as the default model's do. @default none
   */
  readonly modelEndpoints?: Readonly<Record<string, InferenceEndpoint>>;
  /** Users' files: the ingest queue and its dead letters, with their alarms. */
  readonly fileStore: FileStore;
  /**
   * Exports and second erasure sweeps: their queue's dead letters and backlog.
   * @default - none watched
   */
  readonly userDataJobs?: UserDataJobs;
  /**
   * The thresholds the constructs' alarms were built with, drawn on the dashboard.
   * @default DEFAULT_ALARM_THRESHOLDS
   */
  readonly thresholds?: Partial<AlarmThresholds>;
}

/**
 * The regional operations view. The constructs that own the resources build their alarms from their own metrics;
 * Monitoring only composes: one dashboard charting those metrics and the product metrics of every service, one
 * composite alarm per owner (so each alarm, through its owner, reaches `alerts`), and the composite "service
 * degraded" alarm over the latency, error and capacity alarms.
 */
export class Monitoring extends Construct {
  public readonly dashboard: Dashboard;
  /** Every alarm watched, by owner and name (e.g. `Api.TimeToFirstTokenP99`, `Functions.chat.Errors`). */
  public readonly alarms: Readonly<Record<string, Alarm>>;
  /** One per owner (`Api`, `Endpoint`, `Jobs`, `Events`, `Table`, `Files`, `Functions`, `Alerts`): ALARM when any of its alarms is. */
  public readonly ownerAlarms: Readonly<Record<string, CompositeAlarm>>;
  /** ALARM when latency, errors or model capacity break the targets. */
  public readonly serviceDegraded: CompositeAlarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const t = resolveThresholds(props.thresholds);
    const functionEntries = Object.entries(props.functions);
    if (functionEntries.length === 0) throw new Error('Monitoring: functions is empty');

    const owners: Record<string, Readonly<Record<string, Alarm>>> = {
      Api: props.api.alarms,
      Endpoint: props.endpoint.alarms,
      Jobs: props.jobQueue.alarms,
      Events: props.eventStream.alarms,
      Table: props.table.alarms,
      Files: props.fileStore.alarms,
      UserData: props.userDataJobs?.alarms ?? {},
      Functions: Object.fromEntries(
        functionEntries.flatMap(([name, fn]) =>
          Object.entries(fn.alarms).map(([alarmName, each]) => [`${name}.${alarmName}`, each] as const),
        ),
      ),
      Alerts: props.alerts.alarms,
      ...Object.fromEntries(
        Object.entries(props.modelEndpoints ?? {}).map(([model, endpoint]) => [
          `Model-${model}`,
          endpoint.alarms,
        ]),
      ),
    };
    const alarms: Record<string, Alarm> = {};
    const ownerAlarms: Record<string, CompositeAlarm> = {};
    const region = Stack.of(this).region;
    for (const [owner, owned] of Object.entries(owners)) {
      const children = Object.values(owned);
      if (children.length === 0) continue;
      for (const [name, each] of Object.entries(owned)) alarms[`${owner}.${name}`] = each;
      ownerAlarms[owner] = new CompositeAlarm(this, `${owner}Alarms`, {
        alarmDescription: `chatstack ${owner} in ${region}: ${Object.keys(owned).join(', ')} (any in ALARM).`,
        alarmRule: AlarmRule.anyOf(...children),
      });
    }
    this.alarms = alarms;
    this.ownerAlarms = ownerAlarms;
    props.alerts.addAlarmAction(...Object.values(ownerAlarms));

    const degrading = [
      props.api.alarms.TimeToFirstTokenP99,
      props.api.alarms.ResponseLatencyP99,
      props.api.alarms.ErrorRate,
      props.api.alarms.ServerErrorRate,
      // Every served model's errors and capacity (a model hosted as a component names them `<model>.<alarm>`).
      ...[props.endpoint, ...Object.values(props.modelEndpoints ?? {})].flatMap((endpoint) =>
        Object.entries(endpoint.alarms)
          .filter(([name]) => /(^|\.)(InvocationErrors|NoHealthyCapacity)$/.test(name))
          .map(([, each]) => each),
      ),
    ];
    this.serviceDegraded = new CompositeAlarm(this, 'ServiceDegraded', {
      alarmDescription: `chatstack is degraded in ${region}: latency, errors or model capacity.`,
      alarmRule: AlarmRule.anyOf(...degrading.map((each) => required(each, 'a degrading alarm'))),
    });
    props.alerts.addAlarmAction(this.serviceDegraded);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      widgets: dashboardRows(props, t, [this.serviceDegraded, ...Object.values(alarms)]),
      defaultInterval: Duration.hours(3),
    });
  }
}

/** Every row of the regional dashboard, from the constructs' metric methods and the product metrics. */
function dashboardRows(
  props: MonitoringProps,
  t: AlarmThresholds,
  alarms: readonly (Alarm | CompositeAlarm)[],
): IWidget[][] {
  const { api, endpoint, jobQueue, eventStream, table } = props;
  const functionEntries = Object.entries(props.functions);
  const chat = required(props.functions[FunctionName.chat], 'the chat function');
  const conversations = required(props.functions[FunctionName.conversations], 'the conversations function');
  const perFunction = (metric: (fn: AppFunction, label: string) => IMetric) =>
    functionEntries.map(([name, fn]) => metric(fn, name));
  const chatLatency = (metricName: MetricName) =>
    ([P50, P90, P99] as const).map((statistic, index) =>
      chat.metricProduct(metricName, { statistic, label: ['p50', 'p90', 'p99'][index] }),
    );
  const perSecond = (metricName: MetricName, label: string, id: string) =>
    new MathExpression({
      expression: `${id} / 60`,
      usingMetrics: { [id]: sumOfCustom(metricName, {}) },
      label,
      period: ONE_MINUTE,
    });
  const minute = { period: ONE_MINUTE };
  return [
    [
      new TextWidget({
        markdown: `# chatstack · ${Stack.of(api).region}\nTargets: time to first token and response latency p99 ≤ ${LATENCY_TARGET_MS / 1000} s, server errors ≤ ${t.errorRatePercent} %.`,
        width: 12,
        height: HEIGHT,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: 12, height: HEIGHT }),
    ],
    [
      graph('Requests', [sumOfCustom(MetricName.requests, { label: 'Requests (all)' })], {
        right: [chat.metricProduct(MetricName.requests, { statistic: Stats.SUM, label: 'Chat requests' })],
      }),
      graph('Errors by kind', [
        searchCustom(MetricName.errors, [SERVICE_DIMENSION, ERROR_KIND], { statistic: Stats.SUM }),
      ]),
      graph(
        'Chat server error rate (%)',
        [api.metricChatServerErrorRate(chat).with({ label: 'Server error rate (%)' })],
        { leftAnnotations: [{ value: t.errorRatePercent, label: 'alarm', color: Color.RED }] },
      ),
    ],
    [
      graph('Response latency (ms)', chatLatency(MetricName.responseLatency), {
        leftAnnotations: [targetLine()],
      }),
      graph('Time to first token (ms)', chatLatency(MetricName.timeToFirstToken), {
        leftAnnotations: [targetLine()],
      }),
      graph('Tokens per second', [
        perSecond(MetricName.tokensOut, 'TokensOut/s', 'tokensOut'),
        perSecond(MetricName.tokensIn, 'TokensIn/s', 'tokensIn'),
      ]),
    ],
    [
      graph(
        'Model invocations',
        [
          endpoint.metricInvocations({ label: 'Invocations' }),
          endpoint.metricInvocation4xxErrors({ label: '4XX' }),
          endpoint.metricInvocation5xxErrors({ label: '5XX' }),
        ],
        { right: [sumOfCustom(MetricName.inferenceFallbacks, { label: 'InferenceFallbacks' })] },
      ),
      graph(
        'Model latency (ms)',
        [
          microsToMillis(endpoint.metricModelLatency({ statistic: P50 }), 'ModelLatency p50', 'modelP50'),
          microsToMillis(endpoint.metricModelLatency(), 'ModelLatency p99', 'modelP99'),
          microsToMillis(endpoint.metricOverheadLatency(), 'OverheadLatency p99', 'overheadP99'),
        ],
        { leftAnnotations: [targetLine()] },
      ),
      graph('GPU and GPU memory utilization (%)', [
        endpoint.metricGpuUtilization({ label: 'GPUUtilization' }),
        endpoint.metricGpuMemoryUtilization({ label: 'GPUMemoryUtilization' }),
      ]),
    ],
    [
      graph(
        'Model concurrency and instances',
        [endpoint.metricConcurrentRequests({ label: 'ConcurrentRequestsPerModel (max)' })],
        { right: [endpoint.metricInstancesReporting({ label: 'Instances reporting' })] },
      ),
      graph(
        'Lambda duration p99 (ms)',
        perFunction((fn, label) => fn.metricDuration({ label, ...minute })),
      ),
      graph(
        'Lambda errors',
        perFunction((fn, label) => fn.metricErrors({ label, ...minute })),
      ),
    ],
    [
      graph(
        'Lambda throttles',
        perFunction((fn, label) => fn.metricThrottles({ label, ...minute })),
      ),
      graph(
        'Lambda concurrent executions',
        perFunction((fn, label) => fn.metricConcurrentExecutions({ label, ...minute })),
      ),
      graph(
        'API Gateway 4XX / 5XX',
        [
          api.metricClientErrors({ label: '4XX', ...minute }),
          api.metricServerErrors({ label: '5XX', ...minute }),
        ],
        { right: [api.metricCount({ label: 'Count', ...minute })] },
      ),
    ],
    [
      graph(
        'API Gateway latency (ms)',
        [
          api.metricLatency({ statistic: P50, label: 'Latency p50', ...minute }),
          api.metricLatency({ label: 'Latency p99', ...minute }),
          api.metricIntegrationLatency({ label: 'IntegrationLatency p99', ...minute }),
        ],
        { leftAnnotations: [targetLine()] },
      ),
      graph('DynamoDB throttles', [
        table.metricReadThrottleEvents({ label: 'ReadThrottleEvents' }),
        table.metricWriteThrottleEvents({ label: 'WriteThrottleEvents' }),
      ]),
      graph(
        'DynamoDB replication latency (ms)',
        (props.replicaRegions ?? []).length > 0
          ? (props.replicaRegions ?? []).map((receiving) =>
              table.metricReplicationLatency(receiving, { label: `to ${receiving}` }),
            )
          : // A single-region table has no receiving region to name: show whatever there is.
            [
              searchAws('AWS/DynamoDB', ['TableName', 'ReceivingRegion'], 'ReplicationLatency', {
                statistic: Stats.AVERAGE,
                period: FIVE_MINUTES,
              }),
            ],
      ),
    ],
    [
      graph(
        'Jobs queue',
        [
          jobQueue.metricVisibleMessages({ label: 'Visible' }),
          jobQueue.metricInFlightMessages({ label: 'In flight' }),
          jobQueue.metricDeadLettersReceived({ label: 'Dead-lettered' }),
        ],
        { right: [jobQueue.metricOldestMessageAge({ label: 'Oldest message age (s)' })] },
      ),
      graph('Jobs completed / failed', [
        // Both the worker and the dead-letter handler count failures: sum every service.
        sumOfCustom(MetricName.jobsCompleted, { label: 'JobsCompleted' }),
        sumOfCustom(MetricName.jobsFailed, { label: 'JobsFailed' }),
      ]),
      graph('Files ingested / failed', [
        sumOfCustom(MetricName.filesProcessed, { label: 'FilesProcessed' }),
        sumOfCustom(MetricName.filesFailed, { label: 'FilesFailed' }),
      ]),
      graph('File pages ingested and ingest time', [
        sumOfCustom(MetricName.filePagesIngested, { label: 'FilePagesIngested' }),
        sumOfCustom(MetricName.fileIngestDuration, { label: 'FileIngestDuration (ms, summed)' }),
      ]),
      graph(
        'Events stream',
        [eventStream.metricIteratorAge({ label: 'GetRecords.IteratorAgeMilliseconds' })],
        {
          right: [
            eventStream.metricIncomingRecords({ label: 'IncomingRecords' }),
            eventStream.metricWriteThrottles({ label: 'Throttled records' }),
            eventStream.metricFailedBatches({ label: 'Batches given up' }),
          ],
        },
      ),
    ],
    [
      graph('Moderation blocks by category and direction', [
        searchCustom(MetricName.moderationBlocks, [SERVICE_DIMENSION, DIRECTION, CATEGORY], {
          statistic: Stats.SUM,
          period: FIVE_MINUTES,
        }),
      ]),
      graph('Moderation redactions and classifier errors', [
        searchCustom(MetricName.moderationRedactions, [SERVICE_DIMENSION, DIRECTION, CATEGORY], {
          statistic: Stats.SUM,
          period: FIVE_MINUTES,
        }),
        searchCustom(MetricName.moderationClassifierErrors, [SERVICE_DIMENSION, DIRECTION], {
          statistic: Stats.SUM,
          period: FIVE_MINUTES,
        }),
      ]),
      graph('Quota rejections and client errors', [
        sumOfCustom(MetricName.quotaRejections, { label: 'QuotaRejections' }),
        sumOfCustom(MetricName.clientErrors, { label: 'ClientErrors' }),
      ]),
      graph('Answers not stored, write retries and moderated input messages', [
        sumOfCustom(MetricName.answerPersistFailures, { label: 'AnswerPersistFailures' }),
        sumOfCustom(MetricName.answerPersistRetries, { label: 'AnswerPersistRetries' }),
        sumOfCustom(MetricName.moderationInputMessages, { label: 'ModerationInputMessages' }),
      ]),
    ],
    [
      graph('Authorizer: refusals by reason, sign-ins by method', [
        searchCustom(MetricName.authFailures, [SERVICE_DIMENSION, MetricDimension.reason], {
          statistic: Stats.SUM,
        }),
        searchCustom(MetricName.authSuccesses, [SERVICE_DIMENSION, MetricDimension.authMethod], {
          statistic: Stats.SUM,
        }),
      ]),
      graph(
        'Answer feedback (ratings set or changed)',
        (['up', 'down'] as const).map((rating) =>
          conversations.metricProduct(MetricName.feedbackRatings, {
            statistic: Stats.SUM,
            period: FIVE_MINUTES,
            dimensions: { [MetricDimension.rating]: rating },
            label: `Thumbs ${rating}`,
          }),
        ),
      ),
    ],
  ];
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Monitoring: missing ${what}`);
  return value;
}
