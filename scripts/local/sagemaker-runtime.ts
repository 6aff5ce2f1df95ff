import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';

/**
 * The local SageMaker runtime: answers what `SageMakerRuntimeClient` (with a custom `endpoint`) sends, so the
 * handlers run unchanged against the local inference server.
 * - `POST /endpoints/{name}/invocations` → the server's `POST /invocations`, answered as is;
 * - `POST /endpoints/{name}/invocations-response-stream` → the same, with the response bytes re-framed as AWS
 *   event-stream `PayloadPart` messages as they arrive, and a mid-stream failure as a `ModelStreamError`
 *   exception event — what SageMaker does with a container's chunked response.
 * Errors use SageMaker's own shapes (`x-amzn-errortype` + JSON), so the SDK raises the same exceptions.
 *
 * Inference components (`X-Amzn-SageMaker-Inference-Component`) can start cold, as one scaled to zero: while it
 * has no copies, every call gets SageMaker's 400 `ValidationError` "Inference Component has no capacity…", and
 * the first such call starts the scale-out (in AWS, the `NoCapacityInvocationFailures` alarm's step scaling);
 * `wakeAfterMs` later the component has a copy and answers.
 */
export interface SageMakerRuntimeOptions {
  readonly port: number;
  readonly host?: string;
  /** Endpoint name → base URL of the inference server (its `/invocations` is called). */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Inference components by name: the endpoint each runs on, and whether it starts with no copies. */
  readonly components?: Readonly<Record<string, ComponentOptions>>;
}

export interface ComponentOptions {
  readonly endpoint: string;
  /** Starts with no copies (scaled to zero); the first call then wakes it after `wakeAfterMs`. @default false */
  readonly cold?: boolean;
  /** From the first call that found no copies to the copy answering. @default 5000 */
  readonly wakeAfterMs?: number;
}

/** One component's copies: none, starting (since the first refused call), or up. */
class ComponentState {
  private state: 'cold' | 'waking' | 'up';
  private timer: NodeJS.Timeout | undefined;
  private wake: () => void = () => {};
  readonly awake = new Promise<void>((resolve) => {
    this.wake = resolve;
  });

  constructor(private readonly options: ComponentOptions) {
    this.state = options.cold ? 'cold' : 'up';
    if (this.state === 'up') this.wake();
  }

  /** Whether a copy can take the call now; a refused call starts the scale-out, as in AWS. */
  admit(): boolean {
    if (this.state === 'up') return true;
    if (this.state === 'cold') {
      this.state = 'waking';
      this.timer = setTimeout(() => {
        this.state = 'up';
        this.wake();
      }, this.options.wakeAfterMs ?? 5_000);
    }
    return false;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

export interface SageMakerRuntime {
  readonly url: string;
  /** Resolves once the component has a copy (at once for a warm one). */
  awake(component: string): Promise<void>;
  close(): Promise<void>;
}

const ACCOUNT_ID = '000000000000';
const PATH = /^\/endpoints\/([^/]+)\/(invocations|invocations-response-stream)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes) => decoder.decode(bytes),
  (text) => encoder.encode(text),
);

function sendError(
  response: ServerResponse,
  status: number,
  type: string,
  body: Record<string, unknown>,
): void {
  if (response.headersSent) return;
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'x-amzn-requestid': crypto.randomUUID(),
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

/** The container answered with an error status: SageMaker's `ModelError` (HTTP 424). */
function sendModelError(
  response: ServerResponse,
  originalStatus: number | undefined,
  originalMessage: string,
) {
  const kind = originalStatus !== undefined && originalStatus < 500 ? 'client' : 'server';
  sendError(response, 424, 'ModelError', {
    ErrorCode: kind === 'client' ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
    Message: `Received ${kind} error (${originalStatus ?? 0}) from primary with message "${originalMessage}". See logs.`,
    OriginalMessage: originalMessage,
    ...(originalStatus === undefined ? {} : { OriginalStatusCode: originalStatus }),
    LogStreamArn: `arn:aws:logs:local:${ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/local`,
  });
}

function stringHeader(value: string) {
  return { type: 'string' as const, value };
}

function payloadPart(bytes: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': stringHeader('PayloadPart'),
      ':message-type': stringHeader('event'),
      ':content-type': stringHeader('application/octet-stream'),
    },
    body: bytes,
  });
}

function modelStreamError(message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': stringHeader('ModelStreamError'),
      ':message-type': stringHeader('exception'),
      ':content-type': stringHeader('application/json'),
    },
    body: encoder.encode(JSON.stringify({ Message: message, ErrorCode: 'ModelStreamError' })),
  });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Answers for a component that cannot take the call (unknown, or without copies); true when it can. */
function admitComponent(
  response: ServerResponse,
  components: ReadonlyMap<string, { endpoint: string; state: ComponentState }>,
  endpointName: string,
  componentName: string,
): boolean {
  const component = components.get(componentName);
  if (component === undefined || component.endpoint !== endpointName) {
    sendError(response, 400, 'ValidationError', {
      message: `Inference Component ${componentName} of endpoint ${endpointName} not found.`,
    });
    return false;
  }
  if (component.state.admit()) return true;
  sendError(response, 400, 'ValidationError', {
    message:
      'Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress ' +
      '(if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.',
  });
  return false;
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: SageMakerRuntimeOptions,
  components: ReadonlyMap<string, { endpoint: string; state: ComponentState }>,
) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = PATH.exec(url.pathname);
  if (request.method !== 'POST' || !match) {
    sendError(response, 404, 'UnknownOperationException', {
      message: `No such operation: ${request.method} ${url.pathname}`,
    });
    return;
  }
  const endpointName = decodeURIComponent(match[1] ?? '');
  const streaming = match[2] === 'invocations-response-stream';
  const baseUrl = options.endpoints[endpointName];
  if (baseUrl === undefined) {
    sendError(response, 400, 'ValidationError', {
      message: `Endpoint ${endpointName} of account ${ACCOUNT_ID} not found.`,
    });
    return;
  }
  const componentName = request.headers['x-amzn-sagemaker-inference-component'];
  if (
    typeof componentName === 'string' &&
    !admitComponent(response, components, endpointName, componentName)
  ) {
    return;
  }
  const body = await readBody(request);
  // The caller going away cancels the call to the container, which frees its slot.
  const upstreamAbort = new AbortController();
  response.on('close', () => upstreamAbort.abort());

  let upstream: Response;
  try {
    upstream = await fetch(new URL('/invocations', baseUrl), {
      method: 'POST',
      body: new Uint8Array(body),
      headers: {
        'content-type': request.headers['content-type'] ?? 'application/json',
        accept: String(request.headers['x-amzn-sagemaker-accept'] ?? request.headers.accept ?? '*/*'),
      },
      signal: upstreamAbort.signal,
    });
  } catch (error) {
    sendModelError(response, undefined, `Connection to the model failed: ${describe(error)}`);
    return;
  }
  const contentType = upstream.headers.get('content-type') ?? 'application/octet-stream';
  if (!upstream.ok) {
    sendModelError(response, upstream.status, (await upstream.text().catch(() => '')).slice(0, 1024));
    return;
  }

  if (!streaming) {
    const bytes = Buffer.from(await upstream.arrayBuffer());
    response.writeHead(200, {
      'content-type': contentType,
      'x-amzn-invoked-production-variant': 'AllTraffic',
      'content-length': bytes.length,
    });
    response.end(bytes);
    return;
  }

  response.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-sagemaker-content-type': contentType,
    'x-amzn-invoked-production-variant': 'AllTraffic',
  });
  response.flushHeaders();
  if (!upstream.body) {
    response.end();
    return;
  }
  const reader = upstream.body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.byteLength > 0) response.write(payloadPart(value));
    }
    response.end();
  } catch (error) {
    if (upstreamAbort.signal.aborted) return;
    response.end(modelStreamError(`The model stream failed: ${describe(error)}`));
  }
}

/** Starts the emulator; `close()` stops it and ends open connections. */
export async function startSageMakerRuntime(options: SageMakerRuntimeOptions): Promise<SageMakerRuntime> {
  const components = new Map(
    Object.entries(options.components ?? {}).map(([name, component]) => [
      name,
      { endpoint: component.endpoint, state: new ComponentState(component) },
    ]),
  );
  const server = createServer((request, response) => {
    handle(request, response, options, components).catch((error: unknown) => {
      sendError(response, 500, 'InternalFailure', { message: describe(error) });
      if (!response.writableEnded) response.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    awake: async (name) => {
      const component = components.get(name);
      if (component === undefined) throw new Error(`No inference component ${name}`);
      await component.state.awake;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const component of components.values()) component.state.dispose();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
