/** HTTP edge: SageMaker container contract (/ping, /invocations) and the OpenAI paths (/v1/...). */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type EngineMessage,
  type GenerationParams,
  type GenerationResult,
  type InferenceEngine,
  RequestCancelledError,
} from './engine';
import { log } from './log';
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  HttpError,
  invalidRequest,
  messageText,
  parseChatCompletionRequest,
  usageOf,
} from './openai';

/** Real-time invocation payloads are limited to ~6 MB by SageMaker. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;
const RECORDED_REQUESTS = 50;

export interface ServerOptions {
  readonly modelName: string;
  readonly requestDeadlineMs: number;
  readonly recordRequests: boolean;
}

/** A request body kept for `GET /debug/requests`. */
export interface RecordedRequest {
  readonly requestId: string;
  readonly receivedAt: string;
  readonly path: string;
  readonly body: unknown;
  promptText: string | null;
}

/** The HTTP server; the engine is attached once the model has loaded (until then /ping answers 503). */
export class InferenceHttpServer {
  readonly server: Server;
  private engine: InferenceEngine | null = null;
  private draining = false;
  private readonly recorded: RecordedRequest[] = [];
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(private readonly options: ServerOptions) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => this.sendError(res, err));
    });
    // Streams can be long; SageMaker and the API client own the timeouts.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
  }

  attach(engine: InferenceEngine): void {
    this.engine = engine;
  }

  get ready(): boolean {
    return this.engine !== null && !this.draining;
  }

  /** Stops accepting work (ping 503, new requests 503), waits for in-flight requests, closes the listener. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    this.engine?.stopAccepting();
    // Resolves once every connection has ended (responses fully written).
    const closed = new Promise<true>((resolve) => this.server.close(() => resolve(true)));
    this.server.closeIdleConnections();
    const idle = this.engine?.idle() ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([idle.then(() => true), timedOut]);
    // Finished responses leave keep-alive connections behind: close them once idle, then wait for the rest.
    this.server.closeIdleConnections();
    const connectionsClosed = await Promise.race([closed, timedOut]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    return drained && connectionsClosed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (path === '/ping' && (method === 'GET' || method === 'HEAD')) {
      const status = this.ready ? 200 : 503;
      sendJson(res, status, {
        status: this.ready ? 'healthy' : this.draining ? 'draining' : 'loading',
        slots: { busy: this.engine?.slotsBusy ?? 0, total: this.engine?.slotsTotal ?? 0 },
        queued: this.engine?.queueLength ?? 0,
        decodes: this.engine?.decodeStats ?? null,
      });
      return;
    }
    if ((path === '/invocations' || path === '/v1/chat/completions') && method === 'POST') {
      await this.chatCompletion(req, res, requestId, path);
      return;
    }
    if (path === '/v1/models' && method === 'GET') {
      sendJson(res, 200, {
        object: 'list',
        data: [
          { id: this.options.modelName, object: 'model', created: this.startedAt, owned_by: 'chatstack' },
        ],
      });
      return;
    }
    if (path === '/debug/requests' && method === 'GET' && this.options.recordRequests) {
      sendJson(res, 200, { object: 'list', data: this.recorded });
      return;
    }
    throw new HttpError(404, `No route for ${method} ${path}.`, 'invalid_request_error', null, 'not_found');
  }

  private async chatCompletion(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    path: string,
  ): Promise<void> {
    const receivedAt = performance.now();
    const body = await readJson(req);
    let record: RecordedRequest | undefined;
    if (this.options.recordRequests) {
      record = { requestId, receivedAt: new Date().toISOString(), path, body, promptText: null };
      this.recorded.push(record);
      if (this.recorded.length > RECORDED_REQUESTS) this.recorded.shift();
    }
    const request = parseChatCompletionRequest(body);
    const engine = this.engine;
    if (engine === null || this.draining) {
      throw new HttpError(503, 'The model is not loaded yet.', 'server_error', null, 'model_not_ready');
    }
    const params = toGenerationParams(request);
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.options.modelName;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const deadlineAt = Date.now() + this.options.requestDeadlineMs;
    const streaming = request.stream === true;
    const includeUsage = request.stream_options?.include_usage === true;

    const chunk = (
      delta: ChatCompletionChunk['choices'][number]['delta'],
      finish: 'stop' | 'length' | null,
    ) =>
      sseData(res, {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        usage: null,
      } satisfies ChatCompletionChunk);

    let result: GenerationResult;
    try {
      result = await engine.generate(params, {
        signal: abort.signal,
        deadlineAt,
        onStart: () => {
          if (!streaming) return;
          res.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
            'x-accel-buffering': 'no',
          });
          res.flushHeaders();
          chunk({ role: 'assistant', content: '' }, null);
        },
        onText: (text) => {
          if (streaming) chunk({ content: text }, null);
        },
      });
    } catch (err) {
      this.logRequest(requestId, path, receivedAt, null, err);
      if (err instanceof RequestCancelledError) {
        res.destroy();
        return;
      }
      if (streaming && res.headersSent) {
        const httpError = toHttpError(err);
        sseData(res, httpError.toBody());
        res.end();
        return;
      }
      throw err;
    }
    if (record !== undefined) record.promptText = result.promptText;
    const usage = usageOf(result.promptTokens, result.completionTokens);
    if (streaming) {
      chunk({}, result.finishReason);
      if (includeUsage) {
        sseData(res, {
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          system_fingerprint: null,
          choices: [],
          usage,
        } satisfies ChatCompletionChunk);
      }
      res.end('data: [DONE]\n\n');
    } else {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: null,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: result.text, refusal: null },
            logprobs: null,
            finish_reason: result.finishReason,
          },
        ],
        usage,
      } satisfies ChatCompletion);
    }
    this.logRequest(requestId, path, receivedAt, result, null);
  }

  private logRequest(
    requestId: string,
    path: string,
    receivedAt: number,
    result: GenerationResult | null,
    err: unknown,
  ): void {
    const engine = this.engine;
    const round = (value: number | null | undefined) => (value == null ? null : Math.round(value * 10) / 10);
    log(result === null ? 'warn' : 'info', 'request', {
      requestId,
      path,
      outcome:
        result !== null
          ? 'completed'
          : err instanceof RequestCancelledError
            ? 'cancelled'
            : err instanceof HttpError
              ? (err.code ?? err.type)
              : 'error',
      ...(err !== null && !(err instanceof RequestCancelledError) ? { error: String(err) } : {}),
      durationMs: round(performance.now() - receivedAt),
      queueWaitMs: round(result?.queueWaitMs),
      timeToFirstTokenMs: round(result?.timeToFirstTokenMs),
      promptTokens: result?.promptTokens ?? null,
      completionTokens: result?.completionTokens ?? null,
      decodeTokensPerSecond: round(result?.decodeTokensPerSecond),
      finishReason: result?.finishReason ?? null,
      slotsBusy: result?.slotsBusy ?? engine?.slotsBusy ?? 0,
      slotsTotal: engine?.slotsTotal ?? 0,
      queueLength: engine?.queueLength ?? 0,
    });
  }

  private sendError(res: ServerResponse, err: unknown): void {
    const httpError = toHttpError(err);
    if (httpError.status >= 500 && !(err instanceof HttpError)) {
      log('error', 'unhandled error', {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(httpError.headers)) res.setHeader(name, value);
    sendJson(res, httpError.status, httpError.toBody());
  }
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  return new HttpError(
    500,
    'The server failed to process the request.',
    'server_error',
    null,
    'internal_error',
  );
}

function toGenerationParams(request: ChatCompletionRequest): GenerationParams {
  const messages: EngineMessage[] = request.messages.map((m) => ({
    role: m.role,
    text: messageText(m.content),
  }));
  const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;
  const format = request.response_format;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  return {
    messages,
    maxTokens,
    temperature: request.temperature ?? undefined,
    topP: request.top_p ?? undefined,
    seed: request.seed ?? undefined,
    stop,
    ignoreEos: request.ignore_eos === true,
    json:
      format == null || format.type === 'text'
        ? undefined
        : { schema: format.type === 'json_schema' ? (format.json_schema.schema ?? undefined) : undefined },
  };
}

/** Request id: the caller's `x-request-id`, SageMaker's inference id, or a new one. */
function requestIdOf(req: IncomingMessage): string {
  const candidates = [req.headers['x-request-id'], req.headers['x-amzn-sagemaker-inference-id']];
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && /^[\w.:-]{1,128}$/.test(candidate)) return candidate;
  }
  return randomUUID();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(
        413,
        'The request body is larger than 6 MB.',
        'invalid_request_error',
        null,
        'body_too_large',
      );
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw invalidRequest('The request body is empty; expected a JSON object.', null);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidRequest('The request body is not valid JSON.', null, 'invalid_json');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sseData(res: ServerResponse, body: unknown): void {
  res.write(`data: ${JSON.stringify(body)}\n\n`);
}
