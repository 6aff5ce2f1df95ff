import { describe, expect, it } from 'vitest';
import { keys } from '../../../lambdas/contracts/keys';
import {
  USER_DATA_PREFIXES,
  USER_LIMIT_PREFIXES,
  userDataKindOf,
} from '../../../lambdas/contracts/user-data';

/** Every sort key the key builders put in a user's partition, built with sample arguments. */
function userPartitionSortKeys(): string[] {
  const sub = 'user-1';
  const built: unknown[] = [];
  for (const builder of Object.values(keys)) {
    if (typeof builder !== 'function') continue;
    built.push((builder as (...args: unknown[]) => unknown)(sub, 'id-1', 'id-2', 'id-3'));
  }
  return built
    .filter(
      (key): key is { pk: string; sk: string } =>
        typeof key === 'object' && key !== null && (key as { pk?: unknown }).pk === keys.userPartition(sub),
    )
    .map((key) => key.sk);
}

describe('the registry of user-owned key prefixes', () => {
  it('covers every item a key builder puts in a user’s partition, as data or as a limit', () => {
    const sortKeys = userPartitionSortKeys();
    expect(sortKeys.length).toBeGreaterThan(10);
    const unregistered = sortKeys.filter(
      (sk) =>
        userDataKindOf(sk) === undefined && !USER_LIMIT_PREFIXES.some((prefix) => sk.startsWith(prefix)),
    );
    expect(unregistered).toEqual([]);
  });

  it('keeps quota counters, turn and job slots and the erase marker out of the user data', () => {
    for (const sk of [
      keys.quota('u', 'RPM#2026-12-01T10:00').sk,
      keys.routeQuota('u', 'read', '2026-12-01T10:00').sk,
      keys.activeJobs('u').sk,
      keys.activeTurns('u').sk,
      keys.eraseMarker('u').sk,
    ]) {
      expect(userDataKindOf(sk)).toBeUndefined();
    }
  });

  it('names API keys, files and idempotency records as user data', () => {
    expect(userDataKindOf(keys.apiKey('u', 'k').sk)).toBe('api_keys');
    expect(userDataKindOf(keys.file('u', 'f').sk)).toBe('files');
    expect(userDataKindOf(keys.fileChunk('u', 'f', 0).sk)).toBe('file_passages');
    expect(userDataKindOf('IDEM#chat#abc')).toBe('idempotency_records');
  });

  it('has no prefix that is another’s prefix in the other list', () => {
    for (const { prefix } of USER_DATA_PREFIXES) {
      expect(USER_LIMIT_PREFIXES.some((kept) => kept.startsWith(prefix) || prefix.startsWith(kept))).toBe(
        false,
      );
    }
  });
});
