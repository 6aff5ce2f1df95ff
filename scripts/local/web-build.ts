/**
 * Builds the web app when its sources are newer than `web/dist` (or it was never built). Several stacks may start
 * at once (test projects run side by side), so one build runs at a time under a lock directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT_DIR } from './stack';

const WEB_DIR = join(ROOT_DIR, 'web');
const LOCK_DIR = join(WEB_DIR, '.build-lock');
const STALE_LOCK_MS = 5 * 60_000;

function newestMtime(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce(
    (newest, entry) => Math.max(newest, newestMtime(join(path, entry))),
    stats.mtimeMs,
  );
}

function isFresh(): boolean {
  const builtIndex = join(WEB_DIR, 'dist', 'index.html');
  const sources = ['src', 'index.html', 'public', 'vite.config.ts', 'package.json']
    .map((entry) => join(WEB_DIR, entry))
    .filter((entry) => existsSync(entry));
  return existsSync(builtIndex) && statSync(builtIndex).mtimeMs >= Math.max(...sources.map(newestMtime));
}

async function acquireLock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      return;
    } catch {
      if (existsSync(LOCK_DIR) && Date.now() - statSync(LOCK_DIR).mtimeMs > STALE_LOCK_MS) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
      }
      await new Promise((done) => setTimeout(done, 200));
    }
  }
}

export async function buildWebIfNeeded(log: (line: string) => void): Promise<void> {
  if (!existsSync(join(WEB_DIR, 'package.json')) || isFresh()) return;
  await acquireLock();
  try {
    if (isFresh()) return; // built by someone else while we waited
    log('building the web app …');
    await new Promise<void>((done, fail) => {
      const child = spawn('npm', ['run', 'build', '--workspace', 'web'], {
        cwd: ROOT_DIR,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', log);
      child.once('exit', (code) =>
        code === 0 ? done() : fail(new Error(`web build failed (exit ${code})`)),
      );
    });
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}
