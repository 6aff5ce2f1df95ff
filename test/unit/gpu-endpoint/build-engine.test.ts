import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cachedEnginePath,
  ENGINE_SOURCE,
  engineCacheDir,
  ensureEngine,
} from '../../../gpu-endpoint/scripts/build-engine';

/** A stand-in for a llama-server binary: it only answers `--version` as the real one does. */
async function fakeServer(dir: string, commit: string): Promise<string> {
  const path = join(dir, `llama-server-${commit}`);
  await writeFile(path, `#!/bin/sh\necho "version: 0.5.0-dev (build 1, commit ${commit})"\n`, {
    mode: 0o755,
  });
  return path;
}

async function scratch() {
  const dir = await mkdtemp(join(tmpdir(), 'engine-cache-'));
  return { dir, env: { XDG_CACHE_HOME: join(dir, 'cache') } };
}

const quiet = () => undefined;

describe('the engine build cache', () => {
  it('lives outside the clone, keyed by the llama.cpp commit', () => {
    expect(engineCacheDir({ XDG_CACHE_HOME: '/c' })).toBe(
      `/c/chatstack/llama-server/${ENGINE_SOURCE.commit}`,
    );
    expect(cachedEnginePath({ XDG_CACHE_HOME: '/c' })).toBe(
      `/c/chatstack/llama-server/${ENGINE_SOURCE.commit}/llama-server`,
    );
  });

  it('adopts an existing build of the pinned commit instead of compiling, and records how it was built', async () => {
    const { dir, env } = await scratch();
    const existing = await fakeServer(dir, ENGINE_SOURCE.commit.slice(0, 7));

    const path = await ensureEngine({ adopt: existing, env, onProgress: quiet });

    expect(path).toBe(cachedEnginePath(env));
    expect(await readFile(path, 'utf8')).toBe(await readFile(existing, 'utf8'));
    const info = JSON.parse(await readFile(join(engineCacheDir(env), 'build-info.json'), 'utf8'));
    expect(info).toMatchObject({
      commit: ENGINE_SOURCE.commit,
      cmakeFlags: expect.arrayContaining(['-DBUILD_SHARED_LIBS=OFF']),
    });
  });

  it('refuses to adopt a build of another commit', async () => {
    const { dir, env } = await scratch();
    const other = await fakeServer(dir, '1234567');

    await expect(ensureEngine({ adopt: other, env, onProgress: quiet })).rejects.toThrow(
      /not a llama-server build/,
    );
    expect(existsSync(cachedEnginePath(env))).toBe(false);
  });

  it('reuses the cached binary on the next call without touching it', async () => {
    const { dir, env } = await scratch();
    const first = await ensureEngine({
      adopt: await fakeServer(dir, ENGINE_SOURCE.commit.slice(0, 7)),
      env,
      onProgress: quiet,
    });
    const before = await stat(first);
    const lines: string[] = [];

    const again = await ensureEngine({ env, onProgress: (line) => lines.push(line) });

    expect(again).toBe(first);
    expect((await stat(again)).mtimeMs).toBe(before.mtimeMs);
    expect(lines).toEqual([]);
  });

  it('uses LLAMA_SERVER when set, and names it when it does not exist', async () => {
    const { dir } = await scratch();
    const binary = await fakeServer(dir, 'abcdef0');

    expect(await ensureEngine({ env: { LLAMA_SERVER: binary } })).toBe(binary);
    await expect(ensureEngine({ env: { LLAMA_SERVER: join(dir, 'missing') } })).rejects.toThrow(
      /LLAMA_SERVER=/,
    );
  });
});
