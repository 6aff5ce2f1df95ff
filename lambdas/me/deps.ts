import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { EnvName } from '../contracts/env';
import { USER_DATA_SOURCE, type UserDataTask } from '../contracts/user-data-tasks';
import { conversationStoreFromEnv } from '../conversations/deps';
import { fileDepsFromEnv } from '../files/deps';
import { eraseFiles, exportFileLink, type FilesDeps, removeFile } from '../files/service';
import { required } from '../shared/config';
import { logger } from '../shared/powertools';
import { s3Client } from '../shared/s3-client';
import { sqsClient } from '../shared/sqs-client';
import type { ErasureDeps } from './erasure';
import type { ExportDeps } from './exports';
import { prefixPages } from './prefix-pages';
import type { SecondSweepDeps } from './second-sweep';
import { loadUserDataSettings } from './settings';

/** What `/v1/me` and the user-data worker need, built on first use from the environment. */
const settings = loadUserDataSettings();
let files: FilesDeps | undefined;

/** The files service's dependencies (only export and erasure need the files bucket). */
export function filesDeps(): FilesDeps {
  if (files) return files;
  const built = fileDepsFromEnv();
  files = {
    ...built,
    maxBytes: built.settings.maxBytes,
    quotaBytesPerUser: built.settings.quotaBytesPerUser,
  };
  return files;
}

const exportsBucket = () => required(settings.exportsBucket, EnvName.exportsBucketName);

/** Sends a task to the user-data worker, delayed by up to SQS's 15 minutes. */
export async function enqueueUserDataTask(task: UserDataTask, delaySeconds = 0): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: required(settings.queueUrl, EnvName.userDataQueueUrl),
      MessageBody: JSON.stringify(task),
      DelaySeconds: Math.min(USER_DATA_SOURCE.maxDelaySeconds, Math.max(0, Math.ceil(delaySeconds))),
    }),
  );
}

export function exportDepsFromEnv(): ExportDeps {
  return {
    store: conversationStoreFromEnv(),
    s3: s3Client(),
    bucket: exportsBucket(),
    enqueue: (task) => enqueueUserDataTask(task),
    fileLink: (item) => exportFileLink(filesDeps(), item),
  };
}

/**
 * Removes the objects of `sub`'s exports, found through their records (no listing of the bucket; a process that
 * has no exports to remove never calls it). An export still being written deletes its own object when it finds
 * its record gone; the lifecycle rule removes anything else within a day.
 */
async function eraseExports(sub: string): Promise<void> {
  for await (const items of prefixPages(conversationStoreFromEnv(), sub, 'EXPORT#', {
    projection: 'objectKey',
  })) {
    for (const item of items) {
      if (typeof item.objectKey !== 'string') continue;
      await s3Client().send(new DeleteObjectCommand({ Bucket: exportsBucket(), Key: item.objectKey }));
    }
  }
}

export function erasureDepsFromEnv(): ErasureDeps {
  return {
    store: conversationStoreFromEnv(),
    eraseFiles: (owner) => eraseFiles(filesDeps(), owner),
    eraseExports,
    // Every deployment sets the queue (UserDataJobs.grantRequests); a process without one (a unit test's) erases
    // once and says so.
    scheduleSecondSweep: async (sub, erasedAtMs) => {
      if (settings.queueUrl === undefined) {
        logger.warn(`no second erasure sweep: ${EnvName.userDataQueueUrl} is not set`);
        return;
      }
      const dueAt = erasedAtMs + settings.sweepDelaySeconds * 1000;
      await enqueueUserDataTask(
        { kind: 'sweep', sub, erasedAt: erasedAtMs, dueAt },
        settings.sweepDelaySeconds,
      );
    },
  };
}

export function secondSweepDepsFromEnv(): SecondSweepDeps {
  return {
    store: conversationStoreFromEnv(),
    removeFile: async (sub, fileId) => void (await removeFile(filesDeps(), sub, fileId)),
    removeExportObject: async (objectKey) =>
      void (await s3Client().send(new DeleteObjectCommand({ Bucket: exportsBucket(), Key: objectKey }))),
  };
}
