import { z } from 'zod';

/**
 * Alarm thresholds of the regional `Monitoring` construct. The stage config can override any of them;
 * the defaults encode the product's targets (2 s to the first token, 0.1 % server errors).
 */
export interface AlarmThresholds {
  /** p99 of `ResponseLatency` (chat), in milliseconds, over 1-minute periods. */
  readonly responseLatencyP99Ms: number;
  /** p99 of `TimeToFirstToken` (chat), in milliseconds, over 1-minute periods. */
  readonly timeToFirstTokenP99Ms: number;
  /** Chat server errors (`Errors` of kind internal or inference) as a percentage of `Requests`. */
  readonly errorRatePercent: number;
  /**
   * Share of API Gateway responses that are 5XX, in percent, for 3 one-minute periods. The same alarm drives the
   * region's Route 53 health check (latency routing leaves a region that fails it).
   */
  readonly api5xxRatePercent: number;
  /** SageMaker `Invocation5XXErrors` per 5 minutes. */
  readonly sageMakerInvocationErrorsPer5Min: number;
  /** p99 of SageMaker `ModelLatency`, in milliseconds (the metric itself is in microseconds). */
  readonly sageMakerModelLatencyP99Ms: number;
  /** Fewer endpoint instances reporting than this raises "no healthy capacity". */
  readonly minHealthyInstances: number;
  /** Lambda errors per function per 5 minutes. */
  readonly lambdaErrorsPer5Min: number;
  /** Lambda throttles per function per 5 minutes (alarm when above). */
  readonly lambdaThrottlesPer5Min: number;
  /** Age of the oldest message in the jobs queue, in seconds. */
  readonly jobsQueueOldestMessageAgeSeconds: number;
  /**
   * Age of the oldest message in the jobs dead-letter queue, in seconds: its handler drains it at once, so an old
   * message means the handler itself keeps failing.
   */
  readonly jobsDeadLetterOldestMessageAgeSeconds: number;
  /** Kinesis `GetRecords.IteratorAgeMilliseconds` (maximum), in milliseconds. */
  readonly eventsIteratorAgeMs: number;
  /** DynamoDB read + write throttle events per 5 minutes. */
  readonly tableThrottlesPer5Min: number;
  /** DynamoDB global-table `ReplicationLatency` (average), in milliseconds. */
  readonly replicationLatencyMs: number;
  /** `ModerationBlocks` per 5 minutes, all categories and directions. */
  readonly moderationBlocksPer5Min: number;
  /** `ClientErrors` per 5 minutes. */
  readonly clientErrorsPer5Min: number;
}

export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  responseLatencyP99Ms: 2000,
  timeToFirstTokenP99Ms: 2000,
  errorRatePercent: 0.1,
  api5xxRatePercent: 5,
  sageMakerInvocationErrorsPer5Min: 5,
  sageMakerModelLatencyP99Ms: 10_000,
  minHealthyInstances: 1,
  lambdaErrorsPer5Min: 5,
  lambdaThrottlesPer5Min: 0,
  jobsQueueOldestMessageAgeSeconds: 300,
  jobsDeadLetterOldestMessageAgeSeconds: 900,
  eventsIteratorAgeMs: 60_000,
  tableThrottlesPer5Min: 10,
  replicationLatencyMs: 5000,
  moderationBlocksPer5Min: 50,
  clientErrorsPer5Min: 100,
};

const nonNegative = z.number().finite().nonnegative();
const thresholdFields = {
  responseLatencyP99Ms: nonNegative,
  timeToFirstTokenP99Ms: nonNegative,
  errorRatePercent: nonNegative,
  api5xxRatePercent: nonNegative,
  sageMakerInvocationErrorsPer5Min: nonNegative,
  sageMakerModelLatencyP99Ms: nonNegative,
  minHealthyInstances: z.number().int().min(1),
  lambdaErrorsPer5Min: nonNegative,
  lambdaThrottlesPer5Min: nonNegative,
  jobsQueueOldestMessageAgeSeconds: nonNegative,
  jobsDeadLetterOldestMessageAgeSeconds: nonNegative,
  eventsIteratorAgeMs: nonNegative,
  tableThrottlesPer5Min: nonNegative,
  replicationLatencyMs: nonNegative,
  moderationBlocksPer5Min: nonNegative,
  clientErrorsPer5Min: nonNegative,
} satisfies Record<keyof AlarmThresholds, z.ZodType<number>>;

/** Overrides as the stage config accepts them (e.g. context `alarms.thresholds`): any subset, no unknown keys. */
export const AlarmThresholdsSchema = z.object(thresholdFields).partial().strict();

/** The 2-second target drawn on latency graphs. */
export const LATENCY_TARGET_MS = 2000;

/** Merges overrides onto the defaults and rejects values no alarm could use, naming the bad one. */
export function resolveThresholds(overrides: Partial<AlarmThresholds> = {}): AlarmThresholds {
  const thresholds: AlarmThresholds = { ...DEFAULT_ALARM_THRESHOLDS, ...overrides };
  for (const [name, value] of Object.entries(thresholds)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`Monitoring: threshold ${name} must be a finite number ≥ 0, got ${String(value)}`);
    }
  }
  if (thresholds.minHealthyInstances < 1) {
    throw new Error(
      `Monitoring: threshold minHealthyInstances must be ≥ 1, got ${thresholds.minHealthyInstances}`,
    );
  }
  return thresholds;
}
