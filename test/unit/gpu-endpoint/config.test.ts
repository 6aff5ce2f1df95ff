import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveModelFile } from '../../../gpu-endpoint/src/config';

describe('gpu-endpoint configuration', () => {
  it('defaults to the SageMaker contract: port 8080 and the model under /opt/ml/model', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      port: 8080,
      modelPath: '/opt/ml/model',
      gpuLayers: undefined,
      recordRequests: false,
    });
  });

  it('reads slots, context, threads, queue and deadline from the environment', () => {
    const config = loadConfig({
      PORT: '9000',
      SEQUENCES: '16',
      CONTEXT_SIZE: '1024',
      THREADS: '1',
      GPU_LAYERS: 'all',
      MAX_QUEUE: '5',
      REQUEST_DEADLINE_MS: '30000',
      RECORD_REQUESTS: '1',
      ENGINE_EXTRA_ARGS: ' --cache-reuse 256 ',
      LLAMA_SERVER: '/app/llama-server',
    });

    expect(config).toMatchObject({
      port: 9000,
      sequences: 16,
      contextSize: 1024,
      threads: 1,
      gpuLayers: 'all',
      maxQueue: 5,
      requestDeadlineMs: 30000,
      recordRequests: true,
      engineExtraArgs: ['--cache-reuse', '256'],
      llamaServer: '/app/llama-server',
    });
  });

  it('names the variable that holds a bad value', () => {
    expect(() => loadConfig({ SEQUENCES: 'zero' })).toThrow(/SEQUENCES/);
    expect(() => loadConfig({ GPU_LAYERS: 'most' })).toThrow(/GPU_LAYERS/);
  });

  it('resolves a model directory to the first .gguf file in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'models-'));
    await writeFile(join(dir, 'b.gguf'), 'x');
    await writeFile(join(dir, 'a.gguf'), 'x');
    await writeFile(join(dir, 'README.md'), 'x');

    expect(await resolveModelFile(dir)).toBe(join(dir, 'a.gguf'));
  });

  it('explains how to get a model when MODEL_PATH does not exist', async () => {
    await expect(resolveModelFile('/nonexistent/model.gguf')).rejects.toThrow(/model:generate/);
  });
});
