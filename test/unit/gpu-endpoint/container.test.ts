import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINE_SOURCE } from '../../../gpu-endpoint/src/engine-source';

const dir = resolve(import.meta.dirname, '../../../gpu-endpoint');

describe('gpu-endpoint container image', () => {
  it("starts from llama.cpp's official CUDA server image of the release the engine is built from", async () => {
    const dockerfile = await readFile(resolve(dir, 'Dockerfile'), 'utf8');

    expect(dockerfile).toContain(
      `ARG LLAMA_CPP_IMAGE=ghcr.io/ggml-org/llama.cpp:server-cuda12-${ENGINE_SOURCE.tag}`,
    );
    expect(dockerfile).toMatch(/^FROM \$\{LLAMA_CPP_IMAGE\}$/m);
    expect(dockerfile).toMatch(/LLAMA_SERVER=\/app\/llama-server/);
    expect(dockerfile).toMatch(/LLAMA_ARG_HOST=127\.0\.0\.1/);
  });

  it('installs the adapter with npm ci from its own lockfile, which matches its package.json', async () => {
    const dockerfile = await readFile(resolve(dir, 'Dockerfile'), 'utf8');
    const packageJson = JSON.parse(await readFile(resolve(dir, 'package.json'), 'utf8'));
    const lock = JSON.parse(await readFile(resolve(dir, 'package-lock.json'), 'utf8'));

    expect(dockerfile).toContain('COPY package.json package-lock.json ./');
    expect(dockerfile).toMatch(/^RUN npm ci /m);
    expect(lock.packages[''].dependencies).toEqual(packageJson.dependencies);
    expect(lock.packages[''].devDependencies).toEqual(packageJson.devDependencies);
    expect(packageJson.dependencies['node-llama-cpp']).toBeUndefined();
  });

  it("runs as a non-root user through an exec-form ENTRYPOINT that handles SageMaker's `serve` on port 8080", async () => {
    const dockerfile = await readFile(resolve(dir, 'Dockerfile'), 'utf8');
    const entrypoint = await readFile(resolve(dir, 'entrypoint.sh'), 'utf8');
    const entrypointLine = dockerfile.split('\n').find((line) => line.startsWith('ENTRYPOINT'));
    const users = dockerfile.split('\n').filter((line) => line.startsWith('USER '));

    expect(JSON.parse(entrypointLine?.slice('ENTRYPOINT'.length) ?? 'null')).toEqual([
      '/usr/local/bin/entrypoint.sh',
    ]);
    expect(users.at(-1)).toMatch(/^USER [1-9]\d*$/);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    expect(dockerfile).toMatch(/PORT=8080/);
    expect(dockerfile).toMatch(/MODEL_PATH=\/opt\/ml\/model/);
    expect(entrypoint).toMatch(/^\s*serve\)\s*$/m);
    expect(entrypoint).toMatch(/exec node \/opt\/chatstack\/main\.js serve/);
  });

  it('keeps models and local dependencies out of the build context', async () => {
    const ignore = (await readFile(resolve(dir, '.dockerignore'), 'utf8')).split('\n');

    expect(ignore).toEqual(expect.arrayContaining(['node_modules', 'models', '*.gguf']));
  });
});
