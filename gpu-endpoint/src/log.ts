/** Structured JSON logs, one object per line on stdout (CloudWatch Logs reads them as they are). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function log(level: LogLevel, message: string, fields: Readonly<Record<string, unknown>> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, service: 'gpu-endpoint', message, ...fields })}\n`,
  );
}
