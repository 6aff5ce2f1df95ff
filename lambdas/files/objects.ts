import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** The files bucket: object writes, reads, presigned URLs and deletes, all by key. */
export interface FileObjectsDeps {
  readonly s3: S3Client;
  readonly bucket: string;
}

export function createFileObjects(deps: FileObjectsDeps) {
  const { s3, bucket } = deps;

  return {
    async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },

    /**
     * A presigned PUT for exactly this key, content type and size: both headers are signed, so S3 refuses a body
     * of any other length (the announced size is what the quota reserved).
     */
    presignPut(key: string, contentType: string, bytes: number, expiresInSeconds: number): Promise<string> {
      return getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: bytes }),
        { expiresIn: expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
      );
    },

    /** A presigned GET that downloads under the file's own name. */
    presignGet(key: string, filename: string, expiresInSeconds: number): Promise<string> {
      const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`;
      return getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition }),
        { expiresIn: expiresInSeconds },
      );
    },

    /** The object's size, or `undefined` when it does not exist. */
    async size(key: string): Promise<number | undefined> {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return head.ContentLength ?? 0;
      } catch (error) {
        if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
        throw error;
      }
    },

    async read(key: string): Promise<Uint8Array | undefined> {
      try {
        const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return output.Body === undefined ? new Uint8Array() : await output.Body.transformToByteArray();
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },

    async remove(key: string): Promise<void> {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

export type FileObjects = ReturnType<typeof createFileObjects>;
