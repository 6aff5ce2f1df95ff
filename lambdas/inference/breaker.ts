/**
 * A circuit breaker per endpoint: after `threshold` consecutive failures the endpoint is skipped for
 * `cooldownMs`; then one trial request is let through (half-open) and its outcome closes or re-opens it.
 * State lives for the life of the Lambda execution environment, which is what we want: a warm container
 * stops hammering a failing endpoint and goes to the fallback at once.
 */
export interface BreakerOptions {
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
}

interface EndpointState {
  failures: number;
  openUntil: number;
  trialInFlight: boolean;
}

export class CircuitBreakers {
  private readonly states = new Map<string, EndpointState>();
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  private stateOf(endpoint: string): EndpointState {
    let state = this.states.get(endpoint);
    if (!state) {
      state = { failures: 0, openUntil: 0, trialInFlight: false };
      this.states.set(endpoint, state);
    }
    return state;
  }

  /** Whether a request may go to the endpoint now (claims the half-open trial if it is due). */
  tryAcquire(endpoint: string): boolean {
    return this.acquire(endpoint) !== undefined;
  }

  /**
   * Like `tryAcquire`, telling whether the caller now holds the half-open trial: a holder must end it with
   * `recordSuccess`, `recordFailure` or `releaseTrial`, whatever happens (an aborted call included), or the
   * endpoint stays skipped for the life of the container.
   */
  acquire(endpoint: string): 'closed' | 'trial' | undefined {
    const state = this.stateOf(endpoint);
    if (state.failures < this.options.threshold) return 'closed';
    if (this.now() < state.openUntil || state.trialInFlight) return undefined;
    state.trialInFlight = true;
    return 'trial';
  }

  /** Ends a trial that proved nothing (the caller gave up, or the endpoint was only busy): the next request tries. */
  releaseTrial(endpoint: string): void {
    this.stateOf(endpoint).trialInFlight = false;
  }

  isOpen(endpoint: string): boolean {
    const state = this.stateOf(endpoint);
    return state.failures >= this.options.threshold && (this.now() < state.openUntil || state.trialInFlight);
  }

  recordSuccess(endpoint: string): void {
    const state = this.stateOf(endpoint);
    state.failures = 0;
    state.openUntil = 0;
    state.trialInFlight = false;
  }

  recordFailure(endpoint: string): void {
    const state = this.stateOf(endpoint);
    state.failures += 1;
    state.trialInFlight = false;
    if (state.failures >= this.options.threshold) state.openUntil = this.now() + this.options.cooldownMs;
  }
}
