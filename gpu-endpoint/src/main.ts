/**
 * Entry point. SageMaker starts the container as `<entrypoint> serve`; locally:
 *   tsx gpu-endpoint/src/main.ts serve
 */
import { basename } from 'node:path';
import { loadConfig, resolveModelFile } from './config';
import { InferenceEngine } from './engine';
import { log } from './log';
import { InferenceHttpServer } from './server';

async function serve(): Promise<void> {
  const config = loadConfig();
  const modelFile = await resolveModelFile(config.modelPath);
  const modelName = config.modelName ?? basename(modelFile).replace(/\.gguf$/i, '');
  const http = new InferenceHttpServer({
    modelName,
    requestDeadlineMs: config.requestDeadlineMs,
    recordRequests: config.recordRequests,
  });
  // Listen first so /ping answers 503 while the model loads.
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(config.port, () => resolve());
  });
  const address = http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  log('info', 'listening', { port });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('info', 'draining', { signal });
    const drained = await http.drain(config.drainTimeoutMs);
    log(drained ? 'info' : 'warn', drained ? 'drained' : 'drain timed out', { signal });
    process.exit(drained ? 0 : 1);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const loadStarted = performance.now();
  const engine = await InferenceEngine.load({
    modelFile,
    modelName,
    sequences: config.sequences,
    contextSize: config.contextSize,
    batchSize: config.batchSize,
    threads: config.threads,
    maxQueue: config.maxQueue,
    gpu: config.gpu,
    scheduling: config.scheduling,
  });
  if (shuttingDown) return;
  http.attach(engine);
  const info = engine.model.fileInfo.metadata.general;
  log('info', `model loaded: ${modelName} (${modelFile})`, {
    banner: true,
    model: modelName,
    modelFile,
    architecture: info.architecture,
    modelSizeBytes: engine.model.size,
    parameters: engine.model.fileInsights.totalParameters ?? null,
    gpu: engine.llama.gpu,
    slots: config.sequences,
    contextSize: engine.context.contextSize,
    batchSize: engine.context.batchSize,
    threads: config.threads,
    maxQueue: config.maxQueue,
    scheduling: config.scheduling,
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
