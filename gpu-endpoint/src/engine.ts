/**
 * The engine: llama.cpp's own `llama-server`, run as a child process on a loopback port. It owns batching,
 * sampling, prompt caching, grammars and tool-call parsing; this module owns its life cycle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, type IncomingMessage, request } from 'node:http';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { log } from './log';
import { engineError } from './relay';

/** util-linux's setpriv (Debian, Ubuntu, the CUDA image): sets the parent-death signal, then execs the engine. */
const SETPRIV = '/usr/bin/setpriv';

export interface EngineOptions {
  readonly binary: string;
  readonly modelFile: string;
  /** Parallel slots (`-np`). */
  readonly sequences: number;
  /** Context of one slot; llama-server gets `-c` = this × sequences. */
  readonly contextSize: number;
  /** `-t`; 0 leaves llama.cpp's default (all cores). */
  readonly threads: number;
  /** `-ngl`; undefined leaves llama.cpp's default (`auto`: every layer that fits on the GPU). */
  readonly gpuLayers: string | undefined;
  /** Appended verbatim, for measuring flags (ENGINE_EXTRA_ARGS). */
  readonly extraArgs: readonly string[];
  /** How long the model may take to load. */
  readonly startTimeoutMs: number;
}

/** The command line, the same for the adapter and for the benchmark's raw llama-server. */
export function engineArgs(
  options: Omit<EngineOptions, 'binary' | 'startTimeoutMs'>,
  port: number,
): string[] {
  const args = [
    '--model',
    options.modelFile,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--parallel',
    String(options.sequences),
    '--ctx-size',
    String(options.contextSize * options.sequences),
    '--jinja',
    '--metrics',
    // The adapter logs requests; the engine's own log is kept to errors (its warnings repeat per request), as JSON.
    '--log-jsonl',
    '--log-verbosity',
    '1',
    '--no-webui',
  ];
  if (options.threads > 0) args.push('--threads', String(options.threads));
  if (options.gpuLayers !== undefined) args.push('--n-gpu-layers', options.gpuLayers);
  return [...args, ...options.extraArgs];
}

/** A free loopback port (the OS picks it; llama-server binds it a moment later). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface EngineExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class EngineStartError extends Error {
  override readonly name = 'EngineStartError';
  constructor(
    message: string,
    /** llama-server could not bind its port (something took it after it was chosen). */
    readonly portTaken = false,
  ) {
    super(message);
  }
}

/** Starts tried when the engine's port is taken before it binds it. */
const BIND_ATTEMPTS = 3;

/** A running llama-server. */
export class Engine {
  private stopping = false;
  /** One connection per slot, kept alive: no TCP handshake per request. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1024 });

  private constructor(
    readonly url: string,
    readonly child: ChildProcess,
    /** Resolves when the child exits, for whatever reason. */
    readonly exited: Promise<EngineExit>,
    private readonly recentLines: string[],
  ) {}

  /**
   * Spawns llama-server and resolves once its `/health` answers 200 (the model is loaded). The port is chosen a
   * moment before llama-server binds it, and the kernel may hand it to an outgoing connection in between: a
   * refused bind (reported before the model loads) is tried again on another port, a few times.
   */
  static async start(options: EngineOptions, choosePort = freeLoopbackPort): Promise<Engine> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Engine.launch(options, await choosePort());
      } catch (error) {
        if (!(error instanceof EngineStartError && error.portTaken) || attempt >= BIND_ATTEMPTS) throw error;
        log('warn', 'engine port was taken before it was bound; choosing another', { attempt });
      }
    }
  }

  private static async launch(options: EngineOptions, port: number): Promise<Engine> {
    const args = engineArgs(options, port);
    // On Linux, setpriv makes the kernel kill the engine if this process dies without stopping it (SIGKILL,
    // a crash): no orphaned llama-server keeps a port and memory. Without setpriv, the engine starts as is.
    const child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', options.binary, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const recentLines: string[] = [];
    const remember = (line: string) => {
      recentLines.push(line);
      if (recentLines.length > 40) recentLines.shift();
    };
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (line.trim() === '') return;
        remember(line);
        forwardEngineLine(line);
      });
    }
    const exited = new Promise<EngineExit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
    const engine = new Engine(`http://127.0.0.1:${port}`, child, exited, recentLines);
    log('info', 'engine starting', { binary: options.binary, args });
    const deadline = Date.now() + options.startTimeoutMs;
    const died = exited.then((exit) => {
      throw new EngineStartError(
        `llama-server exited (code ${exit.code}, signal ${exit.signal}) before it was ready:\n${recentLines.join('\n')}`,
        recentLines.some((line) => line.includes("couldn't bind HTTP server socket")),
      );
    });
    died.catch(() => {});
    try {
      await Promise.race([engine.waitHealthy(deadline), died, spawnFailed]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return engine;
  }

  /**
   * POSTs a chat completion to the engine and resolves with its streamed response once the engine answers 200;
   * an error answer throws it as an `HttpError`. Aborting `signal` closes the connection, which makes
   * llama-server cancel the task and free its slot.
   */
  async chat(body: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<IncomingMessage> {
    const payload = JSON.stringify(body);
    try {
      return await this.post(payload, signal);
    } catch (error) {
      // A pooled keep-alive connection the engine closed fails before any answer: safe to send once more.
      if (signal.aborted || !isStaleConnection(error)) throw error;
      return this.post(payload, signal);
    }
  }

  private post(payload: string, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const upstream = request(
        `${this.url}/v1/chat/completions`,
        {
          method: 'POST',
          agent: this.agent,
          signal,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          if (response.statusCode === 200) return resolve(response);
          readBody(response).then(
            (text) => reject(engineError(errorObjectOf(text, response.statusCode))),
            reject,
          );
        },
      );
      upstream.once('error', reject);
      upstream.end(payload);
    });
  }

  /** The last lines the engine printed (for the crash report). */
  get lastLines(): readonly string[] {
    return this.recentLines;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Whether the engine's `/health` answers 200 within `timeoutMs`. */
  async healthy(timeoutMs = 1_500): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  private async waitHealthy(deadline: number): Promise<void> {
    // llama-server answers 503 while loading; there is no event to await, so poll briefly.
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) return;
      if (await this.healthy(1_000)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new EngineStartError(`llama-server did not become healthy before the start timeout`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  async stop(graceMs = 5_000): Promise<EngineExit> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }
}

function isStaleConnection(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

async function readBody(response: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return text;
}

function errorObjectOf(text: string, status: number | undefined): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'object' && parsed.error !== null)
      return parsed.error as Record<string, unknown>;
  } catch {
    // not JSON: fall through
  }
  return { code: status ?? 500, message: text.slice(0, 500) || 'The engine failed.' };
}

/** Engine lines become our JSON log lines (`source: "llama-server"`), so stdout stays one JSON object a line. */
function forwardEngineLine(line: string): void {
  let parsed: Record<string, unknown> | undefined;
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  // llama-server's JSONL also carries reports (memory breakdowns…): only its log messages are forwarded.
  if (parsed !== undefined && parsed.type !== 'log') return;
  const text = typeof parsed?.msg === 'string' ? parsed.msg.trim() : line;
  // JSON lines name their level; the few plain lines printed before logging starts carry a letter (I, W, E).
  const levelName =
    typeof parsed?.level === 'string' ? parsed.level : (/^\S+ ([IWE]) /.exec(line)?.[1] ?? 'W');
  const level = /^e/i.test(levelName) ? 'error' : /^i/i.test(levelName) ? 'info' : 'warn';
  log(level, 'engine', { source: 'llama-server', line: text });
}
