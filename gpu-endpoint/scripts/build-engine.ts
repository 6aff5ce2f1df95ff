/**
 * Builds llama.cpp's `llama-server` from the source node-llama-cpp's npm package carries, once per machine.
 *
 *   npm run engine:build -w gpu-endpoint [-- --adopt /path/to/llama-server] [--force]
 *
 * The binary is cached outside the clone, keyed by the llama.cpp commit, so every clone on the machine shares
 * it: `${XDG_CACHE_HOME:-~/.cache}/chatstack/llama-server/<commit>/llama-server`. `--adopt` copies an existing
 * build of the same commit into the cache (checked with `llama-server --version`) instead of compiling.
 * No network beyond the npm registry: `npm pack` fetches only the package (its git bundle), not its
 * ~640 MB of prebuilt platform binaries.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ENGINE_SOURCE, engineCacheDir } from '../src/engine-source';

export { cachedEnginePath, ENGINE_SOURCE, engineCacheDir } from '../src/engine-source';

/** CMake flags: static, no downloads, no tests (architecture §3). */
export const ENGINE_CMAKE_FLAGS: readonly string[] = [
  '-DLLAMA_CURL=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DCMAKE_BUILD_TYPE=Release',
];

/** Environment variable naming a `llama-server` binary to use instead of the cached build. */
export const LLAMA_SERVER_ENV = 'LLAMA_SERVER';

export type ProgressListener = (line: string) => void;

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; onLine?: ProgressListener } = {},
): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    const onData = (data: Buffer) => {
      const text = data.toString('utf8');
      output = (output + text).slice(-20_000);
      if (!options.onLine) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolveRun(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** What a `llama-server` binary reports (`version: 0.5.0-dev (build 1, commit de3ff81)`), or undefined. */
export async function engineVersion(
  binary: string,
): Promise<{ version: string; commit: string } | undefined> {
  try {
    const output = await run(binary, ['--version']);
    const match = /version:\s*(\S+).*commit ([0-9a-f]{7,40})/.exec(output);
    return match?.[1] && match[2] ? { version: match[1], commit: match[2] } : undefined;
  } catch {
    return undefined;
  }
}

async function isPinnedBuild(binary: string): Promise<boolean> {
  const version = await engineVersion(binary);
  return version !== undefined && ENGINE_SOURCE.commit.startsWith(version.commit);
}

/** Holds a directory lock so two processes (say `npm start` and a test run) never build at once. */
async function withLock<T>(dir: string, progress: ProgressListener, fn: () => Promise<T>): Promise<T> {
  const lock = join(dir, 'build.lock');
  let announced = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => 'NaN'));
      if (Number.isInteger(owner) && !processAlive(owner)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) progress(`waiting for another build of llama-server (pid ${owner}) to finish…`);
      announced = true;
      await new Promise((done) => setTimeout(done, 2_000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Finds the git bundle: in an installed node-llama-cpp, or fetched with `npm pack` into the work dir. */
async function sourceBundle(work: string, progress: ProgressListener): Promise<string> {
  const installed = resolve(import.meta.dirname, '..', '..', 'node_modules', ENGINE_SOURCE.npmPackage);
  for (const candidate of [installed, join(work, 'package')]) {
    const bundle = join(candidate, 'llama', 'gitRelease.bundle');
    const info = join(candidate, 'package.json');
    if (existsSync(bundle) && existsSync(info)) {
      const { version } = JSON.parse(await readFile(info, 'utf8')) as { version: string };
      if (version === ENGINE_SOURCE.npmVersion) return bundle;
    }
  }
  const spec = `${ENGINE_SOURCE.npmPackage}@${ENGINE_SOURCE.npmVersion}`;
  progress(`fetching the llama.cpp source: npm pack ${spec} (the package alone, ~40 MB)…`);
  await run('npm', ['pack', spec, '--pack-destination', work, '--silent'], { cwd: work });
  const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack ${spec} wrote no tarball`);
  await run('tar', ['-xzf', tarball, 'package/llama', 'package/package.json'], { cwd: work });
  await rm(join(work, tarball));
  return join(work, 'package', 'llama', 'gitRelease.bundle');
}

async function compile(cacheDir: string, progress: ProgressListener): Promise<string> {
  const work = join(cacheDir, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const bundle = await sourceBundle(work, progress);
  const src = join(work, 'src');
  await run('git', ['clone', '--quiet', bundle, src]);
  await run('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ENGINE_SOURCE.commit], {
    cwd: src,
  });
  const jobs = String(availableParallelism());
  progress(`configuring llama.cpp ${ENGINE_SOURCE.tag} (${ENGINE_SOURCE.commit.slice(0, 7)})…`);
  await run('cmake', ['-S', src, '-B', join(src, 'build'), ...ENGINE_CMAKE_FLAGS]);
  progress(`compiling llama-server with ${jobs} jobs (about 7 minutes on 2 cores)…`);
  // `nice`: the build shares the machine with whatever else runs; progress lines are cmake's "[ 42%]".
  await run('nice', ['cmake', '--build', join(src, 'build'), '--target', 'llama-server', '-j', jobs], {
    onLine: (line) => {
      if (/^\[\s*\d+%\]/.test(line)) progress(line);
    },
  });
  return join(src, 'build', 'bin', 'llama-server');
}

/** Copies `binary` into the cache atomically and removes the build tree. */
async function install(binary: string, cacheDir: string): Promise<string> {
  const target = join(cacheDir, 'llama-server');
  const temp = `${target}.${process.pid}.tmp`;
  await copyFile(binary, temp);
  await rename(temp, target);
  await writeFile(
    join(cacheDir, 'build-info.json'),
    `${JSON.stringify({ ...ENGINE_SOURCE, cmakeFlags: ENGINE_CMAKE_FLAGS, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
  await rm(join(cacheDir, 'work'), { recursive: true, force: true });
  return target;
}

export interface EnsureEngineOptions {
  readonly onProgress?: ProgressListener;
  /** Copy this existing build of the pinned commit instead of compiling. */
  readonly adopt?: string | undefined;
  /** Rebuild even when the cache holds a binary. */
  readonly force?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Returns the path of a `llama-server` binary of the pinned commit: `$LLAMA_SERVER` if set, else the cached
 * build, compiling it first when missing. Safe to call from several processes at once.
 */
export async function ensureEngine(options: EnsureEngineOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const progress = options.onProgress ?? ((line: string) => console.error(`[engine:build] ${line}`));
  const explicit = env[LLAMA_SERVER_ENV];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`${LLAMA_SERVER_ENV}=${explicit} does not exist`);
    return explicit;
  }
  const cacheDir = engineCacheDir(env);
  const target = join(cacheDir, 'llama-server');
  if (!options.force && existsSync(target)) return target;
  await mkdir(cacheDir, { recursive: true });
  return withLock(cacheDir, progress, async () => {
    if (!options.force && existsSync(target)) return target; // built by the process we waited for
    if (options.adopt !== undefined) {
      if (!(await isPinnedBuild(options.adopt))) {
        throw new Error(
          `${options.adopt} is not a llama-server build of ${ENGINE_SOURCE.commit.slice(0, 7)}`,
        );
      }
      progress(`adopting ${options.adopt}`);
      return install(options.adopt, cacheDir);
    }
    const started = performance.now();
    const built = await compile(cacheDir, progress);
    if (!(await isPinnedBuild(built)))
      throw new Error(`${built} does not report commit ${ENGINE_SOURCE.commit}`);
    const installed = await install(built, cacheDir);
    const { size } = await stat(installed);
    progress(
      `llama-server ready: ${installed} (${(size / 1e6).toFixed(1)} MB, ${Math.round((performance.now() - started) / 1000)} s)`,
    );
    return installed;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { adopt: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  const path = await ensureEngine({ adopt: values.adopt, force: values.force });
  const version = await engineVersion(path);
  console.log(`${path} (llama.cpp ${version?.version ?? '?'}, commit ${version?.commit ?? '?'})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
