/**
 * FIFO admission in front of the engine: at most `slots` requests run (one per llama-server slot), at most
 * `maxQueue` wait; the next one is refused with 429 at once, so a full server sheds load instead of hoarding it
 * and SageMaker's autoscaler sees the pressure.
 */
import { HttpError } from './openai';

/** A held engine slot; `release()` is idempotent. */
export interface Admitted {
  readonly queueWaitMs: number;
  release(): void;
}

interface Waiter {
  readonly enqueuedAt: number;
  readonly grant: () => void;
}

/** Seconds a refused client waits before retrying: slots free up within about a request's time. */
const RETRY_AFTER_SECONDS = '1';

/** Thrown when the request was aborted (client gone, deadline) while it waited. */
export class AdmissionAbortedError extends Error {
  override readonly name = 'AdmissionAbortedError';
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly slots: number,
    readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Refuses all new requests from now on (SIGTERM); admitted and queued ones continue. */
  close(): void {
    this.closed = true;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits for a slot in arrival order; rejects with 429 when the queue is full, or when `signal` aborts. */
  acquire(signal: AbortSignal): Promise<Admitted> {
    if (this.closed) {
      return Promise.reject(
        new HttpError(503, 'The server is shutting down.', 'server_error', null, 'shutting_down'),
      );
    }
    const enqueuedAt = performance.now();
    if (this.running < this.slots && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(this.admitted(enqueuedAt));
    }
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(
        new HttpError(
          429,
          `All ${this.slots} slots are busy and ${this.maxQueue} requests are waiting; retry later.`,
          'rate_limit_error',
          null,
          'queue_full',
          { 'retry-after': RETRY_AFTER_SECONDS },
        ),
      );
    }
    return new Promise<Admitted>((resolve, reject) => {
      const waiter: Waiter = {
        enqueuedAt,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.admitted(enqueuedAt));
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        this.notifyIfIdle();
        reject(new AdmissionAbortedError('aborted while queued'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private admitted(enqueuedAt: number): Admitted {
    let released = false;
    return {
      queueWaitMs: performance.now() - enqueuedAt,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next !== undefined) next.grant();
        else this.running--;
        this.notifyIfIdle();
      },
    };
  }

  private notifyIfIdle(): void {
    if (this.running !== 0 || this.waiting.length !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
