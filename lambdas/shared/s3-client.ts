import { S3Client } from '@aws-sdk/client-s3';
import { EnvName } from '../contracts/env';
import { tracer } from './powertools';

/** The S3 client, created once per process (cold start). */
let s3: S3Client | undefined;

export function s3Client(): S3Client {
  // The local emulator (s3rver) serves buckets on its path, not as virtual hosts.
  s3 ??= tracer.captureAWSv3Client(
    new S3Client({ forcePathStyle: process.env[EnvName.s3Endpoint] !== undefined }),
  );
  return s3;
}
