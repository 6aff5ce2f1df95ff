/** HTTP edge: SageMaker container contract (/ping, /invocations) and the OpenAI paths (/v1/...). */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Admission, AdmissionAbortedError, type Admitted } from './admission';
import type { Engine } from './engine';
import { type EngineRequestOptions, toEngineRequest } from './engine-request';
import { log } from './log';
import { HttpError, invalidRequest, parseChatCompletionRequest } from './openai';
import { type ChatCompletionChunk, ChunkTranslator, CompletionCollector, engineEvents } from './relay';

/** Real-time invocation payloads are limited to ~6 MB by SageMaker. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;
const RECORDED_REQUESTS = 50;

export interface ServerOptions extends EngineRequestOptions {
  readonly modelName: string;
  readonly maxQueue: number;
  readonly requestDeadlineMs: number;
  readonly recordRequests: boolean;
}

/** A request body kept for `GET /debug/requests`. */
export interface RecordedRequest {
  readonly requestId: string;
  readonly receivedAt: string;
  readonly path: string;
  readonly body: unknown;
}

/** Why a request's upstream call was aborted. */
type AbortCause = 'client' | 'deadline';

/** What one request's log line reports. */
interface RequestOutcome {
  outcome: string;
  error?: string;
  stream: boolean;
  queueWaitMs: number | null;
  timeToFirstTokenMs: number | null;
  completionTokens: number | null;
  promptTokens: number | null;
  cachedPromptTokens: number | null;
  decodeTokensPerSecond: number | null;
  chunks: number;
  finishReason: string | null;
}

/** The HTTP server; the engine is attached once it is healthy (until then /ping answers 503). */
export class InferenceHttpServer {
  readonly server: Server;
  readonly admission: Admission;
  private engine: Engine | null = null;
  private draining = false;
  private readonly recorded: RecordedRequest[] = [];
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(private readonly options: ServerOptions) {
    this.admission = new Admission(options.sequences, options.maxQueue);
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => this.sendError(res, err));
    });
    // Streams can be long; SageMaker and the API client own the timeouts.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
  }

  attach(engine: Engine): void {
    this.engine = engine;
  }

  /** Stops accepting work (ping 503, new requests 503), waits for admitted requests, closes the listener. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    this.admission.close();
    const closed = new Promise<true>((resolve) => this.server.close(() => resolve(true)));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([this.admission.idle().then(() => true), timedOut]);
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
      await this.ping(res);
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

  /** 200 only while the engine's own /health is 200 and we are not draining. */
  private async ping(res: ServerResponse): Promise<void> {
    const engineHealthy = this.engine !== null && (await this.engine.healthy());
    const healthy = engineHealthy && !this.draining;
    sendJson(res, healthy ? 200 : 503, {
      status: healthy
        ? 'healthy'
        : this.draining
          ? 'draining'
          : this.engine === null
            ? 'loading'
            : 'unhealthy',
      slots: { busy: this.admission.inFlight, total: this.options.sequences },
      queued: this.admission.queued,
    });
  }

  private async chatCompletion(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    path: string,
  ): Promise<void> {
    const receivedAt = performance.now();
    const body = await readJson(req);
    if (this.options.recordRequests) {
      this.recorded.push({ requestId, receivedAt: new Date().toISOString(), path, body });
      if (this.recorded.length > RECORDED_REQUESTS) this.recorded.shift();
    }
    const request = parseChatCompletionRequest(body);
    const engine = this.engine;
    if (engine === null || this.draining) {
      throw new HttpError(503, 'The model is not loaded yet.', 'server_error', null, 'model_not_ready');
    }
    const { body: engineBody, forcedTool } = toEngineRequest(request, this.options);
    const streaming = request.stream === true;
    const includeUsage = request.stream_options?.include_usage === true;
    const meta = {
      id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
      created: Math.floor(Date.now() / 1000),
      model: this.options.modelName,
    };

    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort('client' satisfies AbortCause);
    });
    const deadline = setTimeout(
      () => abort.abort('deadline' satisfies AbortCause),
      this.options.requestDeadlineMs,
    );
    const translator = new ChunkTranslator(meta, forcedTool);
    const outcome: RequestOutcome = {
      outcome: 'completed',
      stream: streaming,
      queueWaitMs: null,
      timeToFirstTokenMs: null,
      completionTokens: null,
      promptTokens: null,
      cachedPromptTokens: null,
      decodeTokensPerSecond: null,
      chunks: 0,
      finishReason: null,
    };
    let admitted: Admitted | undefined;
    try {
      admitted = await this.admission.acquire(abort.signal);
      outcome.queueWaitMs = admitted.queueWaitMs;
      const upstream = await engine.chat(engineBody, abort.signal);
      const collector = new CompletionCollector();
      const emit = (chunk: ChatCompletionChunk) => {
        outcome.chunks++;
        if (streaming) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        else collector.add(chunk);
      };
      if (streaming) {
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
      }
      emit(translator.opening());
      for await (const event of engineEvents(upstream)) {
        for (const chunk of translator.push(event)) emit(chunk);
      }
      const usage = translator.usage;
      const finishReason = translator.finishReason;
      if (usage === undefined || finishReason === null) {
        throw new HttpError(502, 'The engine ended its stream early.', 'server_error', null, 'engine_error');
      }
      if (streaming) {
        if (includeUsage) res.write(`data: ${JSON.stringify(translator.usageChunk())}\n\n`);
        res.end('data: [DONE]\n\n');
      } else {
        sendJson(res, 200, collector.completion(meta, finishReason, usage));
      }
    } catch (err) {
      const cause = abort.signal.aborted ? (abort.signal.reason as AbortCause) : undefined;
      const failure =
        cause === 'deadline'
          ? new HttpError(
              504,
              `The request did not finish within ${this.options.requestDeadlineMs} ms.`,
              'timeout_error',
              null,
              'deadline_exceeded',
            )
          : err;
      outcome.outcome =
        cause === 'client'
          ? 'cancelled'
          : failure instanceof HttpError
            ? (failure.code ?? failure.type)
            : err instanceof AdmissionAbortedError
              ? 'cancelled'
              : 'error';
      if (cause !== 'client') outcome.error = String(failure);
      if (cause === 'client') res.destroy();
      else if (res.headersSent) {
        res.end(`data: ${JSON.stringify(toHttpError(failure).toBody())}\n\n`);
      } else throw failure;
    } finally {
      clearTimeout(deadline);
      admitted?.release();
      this.logRequest(requestId, path, receivedAt, translator, outcome);
    }
  }

  private logRequest(
    requestId: string,
    path: string,
    receivedAt: number,
    translator: ChunkTranslator,
    outcome: RequestOutcome,
  ): void {
    const now = performance.now();
    const first = translator.firstOutputAt;
    const completionTokens = translator.usage?.completion_tokens ?? null;
    outcome.timeToFirstTokenMs = first === undefined ? null : first - receivedAt;
    outcome.completionTokens = completionTokens;
    outcome.promptTokens = translator.usage?.prompt_tokens ?? null;
    outcome.cachedPromptTokens = translator.timings?.cachedPromptTokens ?? null;
    outcome.finishReason = translator.finishReason;
    if (first !== undefined && completionTokens !== null && completionTokens > 1 && now > first) {
      outcome.decodeTokensPerSecond = ((completionTokens - 1) * 1000) / (now - first);
    }
    const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
    log(outcome.outcome === 'completed' ? 'info' : 'warn', 'request', {
      requestId,
      path,
      ...outcome,
      durationMs: round(now - receivedAt),
      queueWaitMs: round(outcome.queueWaitMs),
      timeToFirstTokenMs: round(outcome.timeToFirstTokenMs),
      decodeTokensPerSecond: round(outcome.decodeTokensPerSecond),
      slotsBusy: this.admission.inFlight,
      slotsTotal: this.options.sequences,
      queueLength: this.admission.queued,
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
