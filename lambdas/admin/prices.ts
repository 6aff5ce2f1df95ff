import * as z from 'zod';
import { ModelPrices } from '../contracts/admin';

export { ModelPrices };

/**
 * Prices for the cost report, per million tokens, by model id; `*` prices any other model. Cost is
 * `tokensIn / 1e6 × inputPerMillion + tokensOut / 1e6 × outputPerMillion`, in whatever currency the prices are
 * in. A GPU-hour price can be apportioned by setting these to (hourly price ÷ tokens served per hour).
 *
 * Parses MODEL_PRICES; a malformed value fails loudly at cold start rather than reporting wrong costs. */
export function parseModelPrices(raw: string | undefined): ModelPrices {
  if (!raw) return {};
  const parsed = ModelPrices.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`MODEL_PRICES is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function costOf(prices: ModelPrices, model: string, tokensIn: number, tokensOut: number): number {
  const price = prices[model] ?? prices['*'];
  if (!price) return 0;
  const cost = (tokensIn * price.inputPerMillion + tokensOut * price.outputPerMillion) / 1_000_000;
  return Math.round(cost * 1e6) / 1e6;
}
