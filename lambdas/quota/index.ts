import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withQuotaOverride } from '../admin/quota-override';
import { keys } from '../contracts/keys';
import { QuotaExceededError } from '../shared/errors';
import {
  addInRegion,
  addWithinLimit,
  countWithinLimit,
  type RegionalCounterDeps,
  regionalTotal,
} from './regional-counter';
import { freeSlot, takeSlot } from './slots';

/**
 * Per-user fixed-window quotas in the single table: requests per minute and tokens per day. The request
 * counter is one atomic conditional update, so concurrent requests can never push it past its limit; a turn
 * reserves its tokens on the day's counter when it is admitted and settles them to what it used when it ends.
 */
export interface QuotaDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly requestsPerMinute: number;
  readonly tokensPerDay: number;
  /**
   * The region this runs in and every region writing the table: the request and token counters are kept per
   * region and summed (./regional-counter.ts). One region when absent.
   */
  readonly region?: string;
  readonly regions?: readonly string[];
  /** Turns one user may have in progress at once; unlimited when absent. */
  readonly maxConcurrentTurns?: number;
  readonly now?: () => Date;
}

export interface QuotaState {
  readonly limitRequests: number;
  readonly remainingRequests: number;
  readonly resetRequestsSeconds: number;
  readonly limitTokens: number;
  readonly remainingTokens: number;
  readonly resetTokensSeconds: number;
}

function windows(now: Date) {
  const iso = now.toISOString();
  const minute = iso.slice(0, 16); // YYYY-MM-DDTHH:MM
  const day = iso.slice(0, 10);
  const epoch = Math.floor(now.getTime() / 1000);
  const minuteEnd = Math.floor(epoch / 60) * 60 + 60;
  const dayEnd = Math.floor(epoch / 86_400) * 86_400 + 86_400;
  return {
    minute: `RPM#${minute}`,
    day: `TPD#${day}`,
    resetRequestsSeconds: minuteEnd - epoch,
    resetTokensSeconds: dayEnd - epoch,
    minuteExpiresAt: minuteEnd + 300,
    dayExpiresAt: dayEnd + 86_400,
  };
}

/** OpenAI-style `x-ratelimit-*` headers, sent with every chat response (429s included). */
export function rateLimitHeaders(state: QuotaState): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(state.limitRequests),
    'x-ratelimit-remaining-requests': String(Math.max(0, state.remainingRequests)),
    'x-ratelimit-reset-requests': `${state.resetRequestsSeconds}s`,
    'x-ratelimit-limit-tokens': String(state.limitTokens),
    'x-ratelimit-remaining-tokens': String(Math.max(0, state.remainingTokens)),
    'x-ratelimit-reset-tokens': `${state.resetTokensSeconds}s`,
  };
}

/** What an admitted turn holds until it settles: its token reservation and its concurrency slot. */
export interface Admission {
  readonly state: QuotaState;
  /** Tokens set aside on the day's counter for this turn (prompt and answer); settled when it ends. */
  readonly reservedTokens: number;
  /** The turn's slot among the user's concurrent turns, freed when it ends. */
  readonly slot: string | undefined;
}

/** Tokens a reservation is allowed to shrink to before the turn is refused (a prompt and a short answer). */
const MIN_RESERVATION = 16;

/**
 * Admits one turn: counts the request (atomic, conditional), reserves up to `wantedTokens` of the day's token
 * budget (conditional on the counter, so concurrent long turns cannot overrun it; a smaller remainder is taken
 * when that is all there is) and takes one of the user's concurrent-turn slots. Throws `QuotaExceededError`
 * (429, `retry-after`, `x-ratelimit-*`) when any of them is exhausted; nothing is held after a refusal.
 */
export async function admitTurn(
  defaults: QuotaDeps,
  sub: string,
  turn: {
    readonly turnId: string;
    readonly wantedTokens: number;
    readonly expiresAtMs: number;
    /** `false` for a turn admitted before (a retried job): its request was counted then. */
    readonly countRequest?: boolean;
  },
): Promise<Admission> {
  // An administrator's per-user limits replace the defaults (lambdas/admin/quota-override.ts).
  const deps = await withQuotaOverride(defaults, sub);
  const now = deps.now ? deps.now() : new Date();
  const window = windows(now);
  // The three writes go out together (one round trip); whatever a refusal leaves taken is given back.
  const [requests, tokens, slot] = await Promise.all([
    turn.countRequest === false ? currentRequests(deps, sub, window) : countRequest(deps, sub, window),
    reserveTokens(deps, sub, window, turn.wantedTokens),
    deps.maxConcurrentTurns === undefined
      ? undefined
      : takeSlot(deps, keys.activeTurns(sub), turn.turnId, turn.expiresAtMs, deps.maxConcurrentTurns).then(
          (taken) => taken ?? null,
        ),
  ]);
  const state: QuotaState = {
    limitRequests: deps.requestsPerMinute,
    remainingRequests: deps.requestsPerMinute - requests.used,
    resetRequestsSeconds: window.resetRequestsSeconds,
    limitTokens: deps.tokensPerDay,
    remainingTokens: deps.tokensPerDay - tokens.used,
    resetTokensSeconds: window.resetTokensSeconds,
  };
  const refuse = async (message: string, retryAfterSeconds: number): Promise<never> => {
    await Promise.all([
      tokens.reserved > 0 ? addTokens(deps, sub, -tokens.reserved, window) : undefined,
      typeof slot === 'string' ? freeSlot(deps, keys.activeTurns(sub), slot) : undefined,
    ]);
    throw new QuotaExceededError(message, retryAfterSeconds, rateLimitHeaders(state));
  };
  if (!requests.ok) {
    return refuse(
      `Rate limit reached: ${deps.requestsPerMinute} requests per minute. Please retry after ${window.resetRequestsSeconds} s.`,
      window.resetRequestsSeconds,
    );
  }
  if (tokens.reserved === 0) {
    return refuse(
      `Daily token quota of ${deps.tokensPerDay} tokens reached. It resets at midnight UTC.`,
      window.resetTokensSeconds,
    );
  }
  if (slot === null) {
    return refuse(
      `You have ${deps.maxConcurrentTurns} answers in progress, the most allowed at once. Retry when one has finished.`,
      CONCURRENCY_RETRY_SECONDS,
    );
  }
  return { state, reservedTokens: tokens.reserved, slot };
}

/** How long a client refused for too many concurrent answers is asked to wait. */
const CONCURRENCY_RETRY_SECONDS = 2;

/** Settles a turn: the day's counter gets the tokens it used instead of those it reserved; its slot is freed. */
export async function settleTurn(
  deps: QuotaDeps,
  sub: string,
  admission: Pick<Admission, 'reservedTokens' | 'slot'>,
  usedTokens: number,
): Promise<void> {
  const window = windows(deps.now ? deps.now() : new Date());
  await Promise.all([
    usedTokens === admission.reservedTokens
      ? undefined
      : addTokens(deps, sub, usedTokens - admission.reservedTokens, window),
    admission.slot === undefined ? undefined : freeSlot(deps, keys.activeTurns(sub), admission.slot),
  ]);
}

type Windows = ReturnType<typeof windows>;

function regional(deps: QuotaDeps): RegionalCounterDeps {
  return {
    db: deps.db,
    tableName: deps.tableName,
    region: deps.region ?? 'local',
    regions: deps.regions ?? [],
  };
}

async function currentRequests(deps: QuotaDeps, sub: string, window: Windows) {
  const used = await regionalTotal(regional(deps), keys.quota(sub, window.minute), 'requests');
  return { ok: true as const, used };
}

async function countRequest(deps: QuotaDeps, sub: string, window: Windows) {
  const counted = await countWithinLimit(
    regional(deps),
    keys.quota(sub, window.minute),
    'requests',
    deps.requestsPerMinute,
    window.minuteExpiresAt,
  );
  return counted.ok
    ? { ok: true as const, used: counted.used }
    : { ok: false as const, used: deps.requestsPerMinute };
}

/**
 * Adds `wanted` (or what is left, when less) to this region's part of the day's counter, conditional on every
 * region's total staying within the budget (./regional-counter.ts); a lost race re-reads and tries again.
 * `reserved: 0` when the budget is spent.
 */
async function reserveTokens(deps: QuotaDeps, sub: string, window: Windows, wanted: number) {
  let reserve = wanted;
  for (let attempt = 0; attempt < 4; attempt++) {
    const added = await addWithinLimit(
      regional(deps),
      keys.quota(sub, window.day),
      'tokens',
      reserve,
      deps.tokensPerDay,
      window.dayExpiresAt,
    );
    if (added.ok) return { reserved: reserve, used: added.used };
    // Not enough left for the whole reservation: take what is left, if that is still worth a turn.
    reserve = Math.min(wanted, deps.tokensPerDay - added.used);
    if (reserve < Math.min(wanted, MIN_RESERVATION)) {
      return { reserved: 0, used: Math.min(added.used, deps.tokensPerDay) };
    }
  }
  return { reserved: 0, used: deps.tokensPerDay };
}

async function addTokens(deps: QuotaDeps, sub: string, tokens: number, window: Windows): Promise<void> {
  await addInRegion(regional(deps), keys.quota(sub, window.day), 'tokens', tokens, window.dayExpiresAt);
}
