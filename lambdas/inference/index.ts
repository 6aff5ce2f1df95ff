import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  InvokeEndpointWithResponseStreamCommand,
  type ResponseStream,
  type SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import type {
  FinishReason,
  FunctionTool,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  Usage,
} from '../contracts/api';
import { MetricName } from '../contracts/metrics';
import { InferenceUnavailableError, ValidationError } from '../shared/errors';
import { logger, metrics } from '../shared/powertools';
import { CircuitBreakers } from './breaker';
import { eventsOfLine, type InferenceEvent, LineSplitter, ModelStreamFailure } from './chunks';
import { type InferenceTarget, inferenceTargets, type RegionalClients } from './targets';

export { CircuitBreakers } from './breaker';
export type { InferenceEvent } from './chunks';
export type { InferenceTarget, RegionalClients } from './targets';

/** The body sent to the endpoint: OpenAI Chat Completions, which our server, LMI/vLLM and TGI all accept. */
export interface InferenceRequest {
  readonly messages: readonly EngineMessage[];
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly stop?: string | readonly string[];
  readonly seed?: number;
  readonly presence_penalty?: number;
  readonly frequency_penalty?: number;
  /** OpenAI `response_format` (e.g. a JSON schema the server turns into a grammar). */
  readonly response_format?: ResponseFormat;
  readonly tools?: readonly FunctionTool[];
  readonly tool_choice?: ToolChoice;
  readonly parallel_tool_calls?: boolean;
  readonly logit_bias?: Readonly<Record<string, number>>;
  readonly logprobs?: boolean;
  readonly top_logprobs?: number;
  /** Given to chat templates that read it (vLLM and llama-server pass it through `chat_template_kwargs`). */
  readonly reasoning_effort?: string;
  readonly chat_template_kwargs?: Readonly<Record<string, unknown>>;
}

/** A message as the engine reads it (OpenAI's shape). */
export interface EngineMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string | null;
  readonly tool_calls?: readonly ToolCall[];
  readonly tool_call_id?: string;
}

export interface InferenceOptions {
  /** From sending the request to the first token (includes queueing in the endpoint). */
  readonly firstTokenTimeoutMs: number;
  /** Longest silence between two payload parts once tokens flow. */
  readonly idleTimeoutMs: number;
  readonly attemptsPerEndpoint: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** `retry-after` of a `model_waking` answer: how often a client asks again while copies start (minutes). */
  readonly wakeRetryAfterSeconds: number;
}

export const DEFAULT_INFERENCE_OPTIONS: InferenceOptions = {
  firstTokenTimeoutMs: 20_000,
  idleTimeoutMs: 30_000,
  attemptsPerEndpoint: 2,
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  wakeRetryAfterSeconds: 10,
};

export interface InferenceDeps {
  /** This region's runtime client. */
  readonly client: SageMakerRuntimeClient;
  /** Ordered: this region's endpoint (by name) first, then fallbacks (by ARN, naming their region). */
  readonly endpoints: readonly string[];
  /** Inference component per endpoint, position by position; empty or missing where the endpoint serves directly. */
  readonly components?: readonly string[];
  /** The runtime client of another region (for fallbacks given by ARN); required when any endpoint is an ARN. */
  readonly regionalClients?: RegionalClients;
  readonly options?: Partial<InferenceOptions>;
  readonly breakers?: CircuitBreakers;
  readonly random?: () => number;
}

/** The stream broke after the first token: the caller ends its own stream with an error event. */
export class InferenceInterruptedError extends Error {
  override readonly name = 'InferenceInterruptedError';
}

/** The caller's signal fired (client disconnected): stop quietly, nothing to retry. */
export class InferenceAbortedError extends Error {
  override readonly name = 'InferenceAbortedError';
}

/** Breakers shared by every request of this execution environment. */
export const defaultBreakers = new CircuitBreakers({ threshold: 3, cooldownMs: 10_000 });

/** A non-streamed answer. */
export interface InferenceResult {
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly usage: Usage | undefined;
}

type AttemptOutcome = { kind: 'timeout' } | { kind: 'client' } | { kind: 'released' };

/** One attempt's cancellation: a deadline that can be re-armed, tied to the caller's signal. */
class AttemptControl {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = () => this.abort({ kind: 'client' });

  constructor(private readonly callerSignal: AbortSignal | undefined) {
    if (callerSignal?.aborted) this.abort({ kind: 'client' });
    callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.abort({ kind: 'timeout' }), ms);
  }

  get outcome(): AttemptOutcome | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as AttemptOutcome) : undefined;
  }

  private abort(outcome: AttemptOutcome): void {
    if (!this.controller.signal.aborted) this.controller.abort(outcome);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }

  /** Cancels the request on the wire (the consumer stopped reading, or the attempt failed). */
  release(): void {
    this.abort({ kind: 'released' });
    this.dispose();
  }
}

/** The container's own HTTP status, when SageMaker relayed one (`ModelError`). */
function containerStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, OriginalStatusCode } = error as { name?: unknown; OriginalStatusCode?: unknown };
  return name === 'ModelError' && typeof OriginalStatusCode === 'number' ? OriginalStatusCode : undefined;
}

/**
 * The endpoint is busy, not broken: the engine's queue is full (429, 503) or SageMaker throttles. Retried and
 * failed over like any failure before the first token, but it never opens the breaker and never becomes a 400.
 */
function isOverload(error: unknown): boolean {
  const status = containerStatus(error);
  if (status === 429 || status === 503) return true;
  const name = error instanceof Error ? error.name : '';
  return name === 'ThrottlingException' || name === 'ServiceUnavailable';
}

/**
 * The inference component has no copies (scaled to zero, or still starting): SageMaker answers a 400
 * `ValidationError` "Inference Component has no capacity to process this request" and counts it in
 * `NoCapacityInvocationFailures`, which is what scales the component out. Not a fault of the endpoint: it never
 * opens the breaker, and retrying the same endpoint within milliseconds cannot help.
 */
function isNoCapacity(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationError' && /no capacity/i.test(error.message);
}

/** 4xx from the model container (other than 429): the request itself is bad, retrying cannot help. */
function modelRejection(error: unknown): ValidationError | undefined {
  const status = containerStatus(error);
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
    return new ValidationError(
      'The model rejected the request (it may exceed the context length).',
      'messages',
      'model_rejected',
    );
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InferenceAbortedError('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InferenceAbortedError('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function countFallback(): void {
  const metric = metrics.singleMetric();
  metric.addMetric(MetricName.inferenceFallbacks, MetricUnit.Count, 1);
}

/**
 * Runs `attempt` against the endpoints in order: retries with full jitter on each, skips endpoints whose
 * breaker is open, counts a fallback whenever a later endpoint is tried. Only failures *before* the first
 * token come through here, so a retry never duplicates output.
 */
async function withFailover<T>(
  deps: InferenceDeps,
  signal: AbortSignal | undefined,
  attempt: (target: InferenceTarget, control: AttemptControl) => Promise<T>,
): Promise<T> {
  const options = { ...DEFAULT_INFERENCE_OPTIONS, ...deps.options };
  const breakers = deps.breakers ?? defaultBreakers;
  const random = deps.random ?? Math.random;
  let tried = 0;
  let onlyOverloaded = true;
  let waking = false;
  for (const target of inferenceTargets(deps.endpoints, deps.components)) {
    const endpoint = target.id;
    const admission = breakers.acquire(endpoint);
    if (admission === undefined) {
      logger.warn('inference endpoint skipped: circuit open', { endpoint });
      continue;
    }
    if (tried++ > 0) countFallback();
    try {
      for (let attemptIndex = 0; attemptIndex < options.attemptsPerEndpoint; attemptIndex++) {
        if (attemptIndex > 0) {
          const ceiling = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** attemptIndex);
          await sleep(Math.round(random() * ceiling), signal);
        }
        const control = new AttemptControl(signal);
        try {
          const result = await attempt(target, control);
          breakers.recordSuccess(endpoint);
          return result;
        } catch (error) {
          const outcome = control.outcome;
          control.release();
          if (outcome?.kind === 'client' || signal?.aborted) throw new InferenceAbortedError('aborted');
          if (outcome?.kind !== 'timeout' && isNoCapacity(error)) {
            // The component is waking (the failed call itself starts the scale-out): try the next region now.
            waking = true;
            logger.warn('inference component has no copies yet', { endpoint, component: target.component });
            break;
          }
          const rejection = modelRejection(error);
          if (rejection) {
            breakers.recordSuccess(endpoint);
            throw rejection;
          }
          const overloaded = outcome?.kind !== 'timeout' && isOverload(error);
          if (!overloaded) {
            onlyOverloaded = false;
            breakers.recordFailure(endpoint);
          }
          logger.warn('inference attempt failed', {
            endpoint,
            attempt: attemptIndex + 1,
            reason: outcome?.kind === 'timeout' ? 'timeout' : describe(error),
            overloaded,
          });
          if (breakers.isOpen(endpoint)) break;
        }
      }
    } finally {
      // Whatever ended this endpoint's attempts (an abort, a backoff cut short, an overload), a trial it held is over.
      if (admission === 'trial') breakers.releaseTrial(endpoint);
    }
  }
  // A model that is starting will answer soon: say so, whatever the other regions did.
  if (waking) {
    throw new InferenceUnavailableError(
      'The model is waking up after being idle. Please retry shortly.',
      options.wakeRetryAfterSeconds,
      'model_waking',
    );
  }
  throw onlyOverloaded && tried > 0
    ? new InferenceUnavailableError('The model is busy. Please retry shortly.', 2, 'model_overloaded')
    : new InferenceUnavailableError();
}

/** The client for a target: this region's, or the fallback region's. */
function clientOf(deps: InferenceDeps, target: InferenceTarget): SageMakerRuntimeClient {
  if (target.region === undefined) return deps.client;
  if (!deps.regionalClients)
    throw new Error(`No runtime client for ${target.region} (endpoint ${target.id}).`);
  return deps.regionalClients(target.region);
}

function encode(request: InferenceRequest): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
  );
}

/** Reads one streamed attempt until its first committed event (a token or a finish). */
async function openStream(
  deps: InferenceDeps,
  options: InferenceOptions,
  target: InferenceTarget,
  control: AttemptControl,
  body: Uint8Array,
): Promise<{ first: InferenceEvent[]; parts: AsyncIterator<ResponseStream>; splitter: LineSplitter }> {
  control.arm(options.firstTokenTimeoutMs);
  const response = await clientOf(deps, target).send(
    new InvokeEndpointWithResponseStreamCommand({
      EndpointName: target.endpointName,
      ...(target.component === undefined ? {} : { InferenceComponentName: target.component }),
      Body: body,
      ContentType: 'application/json',
      Accept: 'text/event-stream',
    }),
    { abortSignal: control.controller.signal },
  );
  if (!response.Body) throw new ModelStreamFailure('The endpoint returned no body.');
  const parts = response.Body[Symbol.asyncIterator]();
  const splitter = new LineSplitter();
  const first: InferenceEvent[] = [];
  while (!first.some((event) => event.type !== 'usage')) {
    const next = await parts.next();
    if (next.done) {
      for (const line of splitter.end()) first.push(...eventsOfLine(line));
      if (!first.some((event) => event.type !== 'usage'))
        throw new ModelStreamFailure('The stream ended before any token.');
      break;
    }
    for (const line of linesOfPart(next.value, splitter)) first.push(...eventsOfLine(line));
  }
  return { first, parts, splitter };
}

function linesOfPart(part: ResponseStream, splitter: LineSplitter): string[] {
  if (part.PayloadPart?.Bytes) return splitter.push(part.PayloadPart.Bytes);
  if (part.ModelStreamError)
    throw new ModelStreamFailure(part.ModelStreamError.Message ?? 'Model stream error.');
  if (part.InternalStreamFailure) {
    throw new ModelStreamFailure(part.InternalStreamFailure.message ?? 'Internal stream failure.');
  }
  return [];
}

/**
 * Streams a chat completion from the first healthy endpoint. Before the first token, failures are retried
 * (with jitter) and fall over to the next endpoint; after it, a failure ends the stream with
 * `InferenceInterruptedError`. Aborting `signal` (client gone) cancels the request on the wire.
 */
export async function* streamChat(
  deps: InferenceDeps,
  request: InferenceRequest,
  signal?: AbortSignal,
): AsyncGenerator<InferenceEvent, void, undefined> {
  const options = { ...DEFAULT_INFERENCE_OPTIONS, ...deps.options };
  const body = encode(request);
  let active: AttemptControl | undefined;
  const opened = await withFailover(deps, signal, async (target, control) => {
    active = control;
    return { endpoint: target.id, ...(await openStream(deps, options, target, control, body)) };
  });
  const control = active;
  if (!control) throw new InferenceUnavailableError();
  let finished = false;
  try {
    for (const event of opened.first) yield event;
    control.arm(options.idleTimeoutMs);
    while (true) {
      let next: IteratorResult<ResponseStream>;
      let lines: string[];
      try {
        next = await opened.parts.next();
        lines = next.done ? opened.splitter.end() : linesOfPart(next.value, opened.splitter);
      } catch (error) {
        throw streamError(control, error, opened.endpoint, deps);
      }
      for (const line of lines) {
        let events: InferenceEvent[];
        try {
          events = eventsOfLine(line);
        } catch (error) {
          throw streamError(control, error, opened.endpoint, deps);
        }
        for (const event of events) yield event;
      }
      if (next.done) break;
      control.arm(options.idleTimeoutMs);
    }
    finished = true;
  } finally {
    // The consumer may stop early (client gone, output blocked): cancel the request so the slot is released.
    if (finished) control.dispose();
    else control.release();
  }
}

function streamError(control: AttemptControl, error: unknown, endpoint: string, deps: InferenceDeps): Error {
  if (control.outcome?.kind === 'client') return new InferenceAbortedError('aborted');
  (deps.breakers ?? defaultBreakers).recordFailure(endpoint);
  const reason = control.outcome?.kind === 'timeout' ? 'the model stopped responding' : describe(error);
  logger.warn('inference stream interrupted', { endpoint, reason });
  return new InferenceInterruptedError(`The model stream was interrupted: ${reason}`);
}

/**
 * A non-streamed completion: the stream, collected. Once the model sent its first token nothing is retried (a
 * retry would generate the answer a second time), and the answer is bounded by `max_tokens`, not by a timeout.
 */
export async function invokeChat(
  deps: InferenceDeps,
  request: InferenceRequest,
  signal?: AbortSignal,
): Promise<InferenceResult> {
  let text = '';
  let finishReason: FinishReason = 'stop';
  let usage: Usage | undefined;
  for await (const event of streamChat(deps, request, signal)) {
    if (event.type === 'delta') text += event.text;
    else if (event.type === 'finish') finishReason = event.reason;
    else if (event.type === 'usage') usage = event.usage;
  }
  return { text, finishReason, usage };
}
