import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as MetricUnitValue } from '@aws-lambda-powertools/metrics/types';
import { MetricDimension, MetricName } from '../contracts/metrics';
import { logger as sharedLogger, metrics as sharedMetrics } from '../shared/powertools';
import type { ClassifierProvider, FailMode, ModerationDecision, ModerationDirection } from './types';

/** The slice of Powertools Metrics used here (the real `Metrics` fits). */
export interface MetricsLike {
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: string, unit: MetricUnitValue, value: number): unknown;
  };
}

/** The slice of the Powertools Logger used here. */
export interface LoggerLike {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
}

export interface ClassifierFailure {
  direction: ModerationDirection;
  provider: ClassifierProvider;
  failMode: FailMode;
  error: unknown;
}

/** Counts and records moderation decisions: categories, direction and action, never the text. */
export interface DecisionRecorder {
  decision(decision: ModerationDecision): void;
  classifierError?(failure: ClassifierFailure): void;
}

const count = (metrics: MetricsLike, name: string, dimensions: Record<string, string>) => {
  // singleMetric: each count is its own EMF record with exactly these dimensions, flushed at once.
  const metric = metrics.singleMetric();
  for (const [dimension, value] of Object.entries(dimensions)) metric.addDimension(dimension, value);
  metric.addMetric(name, MetricUnit.Count, 1);
};

/** Emits `ModerationBlocks` / `ModerationRedactions` per category and an audit log line per decision. */
export function powertoolsRecorder(
  metrics: MetricsLike = sharedMetrics,
  logger: LoggerLike = sharedLogger,
): DecisionRecorder {
  return {
    decision({ direction, action, categories }) {
      if (action !== 'allow') {
        const name = action === 'block' ? MetricName.moderationBlocks : MetricName.moderationRedactions;
        for (const category of categories) {
          count(metrics, name, {
            [MetricDimension.direction]: direction,
            [MetricDimension.category]: category,
          });
        }
      }
      logger.info('moderation decision', { moderation: { direction, action, categories } });
    },
    classifierError({ direction, provider, failMode, error }) {
      count(metrics, MetricName.moderationClassifierErrors, { [MetricDimension.direction]: direction });
      logger.warn('moderation classifier failed', {
        moderation: { direction, provider, failMode, outcome: failMode === 'closed' ? 'blocked' : 'allowed' },
        // The name only: provider messages may quote the text being checked.
        error: error instanceof Error ? error.name : 'unknown',
      });
    },
  };
}
