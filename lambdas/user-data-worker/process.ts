import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { USER_DATA_SOURCE, UserDataTask } from '../contracts/user-data-tasks';
import { logger } from '../shared/powertools';

/**
 * The user-data worker's batch: each message is one task — write an export, or run the second sweep after an
 * erasure. A sweep delivered before it is due (SQS delays a message by 15 minutes at most) is sent again with the
 * rest of its delay. A malformed message is dropped with a log line (retrying cannot fix it); a failing task is
 * reported, so SQS delivers it again and, after `maxReceiveCount`, moves it to the dead-letter queue.
 */
export interface UserDataWorkerDeps {
  readonly writeExport: (sub: string, exportId: string) => Promise<unknown>;
  /** Marks an export failed for good (its last delivery failed). */
  readonly failExport: (sub: string, exportId: string, message: string) => Promise<void>;
  readonly secondSweep: (sub: string, erasedAtMs: number) => Promise<number>;
  readonly requeue: (task: UserDataTask, delaySeconds: number) => Promise<void>;
  readonly now?: () => number;
}

async function run(deps: UserDataWorkerDeps, task: UserDataTask, receiveCount: number): Promise<void> {
  if (task.kind === 'export') {
    try {
      const outcome = await deps.writeExport(task.sub, task.exportId);
      logger.info('export written', { exportId: task.exportId, outcome });
    } catch (error) {
      if (receiveCount >= USER_DATA_SOURCE.maxReceiveCount) {
        await deps.failExport(
          task.sub,
          task.exportId,
          'The export could not be written; please ask for a new one.',
        );
      }
      throw error;
    }
    return;
  }
  const now = deps.now ? deps.now() : Date.now();
  if (task.dueAt > now) {
    await deps.requeue(task, (task.dueAt - now) / 1000);
    return;
  }
  const removed = await deps.secondSweep(task.sub, task.erasedAt);
  logger.info('second erasure sweep', { removed });
}

export function createUserDataWorker(deps: UserDataWorkerDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      let task: UserDataTask;
      try {
        task = UserDataTask.parse(JSON.parse(record.body));
      } catch (error) {
        logger.error('dropping a malformed user-data task', {
          messageId: record.messageId,
          error: error as Error,
        });
        continue;
      }
      try {
        await run(deps, task, Number(record.attributes.ApproximateReceiveCount ?? '1'));
      } catch (error) {
        logger.error('user-data task failed', {
          messageId: record.messageId,
          kind: task.kind,
          error: error as Error,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
