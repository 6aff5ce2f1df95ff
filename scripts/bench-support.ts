/** What the benchmark scripts share: percentiles and a machine token from the local issuer. */
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalConfig } from './local/config';
import { DEV_MACHINE_CLIENTS } from './local/identity';
import { freeStackPorts } from './local/ports';
import { startLocalStack } from './local/stack';

/** The machine's load averages (1, 5, 15 minutes), as benchmarks record them beside their numbers. */
export const machineLoad = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** A local stack of its own for a benchmark: free ports, a fresh data directory, DynamoDB in memory. */
export async function startBenchStack(name: string) {
  const config = loadLocalConfig({
    ...(await freeStackPorts()),
    DATA_DIR: await mkdtemp(join(tmpdir(), `chatstack-bench-${name}-`)),
    DYNAMODB_STORAGE: 'memory',
  });
  return startLocalStack(config);
}

/** The nearest-rank percentile `p` (0–100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A `client_credentials` access token of dev-client-a (whose tokens' `sub` is its client id). */
export async function machineToken(issuer: string): Promise<string> {
  const { clientId, clientSecret } = DEV_MACHINE_CLIENTS.a;
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'chat:read chat:write' }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${response.status}`);
  return body.access_token;
}
