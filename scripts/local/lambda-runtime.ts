/**
 * What the Lambda Node.js runtime provides to response-streaming handlers, emulated for the local stack:
 * the `awslambda` global with `streamifyResponse` and `HttpResponseStream.from`. `from` writes exactly what the
 * real runtime writes — the JSON prelude, then 8 NUL bytes — and the local adapter parses it as API Gateway does,
 * so streamed responses are framed locally as they are in the cloud.
 */
import type { Writable } from 'node:stream';

export const STREAMING_HANDLER = Symbol.for('aws.lambda.runtime.handler.streaming');
export const PRELUDE_DELIMITER = Buffer.alloc(8, 0);

export type StreamingHandler = ((
  event: unknown,
  responseStream: Writable,
  context: unknown,
) => Promise<unknown>) & {
  [STREAMING_HANDLER]?: 'response';
};

interface AwsLambdaGlobal {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  HttpResponseStream: { from(stream: Writable, prelude: Record<string, unknown>): Writable };
}

/**
 * Installs the `awslambda` global's streaming API before any handler module is imported. Idempotent, and additive:
 * other libraries (the AWS SDK's invoke store) also keep state on `awslambda`.
 */
export function installLambdaRuntimeGlobals(): void {
  const scope = globalThis as unknown as { awslambda?: Partial<AwsLambdaGlobal> };
  scope.awslambda ??= {};
  const runtime = scope.awslambda;
  runtime.streamifyResponse ??= (handler) => {
    handler[STREAMING_HANDLER] = 'response';
    return handler;
  };
  runtime.HttpResponseStream ??= {
    from(stream, prelude) {
      stream.write(Buffer.from(JSON.stringify(prelude)));
      stream.write(PRELUDE_DELIMITER);
      return stream;
    },
  };
}

export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  return typeof handler === 'function' && (handler as StreamingHandler)[STREAMING_HANDLER] === 'response';
}
