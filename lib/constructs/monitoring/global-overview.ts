import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  type IMetric,
  type IWidget,
  MathExpression,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, MetricName } from '../../../lambdas/contracts/metrics';
import { ONE_MINUTE, P99, SERVICE_DIMENSION, searchAws, searchCustom, sumOfCustom } from './metrics';
import { LATENCY_TARGET_MS } from './thresholds';
import { graph, targetLine } from './widgets';

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
