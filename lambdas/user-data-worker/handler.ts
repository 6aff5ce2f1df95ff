import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { enqueueUserDataTask, exportDepsFromEnv, secondSweepDepsFromEnv } from '../me/deps';
import { failExport, writeExport } from '../me/exports';
import { secondSweep } from '../me/second-sweep';
import { logger, metrics } from '../shared/powertools';
import { createUserDataWorker } from './process';

const exportDeps = exportDepsFromEnv();
const sweep = secondSweepDepsFromEnv();
const worker = createUserDataWorker({
  writeExport: (sub, exportId) => writeExport(exportDeps, sub, exportId),
  failExport: (sub, exportId, message) => failExport(exportDeps, sub, exportId, message),
  secondSweep: (sub, erasedAtMs) => secondSweep(sweep, sub, erasedAtMs),
  requeue: (task, delaySeconds) => enqueueUserDataTask(task, delaySeconds),
});

/** The user-data queue's consumer (SQS event source, ReportBatchItemFailures): exports and second sweeps. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event) => worker(event));
