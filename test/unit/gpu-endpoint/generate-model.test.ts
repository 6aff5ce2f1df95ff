import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import {
  BENCH_MODEL,
  ensureTinyModel,
  parameterCount,
  TINY_MODEL,
} from '../../../gpu-endpoint/scripts/generate-model';

describe('tiny model generator', () => {
  it('writes a GGUF v3 llama model with a byte-level vocabulary and a chat template', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'tiny-')), 'tiny.gguf');

    await ensureTinyModel(path);
    const info = await readGgufFileInfo(path, { readTensorInfo: true });

    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe('llama');
    expect(info.metadata.tokenizer.ggml.model).toBe('llama');
    expect(info.metadata.tokenizer.ggml.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(info.metadata.tokenizer.ggml.tokens).toHaveLength(259);
    expect(info.metadata.tokenizer.ggml.bos_token_id).toBe(1);
    expect(info.metadata.tokenizer.ggml.eos_token_id).toBe(2);
    expect(info.metadata.tokenizer.chat_template).toContain('add_generation_prompt');
    expect(info.tensorInfo?.length).toBe(3 + TINY_MODEL.layers * 9);
  });

  it('is idempotent: a second call keeps the existing file', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'tiny-')), 'tiny.gguf');
    await ensureTinyModel(path);
    const before = await stat(path);

    const again = await ensureTinyModel(path);

    expect(again).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
  });

  it('sizes the benchmark preset at about 25 million parameters', () => {
    expect(parameterCount(BENCH_MODEL)).toBeGreaterThan(24e6);
    expect(parameterCount(BENCH_MODEL)).toBeLessThan(28e6);
  });
});
