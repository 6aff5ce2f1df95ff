import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = resolve(import.meta.dirname, '../../../gpu-endpoint');

describe('gpu-endpoint container image', () => {
  it("runs on a CUDA runtime base with node-llama-cpp's prebuilt CUDA binaries and never builds llama.cpp", async () => {
    const dockerfile = await readFile(resolve(dir, 'Dockerfile'), 'utf8');
    const packageJson = JSON.parse(await readFile(resolve(dir, 'package.json'), 'utf8'));

    expect(dockerfile).toMatch(/^FROM nvidia\/cuda:12\.\d+\.\d+-runtime-ubuntu\d+\.\d+$/m);
    expect(dockerfile).toContain('NODE_LLAMA_CPP_SKIP_DOWNLOAD=true');
    expect(dockerfile).toContain('test -f node_modules/@node-llama-cpp/linux-x64-cuda/package.json');
    expect(dockerfile).not.toMatch(/rm -rf[^\n]*linux-x64-cuda/);
    expect(packageJson.dependencies['node-llama-cpp']).toMatch(/^~3\.22/);
  });

  it("starts through an exec-form ENTRYPOINT that handles SageMaker's `serve` argument on port 8080", async () => {
    const dockerfile = await readFile(resolve(dir, 'Dockerfile'), 'utf8');
    const entrypoint = await readFile(resolve(dir, 'entrypoint.sh'), 'utf8');
    const entrypointLine = dockerfile.split('\n').find((line) => line.startsWith('ENTRYPOINT'));

    expect(JSON.parse(entrypointLine?.slice('ENTRYPOINT'.length) ?? 'null')).toEqual([
      '/usr/local/bin/entrypoint.sh',
    ]);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    expect(dockerfile).toMatch(/PORT=8080/);
    expect(dockerfile).toMatch(/MODEL_PATH=\/opt\/ml\/model/);
    expect(entrypoint).toMatch(/^\s*serve\)\s*$/m);
    expect(entrypoint).toMatch(/exec node \/app\/dist\/main\.js serve/);
  });

  it('keeps models and local dependencies out of the build context', async () => {
    const ignore = (await readFile(resolve(dir, '.dockerignore'), 'utf8')).split('\n');

    expect(ignore).toEqual(expect.arrayContaining(['node_modules', 'models', '*.gguf']));
  });
});
