import { Duration } from 'aws-cdk-lib';
import { type IMetric, MathExpression, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, MetricDimension, MetricName } from '../../../lambdas/contracts/metrics';

/**
 * CloudWatch metric builders for the dashboards and alarms. Custom metrics come from the shared contract
 * (`lambdas/contracts/metrics.ts`) so the names charted are the names the handlers emit.
 */

/**
 * The dimension Powertools Metrics adds to every metric: the function's POWERTOOLS_SERVICE_NAME, which
 * `AppFunction` sets to the function's folder name (`chat`, `client-errors`, `jobs-worker`…).
 */
export const SERVICE_DIMENSION = MetricDimension.service;

export const ONE_MINUTE = Duration.minutes(1);
export const FIVE_MINUTES = Duration.minutes(5);

export interface CustomMetricOptions {
  readonly service: string;
  readonly statistic: string;
  readonly period?: Duration;
  readonly label?: string;
  /** Extra dimensions beyond `service` (e.g. `ErrorKind`). */
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly region?: string;
}

/** One custom metric of one service, with exact dimensions: what alarms need. */
export function customMetric(metricName: MetricName, options: CustomMetricOptions): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [SERVICE_DIMENSION]: options.service, ...options.dimensions },
    statistic: options.statistic,
    period: options.period ?? ONE_MINUTE,
    label: options.label,
    region: options.region,
  });
}

export interface SearchOptions {
  readonly statistic: string;
  readonly period?: Duration;
  readonly label?: string;
  /** Search in another region (global overview). @default - the stack's region */
  readonly region?: string;
}

const seconds = (period: Duration | undefined) => (period ?? ONE_MINUTE).toSeconds();

/** Every series of a custom metric with the given dimension schema, one line each (e.g. per ErrorKind). */
export function searchCustom(
  metricName: MetricName,
  dimensions: readonly string[],
  options: SearchOptions,
): MathExpression {
  const schema = [METRICS_NAMESPACE, ...dimensions].join(',');
  return new MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"', '${options.statistic}', ${seconds(options.period)})`,
    label: options.label ?? '',
    period: options.period ?? ONE_MINUTE,
    searchRegion: options.region,
  });
}

/**
 * The one dimension set each custom metric is emitted with (see docs/metrics.md). A search schema matches metrics
 * with exactly these dimensions, so totals over services and categories need it.
 */
export const CUSTOM_METRIC_DIMENSIONS: Readonly<Record<MetricName, readonly string[]>> = {
  [MetricName.requests]: [MetricDimension.service],
  [MetricName.errors]: [MetricDimension.service, MetricDimension.errorKind],
  [MetricName.timeToFirstToken]: [MetricDimension.service],
  [MetricName.responseLatency]: [MetricDimension.service],
  [MetricName.tokensIn]: [MetricDimension.service],
  [MetricName.tokensOut]: [MetricDimension.service],
  [MetricName.moderationBlocks]: [
    MetricDimension.service,
    MetricDimension.direction,
    MetricDimension.category,
  ],
  [MetricName.moderationRedactions]: [
    MetricDimension.service,
    MetricDimension.direction,
    MetricDimension.category,
  ],
  [MetricName.moderationClassifierErrors]: [MetricDimension.service, MetricDimension.direction],
  [MetricName.quotaRejections]: [MetricDimension.service],
  [MetricName.answerPersistFailures]: [MetricDimension.service],
  [MetricName.answerPersistRetries]: [MetricDimension.service],
  [MetricName.moderationInputMessages]: [MetricDimension.service],
  [MetricName.inferenceFallbacks]: [MetricDimension.service],
  [MetricName.authFailures]: [MetricDimension.service, MetricDimension.reason],
  [MetricName.authSuccesses]: [MetricDimension.service, MetricDimension.authMethod],
  [MetricName.jobsCompleted]: [MetricDimension.service],
  [MetricName.jobsFailed]: [MetricDimension.service],
  [MetricName.clientErrors]: [MetricDimension.service],
  [MetricName.filesProcessed]: [MetricDimension.service],
  [MetricName.filesFailed]: [MetricDimension.service, MetricDimension.errorKind],
  [MetricName.feedbackRatings]: [MetricDimension.service, MetricDimension.rating],
  [MetricName.filePagesIngested]: [MetricDimension.service],
  [MetricName.fileIngestDuration]: [MetricDimension.service],
};

/** A custom metric summed over every service and dimension value: one line. */
export function sumOfCustom(
  metricName: MetricName,
  options: Omit<SearchOptions, 'statistic'>,
): MathExpression {
  const schema = [METRICS_NAMESPACE, ...CUSTOM_METRIC_DIMENSIONS[metricName]].join(',');
  return new MathExpression({
    expression: `SUM(SEARCH('{${schema}} MetricName="${metricName}"', 'Sum', ${seconds(options.period)}))`,
    label: options.label ?? metricName,
    period: options.period ?? ONE_MINUTE,
    searchRegion: options.region,
  });
}

/**
 * A custom metric summed over every dimension with a Metrics Insights query: usable in alarms (SEARCH is not),
 * so a spike alarm needs no list of categories or services.
 */
export function insightsSum(metricName: MetricName, period: Duration, label: string): MathExpression {
  return new MathExpression({
    expression: `SELECT SUM(${metricName}) FROM "${METRICS_NAMESPACE}"`,
    label,
    period,
  });
}

/** Searches an AWS namespace (no resource names needed: used by the cross-region overview). */
export function searchAws(
  namespace: string,
  dimensions: readonly string[],
  metricName: string,
  options: SearchOptions & { readonly aggregate?: 'SUM' | 'MAX' | 'AVG' },
): MathExpression {
  const schema = [namespace.includes('/') ? `"${namespace}"` : namespace, ...dimensions].join(',');
  const search = `SEARCH('{${schema}} MetricName="${metricName}"', '${options.statistic}', ${seconds(options.period)})`;
  return new MathExpression({
    expression: options.aggregate ? `${options.aggregate}(${search})` : search,
    label: options.label ?? '',
    period: options.period ?? ONE_MINUTE,
    searchRegion: options.region,
  });
}

/** Milliseconds from a microsecond metric (SageMaker `ModelLatency`, `OverheadLatency`). */
export function microsToMillis(metric: IMetric, label: string, id: string): MathExpression {
  return new MathExpression({
    expression: `${id} / 1000`,
    usingMetrics: { [id]: metric },
    label,
    period: ONE_MINUTE,
  });
}

export const P50 = Stats.percentile(50);
export const P90 = Stats.percentile(90);
export const P99 = Stats.percentile(99);
export const { errorKind: ERROR_KIND, direction: DIRECTION, category: CATEGORY } = MetricDimension;
