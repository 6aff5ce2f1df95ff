import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureEngine } from '../../../gpu-endpoint/scripts/build-engine';
import { ensureTinyModel } from '../../../gpu-endpoint/scripts/generate-model';
import { Engine, freeLoopbackPort } from '../../../gpu-endpoint/src/engine';

/** Something binds the engine's chosen port before llama-server does (an outgoing connection can). */
function occupy(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    // It answers nothing: the engine's first health checks reach it while the first llama-server fails.
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

describe('the engine when its chosen port is taken before it binds it', { timeout: 90_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('starts on another port instead of failing the server', async () => {
    const taken = await occupy();
    cleanup.push(() => new Promise((done) => taken.server.close(done)));
    const chosen = [taken.port];
    const engine = await Engine.start(
      {
        binary: await ensureEngine(),
        modelFile: await ensureTinyModel(),
        sequences: 1,
        contextSize: 512,
        threads: 1,
        gpuLayers: undefined,
        extraArgs: [],
        startTimeoutMs: 60_000,
      },
      async () => chosen.shift() ?? freeLoopbackPort(),
    );
    cleanup.push(() => engine.stop());

    expect(engine.url).not.toBe(`http://127.0.0.1:${taken.port}`);
    expect(await engine.healthy()).toBe(true);
  });
});
