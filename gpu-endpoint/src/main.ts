/**
 * Entry point. SageMaker starts the container as `<entrypoint> serve`; locally:
 *   tsx gpu-endpoint/src/main.ts serve
 * Listens on PORT at once (/ping answers 503 until llama-server is healthy), starts llama-server on a loopback
 * port, and exits non-zero if the engine dies, so SageMaker replaces the instance.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig, resolveModelFile } from './config';
import { Engine } from './engine';
import { cachedEnginePath } from './engine-source';
import { log } from './log';
import { InferenceHttpServer } from './server';

async function serve(): Promise<void> {
  // A reader of our log that went away (a supervisor that died) must not kill us before we stop the engine.
  process.stdout.on('error', () => undefined);
  const config = loadConfig();
  const modelFile = await resolveModelFile(config.modelPath);
  const modelName = config.modelName ?? basename(modelFile).replace(/\.gguf$/i, '');
  const binary = config.llamaServer ?? cachedEnginePath();
  if (!existsSync(binary)) {
    throw new Error(
      `llama-server not found at ${binary}: build it with npm run engine:build -w gpu-endpoint`,
    );
  }
  const http = new InferenceHttpServer({
    modelName,
    sequences: config.sequences,
    contextSize: config.contextSize,
    maxQueue: config.maxQueue,
    requestDeadlineMs: config.requestDeadlineMs,
    recordRequests: config.recordRequests,
  });
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(config.port, () => resolve());
  });
  const address = http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  log('info', 'listening', { port });

  let engine: Engine | undefined;
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('info', 'draining', { signal });
    const drained = await http.drain(config.drainTimeoutMs);
    const exit = await engine?.stop();
    log(drained ? 'info' : 'warn', drained ? 'drained' : 'drain timed out', {
      signal,
      engineExit: exit ?? null,
    });
    process.exit(drained ? 0 : 1);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const loadStarted = performance.now();
  engine = await Engine.start({
    binary,
    modelFile,
    sequences: config.sequences,
    contextSize: config.contextSize,
    threads: config.threads,
    gpuLayers: config.gpuLayers,
    extraArgs: config.engineExtraArgs,
    startTimeoutMs: config.engineStartTimeoutMs,
  });
  const running = engine;
  void running.exited.then((exit) => {
    if (running.isStopping) return;
    // The engine is gone: fail loudly so SageMaker (or the local supervisor) replaces the container.
    log('error', 'engine exited', { ...exit, lastLines: running.lastLines });
    process.exit(1);
  });
  if (shuttingDown) return;
  http.attach(running);
  log('info', `model loaded: ${modelName} (${modelFile})`, {
    banner: true,
    model: modelName,
    modelFile,
    engine: binary,
    engineUrl: running.url,
    enginePid: running.child.pid ?? null,
    slots: config.sequences,
    contextSize: config.contextSize,
    threads: config.threads,
    maxQueue: config.maxQueue,
    loadMs: Math.round(performance.now() - loadStarted),
    port,
  });
}

const command = process.argv[2] ?? 'serve';
if (command !== 'serve') {
  console.error(`Unknown command "${command}". Usage: main serve`);
  process.exit(2);
}
serve().catch((err: unknown) => {
  log('error', 'startup failed', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
