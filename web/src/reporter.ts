/**
 * Uncaught errors and unhandled rejections are reported to `POST /v1/client-errors`, at most a few per page and
 * never the same one twice, so a broken render loop cannot flood the API.
 */
import type { ClientErrorReport } from './api';

const MAX_REPORTS_PER_PAGE = 10;

export type ReportSender = (report: ClientErrorReport) => Promise<void>;

export function installErrorReporter(
  send: ReportSender,
  release: string,
): (report: ClientErrorReport) => void {
  const seen = new Set<string>();
  let sent = 0;
  const report = (input: ClientErrorReport) => {
    const fingerprint = `${input.kind}:${input.message}`;
    if (seen.has(fingerprint) || sent >= MAX_REPORTS_PER_PAGE) return;
    seen.add(fingerprint);
    sent++;
    const full: ClientErrorReport = {
      ...input,
      message: input.message.slice(0, 1000) || 'Unknown error',
      ...(input.stack === undefined ? {} : { stack: input.stack.slice(0, 4000) }),
      pageUrl: `${location.origin}${location.pathname}`,
      userAgent: navigator.userAgent.slice(0, 512),
      release,
      occurredAt: new Date().toISOString(),
    };
    // Reporting must never cause another report.
    send(full).catch(() => undefined);
  };
  window.addEventListener('error', (event) => {
    const error: unknown = event.error;
    report({
      kind: 'uncaught',
      message: error instanceof Error ? `${error.name}: ${error.message}` : event.message || 'Script error',
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    });
  });
  window.addEventListener('unhandledrejection', (event) => {
    const reason: unknown = event.reason;
    report({
      kind: 'unhandledrejection',
      message: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      ...(reason instanceof Error && reason.stack ? { stack: reason.stack } : {}),
    });
  });
  return report;
}
