/** Which llama.cpp the engine is, and where its build is cached (shared by the build script and the server). */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The llama.cpp source the engine is built from: the git bundle inside this npm package version. */
export const ENGINE_SOURCE = {
  npmPackage: 'node-llama-cpp',
  npmVersion: '3.22.1',
  /** Tag named by the package's `llama/llama.cpp.info.json`. */
  tag: 'v0.5.0',
  commit: 'de3ff815ea7d559ee917f063901b8986f038abc6',
} as const;

/** Directory of the cached build, outside any clone so every clone on the machine shares it. */
export function engineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'chatstack', 'llama-server', ENGINE_SOURCE.commit);
}

/** Path of the cached binary (it may not exist yet: `npm run engine:build -w gpu-endpoint`). */
export function cachedEnginePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(engineCacheDir(env), 'llama-server');
}
