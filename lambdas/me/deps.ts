import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { EnvName } from '../contracts/env';
import { exportObjectsPrefix, USER_DATA_SOURCE, type UserDataTask } from '../contracts/user-data-tasks';
import { conversationStoreFromEnv } from '../conversations/deps';
import { fileDepsFromEnv } from '../files/deps';
import { eraseFiles, exportFileLink, type FilesDeps, removeFile } from '../files/service';
import { required } from '../shared/config';
import { s3Client } from '../shared/s3-client';
import { sqsClient } from '../shared/sqs-client';
import type { ErasureDeps } from './erasure';
import type { ExportDeps } from './exports';
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

/** Removes every export object of `sub` (a page of up to 1,000 keys at a time). */
async function eraseExports(sub: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({
        Bucket: exportsBucket(),
        Prefix: exportObjectsPrefix(sub),
        ContinuationToken: token,
      }),
    );
    const objects = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
    if (objects.length > 0) {
      await s3Client().send(
        new DeleteObjectsCommand({ Bucket: exportsBucket(), Delete: { Objects: objects } }),
      );
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

export function erasureDepsFromEnv(): ErasureDeps {
  return {
    store: conversationStoreFromEnv(),
    eraseFiles: (owner) => eraseFiles(filesDeps(), owner),
    eraseExports,
    scheduleSecondSweep: (sub, erasedAtMs) => {
      const dueAt = erasedAtMs + settings.sweepDelaySeconds * 1000;
      return enqueueUserDataTask(
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
