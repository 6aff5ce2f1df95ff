import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { FILE_LIMITS, FileListQuery, FileUploadRequest } from '../contracts/files';
import { callerOf } from '../shared/auth';
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../shared/errors';
import { apiMiddlewares, baseHeaders, json } from '../shared/http';
import { parseJsonBody, parseQuery } from '../validation';
import { fileDepsFromEnv } from './deps';
import { parseMultipartUpload } from './multipart';
import {
  announceUpload,
  contentUrl,
  deleteFile,
  type FilesDeps,
  listFiles,
  readFile,
  uploadInline,
} from './service';

/** `/v1/files` (OpenAI's Files API): upload, list, read, download and delete the caller's files. */
const fileDeps = fileDepsFromEnv();
const deps: FilesDeps = {
  store: fileDeps.store,
  objects: fileDeps.objects,
  vectors: fileDeps.vectors,
  maxBytes: fileDeps.settings.maxBytes,
  quotaBytesPerUser: fileDeps.settings.quotaBytesPerUser,
};

async function upload(event: APIGatewayProxyEvent, sub: string) {
  const contentType = event.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(contentType)) {
    return uploadInline(deps, sub, await parseMultipartUpload(event, contentType));
  }
  if (/^application\/json/i.test(contentType)) {
    return announceUpload(deps, sub, parseJsonBody(event, FileUploadRequest));
  }
  throw new ValidationError(
    `Send the file as multipart/form-data (file, purpose), or JSON {filename, bytes} for files over ${FILE_LIMITS.maxInlineBytes} bytes.`,
    'file',
    'unsupported_content_type',
  );
}

async function files(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const { sub } = callerOf(event);
  const route = `${event.httpMethod} ${event.resource}`;
  const fileId = event.pathParameters?.id ?? '';
  switch (route) {
    case 'POST /v1/files':
      return json(event, 200, await upload(event, sub));
    case 'GET /v1/files':
      return json(
        event,
        200,
        await listFiles(deps, sub, parseQuery(event.queryStringParameters, FileListQuery)),
      );
    case 'GET /v1/files/{id}':
      return json(event, 200, await readFile(deps, sub, fileId));
    case 'GET /v1/files/{id}/content': {
      // The bytes come from S3 (a Lambda response could not carry a 50 MB file). A browser cannot follow a
      // cross-origin redirect under CORS, so a client asking for JSON gets the short-lived link itself.
      const url = await contentUrl(deps, sub, fileId);
      if (/^application\/json\b/i.test(event.headers.accept ?? '')) {
        return json(event, 200, {
          object: 'file.content_url',
          url,
          expires_in: FILE_LIMITS.presignedUrlSeconds,
        });
      }
      return {
        statusCode: 302,
        headers: { ...baseHeaders(event), location: url, 'cache-control': 'no-store' },
        body: '',
      };
    }
    case 'DELETE /v1/files/{id}':
      return json(event, 200, await deleteFile(deps, sub, fileId));
    default:
      if (event.resource?.startsWith('/v1/files')) throw new MethodNotAllowedError(event.httpMethod);
      throw new NotFoundError('Route');
  }
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(apiMiddlewares())
  .handler(files);
