import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmRule,
  AlarmStatusWidget,
  Color,
  ComparisonOperator,
  CompositeAlarm,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  type IMetric,
  type IWidget,
  MathExpression,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, MetricName } from '../../lambdas/contracts/metrics';
import { FunctionName } from '../../lambdas/contracts/routes';
import type { Alerts } from './alerts';
import {
  CATEGORY,
  customMetric,
  DIRECTION,
  type EndpointRef,
  ERROR_KIND,
  FIVE_MINUTES,
  insightsSum,
  microsToMillis,
  ONE_MINUTE,
  P50,
  P90,
  P99,
  SERVICE_DIMENSION,
  sageMakerInstanceMetric,
  sageMakerMetric,
  searchAws,
  searchCustom,
  sumOfCustom,
} from './monitoring/metrics';
import { type AlarmThresholds, LATENCY_TARGET_MS, resolveThresholds } from './monitoring/thresholds';

export {
  type AlarmThresholds,
  AlarmThresholdsSchema,
  DEFAULT_ALARM_THRESHOLDS,
  resolveThresholds,
} from './monitoring/thresholds';

/** The `service` dimension of functions whose metrics the alarms watch (their folder names under lambdas/). */
const CHAT_SERVICE = FunctionName.chat;

export interface MonitoringProps {
  /** Where every alarm (and its recovery) is sent. */
  readonly alerts: Alerts;
  /** This region's public REST API. */
  readonly api: RestApiBase;
  /**
   * The region's functions by name (`chat`, `client-errors`, `jobs-worker`…): each gets duration, error,
   * throttle and concurrency widgets and error/throttle alarms. The names are the functions' `service` dimension.
   */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The global table (this region's replica). */
  readonly table: ITableV2;
  /**
   * Regions that receive this region's writes; each gets a ReplicationLatency widget and alarm.
   * @default - no replication latency alarms (single-region table)
   */
  readonly replicaRegions?: readonly string[];
  readonly jobsQueue: IQueue;
  readonly jobsDeadLetterQueue: IQueue;
  readonly eventsStream: IStream;
  /** The SageMaker endpoint serving this region. */
  readonly endpointName: string;
  readonly variantName: string;
  /**
   * Overrides of the alarm thresholds.
   * @default DEFAULT_ALARM_THRESHOLDS (2 s p99 latency and TTFT, 0.1 % errors, …)
   */
  readonly thresholds?: Partial<AlarmThresholds>;
}

const WIDTH = 8;
const HEIGHT = 6;

function targetLine(valueMs: number = LATENCY_TARGET_MS): HorizontalAnnotation {
  return { value: valueMs, label: `${valueMs / 1000} s target`, color: Color.RED };
}

function graph(
  title: string,
  left: IMetric[],
  options: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {},
) {
  return new GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...options });
}

/**
 * The regional operations view: one CloudWatch dashboard charting every product metric and the AWS metrics of
 * the API, functions, model endpoint, table, queues and stream, plus every alarm (with its OK action) sent to
 * `alerts`, and a composite "service degraded" alarm.
 */
export class Monitoring extends Construct {
  public readonly dashboard: Dashboard;
  public readonly thresholds: AlarmThresholds;
  /** Every metric alarm, by a stable name (e.g. `TimeToFirstTokenP99`, `LambdaErrors-chat`). */
  public readonly alarms: Readonly<Record<string, Alarm>>;
  /** ALARM when latency, errors or model capacity break the targets. */
  public readonly serviceDegraded: CompositeAlarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.thresholds = resolveThresholds(props.thresholds);
    const t = this.thresholds;
    if (Object.keys(props.functions).length === 0) throw new Error('Monitoring: functions is empty');
    for (const region of props.replicaRegions ?? []) {
      if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
        throw new Error(`Monitoring: "${region}" is not a region`);
    }
    const endpoint: EndpointRef = { endpointName: props.endpointName, variantName: props.variantName };
    const alarms: Record<string, Alarm> = {};
    const add = (name: string, alarm: Alarm) => {
      alarms[name] = alarm;
      return alarm;
    };

    // ---- product metrics (EMF) ----
    // Metrics behind alarms carry no label, so the template keeps the plain MetricName/Namespace form.
    const chat = (metricName: MetricName, statistic: string, label?: string) =>
      customMetric(metricName, { service: CHAT_SERVICE, statistic, label });
    const ttftP99 = chat(MetricName.timeToFirstToken, P99);
    const latencyP99 = chat(MetricName.responseLatency, P99);
    const chatRequests = chat(MetricName.requests, Stats.SUM);
    const serverErrorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * (internal + inference) / requests, 0)',
      usingMetrics: {
        requests: chatRequests,
        internal: customMetric(MetricName.errors, {
          service: CHAT_SERVICE,
          statistic: Stats.SUM,
          dimensions: { [ERROR_KIND]: 'internal' },
        }),
        inference: customMetric(MetricName.errors, {
          service: CHAT_SERVICE,
          statistic: Stats.SUM,
          dimensions: { [ERROR_KIND]: 'inference' },
        }),
      },
      label: 'Chat server error rate (%)',
      period: ONE_MINUTE,
    });

    const latencyAlarm = (metric: IMetric, threshold: number, description: string) => ({
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    const ttftAlarm = add(
      'TimeToFirstTokenP99',
      new Alarm(
        this,
        'TimeToFirstTokenP99Alarm',
        latencyAlarm(
          ttftP99,
          t.timeToFirstTokenP99Ms,
          `Chat time to first token p99 is above ${t.timeToFirstTokenP99Ms} ms.`,
        ),
      ),
    );
    const responseLatencyAlarm = add(
      'ResponseLatencyP99',
      new Alarm(
        this,
        'ResponseLatencyP99Alarm',
        latencyAlarm(
          latencyP99,
          t.responseLatencyP99Ms,
          `Chat response latency p99 is above ${t.responseLatencyP99Ms} ms.`,
        ),
      ),
    );
    const errorRateAlarm = add(
      'ErrorRate',
      new Alarm(
        this,
        'ErrorRateAlarm',
        latencyAlarm(
          serverErrorRate,
          t.errorRatePercent,
          `Chat server error rate is above ${t.errorRatePercent} %.`,
        ),
      ),
    );
    add(
      'ModerationBlocksSpike',
      new Alarm(this, 'ModerationBlocksSpikeAlarm', {
        metric: insightsSum(MetricName.moderationBlocks, FIVE_MINUTES, 'Moderation blocks (all)'),
        threshold: t.moderationBlocksPer5Min,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `More than ${t.moderationBlocksPer5Min} moderation blocks in 5 minutes.`,
      }),
    );
    add(
      'ClientErrorsSpike',
      new Alarm(this, 'ClientErrorsSpikeAlarm', {
        metric: insightsSum(MetricName.clientErrors, FIVE_MINUTES, 'Client errors (all)'),
        threshold: t.clientErrorsPer5Min,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `More than ${t.clientErrorsPer5Min} client-side errors reported in 5 minutes.`,
      }),
    );

    // ---- API Gateway ----
    const api5xx = props.api.metricServerError({ period: FIVE_MINUTES, statistic: Stats.SUM });
    const api5xxAlarm = add(
      'Api5xx',
      new Alarm(this, 'Api5xxAlarm', {
        metric: api5xx,
        threshold: t.api5xxPer5Min,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `API Gateway answered more than ${t.api5xxPer5Min} 5XX responses in 5 minutes.`,
      }),
    );

    // ---- SageMaker ----
    const smErrors = sageMakerMetric(endpoint, 'Invocation5XXErrors', Stats.SUM, FIVE_MINUTES);
    const smErrorsAlarm = add(
      'SageMakerInvocationErrors',
      new Alarm(this, 'SageMakerInvocationErrorsAlarm', {
        metric: smErrors,
        threshold: t.sageMakerInvocationErrorsPer5Min,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `The model endpoint returned more than ${t.sageMakerInvocationErrorsPer5Min} 5XX errors in 5 minutes.`,
      }),
    );
    add(
      'SageMakerModelLatencyP99',
      new Alarm(this, 'SageMakerModelLatencyAlarm', {
        // ModelLatency is in microseconds.
        metric: sageMakerMetric(endpoint, 'ModelLatency', P99, ONE_MINUTE),
        threshold: t.sageMakerModelLatencyP99Ms * 1000,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `Model latency p99 is above ${t.sageMakerModelLatencyP99Ms} ms.`,
      }),
    );
    // Each healthy instance reports its CPU once a minute: the sample count is the number of instances up.
    const instancesReporting = sageMakerInstanceMetric(
      endpoint,
      'CPUUtilization',
      Stats.SAMPLE_COUNT,
      ONE_MINUTE,
    );
    const noCapacityAlarm = add(
      'SageMakerNoHealthyCapacity',
      new Alarm(this, 'SageMakerNoHealthyCapacityAlarm', {
        metric: instancesReporting,
        threshold: t.minHealthyInstances,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No data at all means no instance is running.
        treatMissingData: TreatMissingData.BREACHING,
        alarmDescription: `Fewer than ${t.minHealthyInstances} model endpoint instance(s) are reporting: no healthy capacity.`,
      }),
    );

    // ---- Lambda ----
    const functionEntries = Object.entries(props.functions);
    for (const [name, fn] of functionEntries) {
      add(
        `LambdaErrors-${name}`,
        new Alarm(this, `LambdaErrors-${name}`, {
          metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: Stats.SUM }),
          threshold: t.lambdaErrorsPer5Min,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
          alarmDescription: `Function ${name} failed more than ${t.lambdaErrorsPer5Min} times in 5 minutes.`,
        }),
      );
      add(
        `LambdaThrottles-${name}`,
        new Alarm(this, `LambdaThrottles-${name}`, {
          metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: Stats.SUM }),
          threshold: t.lambdaThrottlesPer5Min,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
          alarmDescription: `Function ${name} was throttled more than ${t.lambdaThrottlesPer5Min} times in 5 minutes.`,
        }),
      );
    }

    // ---- SQS, Kinesis, DynamoDB ----
    add(
      'JobsDlqNotEmpty',
      new Alarm(this, 'JobsDlqNotEmptyAlarm', {
        metric: props.jobsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: ONE_MINUTE,
          statistic: Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: 'Jobs failed repeatedly and are waiting in the dead-letter queue.',
      }),
    );
    add(
      'JobsOldestMessageAge',
      new Alarm(this, 'JobsOldestMessageAgeAlarm', {
        metric: props.jobsQueue.metricApproximateAgeOfOldestMessage({
          period: ONE_MINUTE,
          statistic: Stats.MAXIMUM,
        }),
        threshold: t.jobsQueueOldestMessageAgeSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `The oldest job has waited more than ${t.jobsQueueOldestMessageAgeSeconds} s.`,
      }),
    );
    add(
      'EventsIteratorAge',
      new Alarm(this, 'EventsIteratorAgeAlarm', {
        metric: props.eventsStream.metricGetRecordsIteratorAgeMilliseconds({
          period: ONE_MINUTE,
          statistic: Stats.MAXIMUM,
        }),
        threshold: t.eventsIteratorAgeMs,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `Event consumers are more than ${t.eventsIteratorAgeMs} ms behind the stream.`,
      }),
    );
    const tableThrottles = new MathExpression({
      expression: 'reads + writes',
      usingMetrics: {
        reads: props.table.metric('ReadThrottleEvents', { statistic: Stats.SUM }),
        writes: props.table.metric('WriteThrottleEvents', { statistic: Stats.SUM }),
      },
      label: 'Throttle events',
      period: FIVE_MINUTES,
    });
    add(
      'TableThrottles',
      new Alarm(this, 'TableThrottlesAlarm', {
        metric: tableThrottles,
        threshold: t.tableThrottlesPer5Min,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `DynamoDB throttled more than ${t.tableThrottlesPer5Min} requests in 5 minutes.`,
      }),
    );
    const replicationLatency = (props.replicaRegions ?? []).map((receivingRegion) =>
      props.table.metric('ReplicationLatency', {
        dimensionsMap: { TableName: props.table.tableName, ReceivingRegion: receivingRegion },
        statistic: Stats.AVERAGE,
        period: FIVE_MINUTES,
      }),
    );
    for (const [index, metric] of replicationLatency.entries()) {
      const receivingRegion = props.replicaRegions?.[index] ?? String(index);
      add(
        `ReplicationLatency-${receivingRegion}`,
        new Alarm(this, `ReplicationLatency-${receivingRegion}`, {
          metric,
          threshold: t.replicationLatencyMs,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
          treatMissingData: TreatMissingData.NOT_BREACHING,
          alarmDescription: `Global-table replication to ${receivingRegion} lags more than ${t.replicationLatencyMs} ms.`,
        }),
      );
    }

    this.alarms = alarms;
    props.alerts.addAlarmAction(...Object.values(alarms));

    this.serviceDegraded = new CompositeAlarm(this, 'ServiceDegraded', {
      alarmDescription: `chatstack is degraded in ${Stack.of(this).region}: latency, errors or model capacity.`,
      alarmRule: AlarmRule.anyOf(
        ttftAlarm,
        responseLatencyAlarm,
        errorRateAlarm,
        api5xxAlarm,
        smErrorsAlarm,
        noCapacityAlarm,
      ),
    });
    props.alerts.addAlarmAction(this.serviceDegraded);

    // ---- dashboard ----
    const fnMetrics = (metric: (fn: IFunction) => IMetric) => functionEntries.map(([, fn]) => metric(fn));
    const labelled = (name: string) => ({ label: name, period: ONE_MINUTE });
    const rows: IWidget[][] = [
      [
        new TextWidget({
          markdown: `# chatstack · ${Stack.of(this).region}\nTargets: time to first token and response latency p99 ≤ ${LATENCY_TARGET_MS / 1000} s, server errors ≤ ${t.errorRatePercent} %.`,
          width: 12,
          height: HEIGHT,
        }),
        new AlarmStatusWidget({
          title: 'Alarms',
          alarms: [this.serviceDegraded, ...Object.values(alarms)],
          width: 12,
          height: HEIGHT,
        }),
      ],
      [
        graph('Requests', [sumOfCustom(MetricName.requests, { label: 'Requests (all)' })], {
          right: [chatRequests.with({ label: 'Chat requests' })],
        }),
        graph('Errors by kind', [
          searchCustom(MetricName.errors, [SERVICE_DIMENSION, ERROR_KIND], { statistic: Stats.SUM }),
        ]),
        graph('Chat server error rate (%)', [serverErrorRate.with({ label: 'Server error rate (%)' })], {
          leftAnnotations: [{ value: t.errorRatePercent, label: 'alarm', color: Color.RED }],
        }),
      ],
      [
        graph(
          'Response latency (ms)',
          [
            chat(MetricName.responseLatency, P50, 'p50'),
            chat(MetricName.responseLatency, P90, 'p90'),
            chat(MetricName.responseLatency, P99, 'p99'),
          ],
          { leftAnnotations: [targetLine()] },
        ),
        graph(
          'Time to first token (ms)',
          [
            chat(MetricName.timeToFirstToken, P50, 'p50'),
            chat(MetricName.timeToFirstToken, P90, 'p90'),
            chat(MetricName.timeToFirstToken, P99, 'p99'),
          ],
          { leftAnnotations: [targetLine()] },
        ),
        graph('Tokens per second', [
          new MathExpression({
            expression: 'tokensOut / 60',
            usingMetrics: { tokensOut: sumOfCustom(MetricName.tokensOut, {}) },
            label: 'TokensOut/s',
            period: ONE_MINUTE,
          }),
          new MathExpression({
            expression: 'tokensIn / 60',
            usingMetrics: { tokensIn: sumOfCustom(MetricName.tokensIn, {}) },
            label: 'TokensIn/s',
            period: ONE_MINUTE,
          }),
        ]),
      ],
      [
        graph(
          'Model invocations',
          [
            sageMakerMetric(endpoint, 'Invocations', Stats.SUM, ONE_MINUTE, 'Invocations'),
            sageMakerMetric(endpoint, 'Invocation4XXErrors', Stats.SUM, ONE_MINUTE, '4XX'),
            sageMakerMetric(endpoint, 'Invocation5XXErrors', Stats.SUM, ONE_MINUTE, '5XX'),
          ],
          { right: [sumOfCustom(MetricName.inferenceFallbacks, { label: 'InferenceFallbacks' })] },
        ),
        graph(
          'Model latency (ms)',
          [
            microsToMillis(sageMakerMetric(endpoint, 'ModelLatency', P50), 'ModelLatency p50', 'modelP50'),
            microsToMillis(sageMakerMetric(endpoint, 'ModelLatency', P99), 'ModelLatency p99', 'modelP99'),
            microsToMillis(
              sageMakerMetric(endpoint, 'OverheadLatency', P99),
              'OverheadLatency p99',
              'overheadP99',
            ),
          ],
          { leftAnnotations: [targetLine()] },
        ),
        graph('GPU and GPU memory utilization (%)', [
          sageMakerInstanceMetric(endpoint, 'GPUUtilization', Stats.AVERAGE, ONE_MINUTE, 'GPUUtilization'),
          sageMakerInstanceMetric(
            endpoint,
            'GPUMemoryUtilization',
            Stats.AVERAGE,
            ONE_MINUTE,
            'GPUMemoryUtilization',
          ),
        ]),
      ],
      [
        graph(
          'Model concurrency and instances',
          [
            sageMakerMetric(
              endpoint,
              'ConcurrentRequestsPerModel',
              Stats.MAXIMUM,
              ONE_MINUTE,
              'ConcurrentRequestsPerModel (max)',
            ),
          ],
          { right: [instancesReporting.with({ label: 'Instances reporting' })] },
        ),
        graph(
          'Lambda duration p99 (ms)',
          fnMetrics((fn) => fn.metricDuration({ statistic: P99, ...labelled(nameOf(props.functions, fn)) })),
        ),
        graph(
          'Lambda errors',
          fnMetrics((fn) =>
            fn.metricErrors({ statistic: Stats.SUM, ...labelled(nameOf(props.functions, fn)) }),
          ),
        ),
      ],
      [
        graph(
          'Lambda throttles',
          fnMetrics((fn) =>
            fn.metricThrottles({ statistic: Stats.SUM, ...labelled(nameOf(props.functions, fn)) }),
          ),
        ),
        graph(
          'Lambda concurrent executions',
          fnMetrics((fn) =>
            fn.metric('ConcurrentExecutions', {
              statistic: Stats.MAXIMUM,
              ...labelled(nameOf(props.functions, fn)),
            }),
          ),
        ),
        graph(
          'API Gateway 4XX / 5XX',
          [
            props.api.metricClientError({ statistic: Stats.SUM, period: ONE_MINUTE, label: '4XX' }),
            props.api.metricServerError({ statistic: Stats.SUM, period: ONE_MINUTE, label: '5XX' }),
          ],
          { right: [props.api.metricCount({ statistic: Stats.SUM, period: ONE_MINUTE, label: 'Count' })] },
        ),
      ],
      [
        graph(
          'API Gateway latency (ms)',
          [
            props.api.metricLatency({ statistic: P50, period: ONE_MINUTE, label: 'Latency p50' }),
            props.api.metricLatency({ statistic: P99, period: ONE_MINUTE, label: 'Latency p99' }),
            props.api.metricIntegrationLatency({
              statistic: P99,
              period: ONE_MINUTE,
              label: 'IntegrationLatency p99',
            }),
          ],
          { leftAnnotations: [targetLine()] },
        ),
        graph('DynamoDB throttles', [
          props.table.metric('ReadThrottleEvents', { statistic: Stats.SUM, label: 'ReadThrottleEvents' }),
          props.table.metric('WriteThrottleEvents', { statistic: Stats.SUM, label: 'WriteThrottleEvents' }),
        ]),
        graph(
          'DynamoDB replication latency (ms)',
          replicationLatency.length > 0
            ? replicationLatency.map((metric, index) =>
                metric.with({ label: `to ${props.replicaRegions?.[index]}` }),
              )
            : [
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
            props.jobsQueue.metricApproximateNumberOfMessagesVisible({
              statistic: Stats.MAXIMUM,
              label: 'Visible',
            }),
            props.jobsQueue.metricApproximateNumberOfMessagesNotVisible({
              statistic: Stats.MAXIMUM,
              label: 'In flight',
            }),
            props.jobsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
              statistic: Stats.MAXIMUM,
              label: 'Dead-letter queue',
            }),
          ],
          {
            right: [
              props.jobsQueue.metricApproximateAgeOfOldestMessage({
                statistic: Stats.MAXIMUM,
                label: 'Oldest message age (s)',
              }),
            ],
          },
        ),
        graph('Jobs completed / failed', [
          // Both the worker and the dead-letter handler count failures: sum every service.
          sumOfCustom(MetricName.jobsCompleted, { label: 'JobsCompleted' }),
          sumOfCustom(MetricName.jobsFailed, { label: 'JobsFailed' }),
        ]),
        graph(
          'Events stream iterator age (ms)',
          [
            props.eventsStream.metricGetRecordsIteratorAgeMilliseconds({
              statistic: Stats.MAXIMUM,
              label: 'GetRecords.IteratorAgeMilliseconds',
            }),
          ],
          {
            right: [
              props.eventsStream.metricIncomingRecords({ statistic: Stats.SUM, label: 'IncomingRecords' }),
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
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', { widgets: rows, defaultInterval: Duration.hours(3) });
  }
}

function nameOf(functions: Readonly<Record<string, IFunction>>, fn: IFunction): string {
  return Object.entries(functions).find(([, candidate]) => candidate === fn)?.[0] ?? fn.node.id;
}

export interface GlobalOverviewDashboardProps {
  /** Every region chatstack runs in (the first is the primary, where this dashboard lives). */
  readonly regions: readonly string[];
  /**
   * The latency target drawn on the latency graphs, in milliseconds.
   * @default 2000
   */
  readonly latencyTargetMs?: number;
}

/**
 * One dashboard in the primary region summarising every region side by side: traffic, server errors, latency
 * against the target and model health. It uses search expressions (no resource names), so it needs no
 * cross-region references.
 */
export class GlobalOverviewDashboard extends Construct {
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: GlobalOverviewDashboardProps) {
    super(scope, id);
    if (props.regions.length === 0) throw new Error('GlobalOverviewDashboard: regions is empty');
    const target = targetLine(props.latencyTargetMs ?? LATENCY_TARGET_MS);
    const perRegion = (make: (region: string) => IMetric) => props.regions.map(make);

    const rows: IWidget[][] = [
      [
        new TextWidget({
          markdown: `# chatstack · all regions\n${props.regions.join(' · ')}`,
          width: 24,
          height: 2,
        }),
      ],
      [
        graph(
          'Requests by region',
          perRegion((region) => sumOfCustom(MetricName.requests, { region, label: region })),
        ),
        graph(
          'Server errors by region',
          perRegion(
            (region) =>
              new MathExpression({
                expression: `SUM(SEARCH('{${METRICS_NAMESPACE},service,ErrorKind} MetricName="${MetricName.errors}" (ErrorKind="internal" OR ErrorKind="inference")', 'Sum', 60))`,
                label: region,
                period: ONE_MINUTE,
                searchRegion: region,
              }),
          ),
        ),
        graph(
          'API Gateway 5XX by region',
          perRegion((region) =>
            searchAws('AWS/ApiGateway', ['ApiName'], '5XXError', {
              statistic: Stats.SUM,
              region,
              label: region,
              aggregate: 'SUM',
            }),
          ),
        ),
      ],
      [
        graph(
          'Time to first token p99 by region (ms)',
          perRegion((region) =>
            searchCustom(MetricName.timeToFirstToken, [SERVICE_DIMENSION], {
              statistic: P99,
              region,
              label: region,
            }),
          ),
          { leftAnnotations: [target] },
        ),
        graph(
          'Response latency p99 by region (ms)',
          perRegion((region) =>
            searchCustom(MetricName.responseLatency, [SERVICE_DIMENSION], {
              statistic: P99,
              region,
              label: region,
            }),
          ),
          { leftAnnotations: [target] },
        ),
        graph(
          'Tokens out by region',
          perRegion((region) => sumOfCustom(MetricName.tokensOut, { region, label: region })),
        ),
      ],
      [
        graph(
          'Model invocations by region',
          perRegion((region) =>
            searchAws('AWS/SageMaker', ['EndpointName', 'VariantName'], 'Invocations', {
              statistic: Stats.SUM,
              region,
              label: region,
              aggregate: 'SUM',
            }),
          ),
        ),
        graph(
          'Model 5XX by region',
          perRegion((region) =>
            searchAws('AWS/SageMaker', ['EndpointName', 'VariantName'], 'Invocation5XXErrors', {
              statistic: Stats.SUM,
              region,
              label: region,
              aggregate: 'SUM',
            }),
          ),
        ),
        graph(
          'GPU utilization by region (%)',
          perRegion((region) =>
            searchAws('/aws/sagemaker/Endpoints', ['EndpointName', 'VariantName'], 'GPUUtilization', {
              statistic: Stats.AVERAGE,
              region,
              label: region,
              aggregate: 'AVG',
            }),
          ),
        ),
      ],
      [
        graph(
          'Client errors by region',
          perRegion((region) => sumOfCustom(MetricName.clientErrors, { region, label: region })),
        ),
        graph(
          'Moderation blocks by region',
          perRegion((region) => sumOfCustom(MetricName.moderationBlocks, { region, label: region })),
        ),
        graph(
          'Quota rejections by region',
          perRegion((region) => sumOfCustom(MetricName.quotaRejections, { region, label: region })),
        ),
      ],
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', { widgets: rows, defaultInterval: Duration.hours(3) });
  }
}
