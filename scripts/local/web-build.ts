/** Builds the web app when its sources are newer than `web/dist` (or it was never built). */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT_DIR } from './stack';

function newestMtime(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stats.mtimeMs);
}

export async function buildWebIfNeeded(log: (line: string) => void): Promise<void> {
  const webDir = join(ROOT_DIR, 'web');
  if (!existsSync(join(webDir, 'package.json'))) return;
  const builtIndex = join(webDir, 'dist', 'index.html');
  const sources = ['src', 'index.html', 'public', 'vite.config.ts', 'package.json']
    .map((entry) => join(webDir, entry))
    .filter((entry) => existsSync(entry));
  if (existsSync(builtIndex) && statSync(builtIndex).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  log('building the web app …');
  await new Promise<void>((done, fail) => {
    const child = spawn('npm', ['run', 'build', '--workspace', 'web'], { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', log);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`web build failed (exit ${code})`))));
  });
}
