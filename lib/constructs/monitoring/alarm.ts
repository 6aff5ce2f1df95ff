import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/**
 * What every construct that owns a resource exposes to `Monitoring`: the alarms it built from its own
 * `metricXxx()` methods, by a stable name (e.g. `TimeToFirstTokenP99`, `DeadLetters`).
 */
export interface Watched {
  readonly alarms: Readonly<Record<string, Alarm>>;
}

export interface AlarmSpec {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly description: string;
  /** @default GREATER_THAN_THRESHOLD */
  readonly comparison?: ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** @default NOT_BREACHING (no traffic is no problem) */
  readonly treatMissingData?: TreatMissingData;
}

/** One alarm with the house defaults: above the threshold for one period, missing data is fine. */
export function alarm(scope: Construct, id: string, spec: AlarmSpec): Alarm {
  return new Alarm(scope, id, {
    metric: spec.metric,
    threshold: spec.threshold,
    comparisonOperator: spec.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: spec.evaluationPeriods ?? 1,
    datapointsToAlarm: spec.datapointsToAlarm,
    treatMissingData: spec.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    alarmDescription: spec.description,
  });
}

/** Latency-style alarms: 3 of 5 one-minute periods, so one slow minute does not page anyone. */
export const SUSTAINED = { evaluationPeriods: 5, datapointsToAlarm: 3 } as const;
