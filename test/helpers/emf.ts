import { type MockInstance, vi } from 'vitest';

/** One metric definition block of an EMF line (`_aws.CloudWatchMetrics[n]`). */
export interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit?: string; StorageResolution?: number }[];
}

/** An Embedded Metric Format line as Powertools prints it: the directive plus every value as a top-level key. */
export interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: EmfDirective[] };
  [key: string]: unknown;
}

export interface EmfCapture {
  /** Every EMF line printed since the capture started, parsed. */
  lines(): EmfLine[];
  /** Lines that define `metricName`. */
  linesWith(metricName: string): EmfLine[];
  /** Names of every metric printed so far. */
  metricNames(): string[];
  /** Every non-EMF line that was printed, e.g. Powertools Logger output. */
  otherOutput(): string[];
  /** Stops capturing and restores stdout, stderr and console. */
  restore(): void;
}

function isEmfLine(value: unknown): value is EmfLine {
  if (typeof value !== 'object' || value === null || !('_aws' in value)) return false;
  const aws = (value as { _aws: unknown })._aws;
  return (
    typeof aws === 'object' &&
    aws !== null &&
    Array.isArray((aws as { CloudWatchMetrics?: unknown }).CloudWatchMetrics)
  );
}

/**
 * Captures what Powertools Metrics (and Logger) print. Powertools writes through its own `Console` on `process.stdout`
 * (or through the global `console` when `POWERTOOLS_DEV` is set), so both are spied on; output is swallowed
 * while capturing so test logs stay readable. Call `metrics.publishStoredMetrics()` (or run a handler with the
 * `logMetrics` middleware) before reading.
 */
export function captureEmf(): EmfCapture {
  const printed: string[] = [];
  const record = (chunk: unknown) => {
    const text =
      typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    printed.push(...text.split('\n').filter((line) => line.trim().length > 0));
  };
  const spies: MockInstance[] = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      record(chunk);
      return true;
    }),
    // Logger writes warnings and errors to stderr: captured too, so `otherOutput()` sees every log entry.
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      record(chunk);
      return true;
    }),
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => record(args.map(String).join(' '))),
  ];
  const parsed = () =>
    printed.map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return line;
      }
    });
  const lines = () => parsed().filter(isEmfLine);
  return {
    lines,
    linesWith: (metricName) =>
      lines().filter((line) =>
        line._aws.CloudWatchMetrics.some((directive) => directive.Metrics.some((m) => m.Name === metricName)),
      ),
    metricNames: () => [
      ...new Set(
        lines().flatMap((line) => line._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name))),
      ),
    ],
    otherOutput: () => printed.filter((_line, index) => !isEmfLine(parsed()[index])),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
