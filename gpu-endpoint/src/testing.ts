/**
 * Starts the real inference server (the adapter and its llama-server) as a child process, for tests and
 * benchmarks; builds llama-server first if this machine has no build of it yet.
 *
 *   const server = await startInferenceServer({ env: { SEQUENCES: '4' } });
 *   // server.url → http://127.0.0.1:PORT  (/ping, /invocations, /v1/chat/completions, /v1/models)
 *   await server.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureEngine } from '../scripts/build-engine';
import { ensureTinyModel } from '../scripts/generate-model';

const GPU_ENDPOINT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = resolve(GPU_ENDPOINT_DIR, 'src', 'main.ts');

export interface StartInferenceServerOptions {
  /** Port to listen on; default: a free port chosen by the OS. */
  readonly port?: number;
  /** Extra environment (SEQUENCES, MAX_QUEUE, RECORD_REQUESTS…); MODEL_PATH defaults to the generated tiny model. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the model to load; default 60 s. */
  readonly startTimeoutMs?: number;
  /** Echo the server's log lines to this process's stderr. */
  readonly echoLogs?: boolean;
  /** Resolve once the adapter listens, before the engine is up (default: wait until /ping answers 200). */
  readonly waitForEngine?: boolean;
}

export interface InferenceServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:40123`; the OpenAI client takes `${url}/v1`. */
  readonly url: string;
  readonly port: number;
  /** Resolves with the engine's URL and pid once it is healthy (`waitForEngine: false` returns before). */
  readonly engine: Promise<{ readonly url: string; readonly pid: number }>;
  readonly process: ChildProcess;
  /** Structured log lines the server printed so far (parsed JSON). */
  readonly logs: readonly Record<string, unknown>[];
  /** Resolves with the next log line matching `predicate` (already printed lines count). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Sends SIGTERM (the server drains in-flight requests) and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `gpu-endpoint/src/main.ts serve` and resolves once `/ping` answers 200. */
export async function startInferenceServer(
  options: StartInferenceServerOptions = {},
): Promise<InferenceServerHandle> {
  const modelPath = options.env?.MODEL_PATH ?? (await ensureTinyModel());
  const llamaServer = await ensureEngine();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    cwd: GPU_ENDPOINT_DIR,
    env: {
      ...process.env,
      THREADS: '1',
      SEQUENCES: '4',
      CONTEXT_SIZE: '2048',
      LLAMA_SERVER: llamaServer,
      ...options.env,
      MODEL_PATH: modelPath,
      PORT: String(options.port ?? 0),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    if (options.echoLogs) process.stderr.write(`[gpu-endpoint] ${text}\n`);
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  createInterface({ input: child.stderr }).on('line', (text) => {
    if (options.echoLogs) process.stderr.write(`[gpu-endpoint] ${text}\n`);
    stderr.push(text);
    if (stderr.length > 50) stderr.shift();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean) => {
    const seen = logs.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolveLine) =>
      waiters.push({ predicate, resolve: resolveLine }),
    );
  };

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`inference server did not load within ${timeoutMs} ms`)),
      timeoutMs,
    );
    void exited.then((code) =>
      reject(
        new Error(`inference server exited with code ${code} before it was ready:\n${stderr.join('\n')}`),
      ),
    );
  });
  failure.catch(() => {}); // only raced below; a later exit is the caller's business
  try {
    const listening = await Promise.race([waitForLog((line) => line.message === 'listening'), failure]);
    const port = Number(listening.port);
    const url = `http://127.0.0.1:${port}`;
    const engine = waitForLog((line) => line.banner === true).then((banner) => ({
      url: String(banner.engineUrl),
      pid: Number(banner.enginePid),
    }));
    if (options.waitForEngine !== false) {
      await Promise.race([engine, failure]);
      const ping = await fetch(`${url}/ping`);
      if (ping.status !== 200) throw new Error(`/ping answered ${ping.status} after the model loaded`);
    }
    return {
      url,
      port,
      engine,
      process: child,
      logs,
      waitForLog,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const code = await exited;
        clearTimeout(killTimer);
        return code;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
