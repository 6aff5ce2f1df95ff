import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { UserDataTask } from '../../../lambdas/contracts/user-data-tasks';
import { createUserDataWorker, type UserDataWorkerDeps } from '../../../lambdas/user-data-worker/process';

function eventOf(bodies: readonly string[], receiveCount = 1): SQSEvent {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `m${index}`,
      receiptHandle: `r${index}`,
      body,
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: '0',
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:user-data',
      awsRegion: 'us-east-1',
    })),
  };
}

function recorder(overrides: Partial<UserDataWorkerDeps> = {}) {
  const calls: string[] = [];
  const requeued: { task: UserDataTask; delaySeconds: number }[] = [];
  const deps: UserDataWorkerDeps = {
    writeExport: async (sub, id) => void calls.push(`export ${sub} ${id}`),
    failExport: async (sub, id) => void calls.push(`failed ${sub} ${id}`),
    secondSweep: async (sub, at) => {
      calls.push(`sweep ${sub} ${at}`);
      return 0;
    },
    requeue: async (task, delaySeconds) => void requeued.push({ task, delaySeconds }),
    now: () => 10_000,
    ...overrides,
  };
  return { deps, calls, requeued };
}

const sweep = (dueAt: number) => JSON.stringify({ kind: 'sweep', sub: 'u', erasedAt: 1_000, dueAt });

describe('the user-data worker', () => {
  it('runs a due sweep and sends one that is not due yet again with the rest of its delay', async () => {
    const { deps, calls, requeued } = recorder();

    const result = await createUserDataWorker(deps)(eventOf([sweep(9_000), sweep(2_000_000)]));

    expect(result.batchItemFailures).toEqual([]);
    expect(calls).toEqual(['sweep u 1000']);
    expect(requeued).toEqual([{ task: JSON.parse(sweep(2_000_000)), delaySeconds: 1_990 }]);
  });

  it('drops a malformed task and reports a failing one for another delivery', async () => {
    const { deps, calls } = recorder({
      writeExport: async () => {
        throw new Error('S3 is down');
      },
    });

    const result = await createUserDataWorker(deps)(
      eventOf(['not json', JSON.stringify({ kind: 'export', sub: 'u', exportId: 'exp_1' })]),
    );

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(calls).toEqual([]);
  });

  it('marks an export failed when its last delivery fails', async () => {
    const { deps, calls } = recorder({
      writeExport: async () => {
        throw new Error('S3 is down');
      },
    });

    const result = await createUserDataWorker(deps)(
      eventOf([JSON.stringify({ kind: 'export', sub: 'u', exportId: 'exp_1' })], 3),
    );

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(calls).toEqual(['failed u exp_1']);
  });
});
