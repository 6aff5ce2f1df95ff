import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BENCH_MODEL,
  ensureTinyModel,
  parameterCount,
  readGgufMetadata,
  TINY_MODEL,
  writeTinyModel,
} from '../../../gpu-endpoint/scripts/generate-model';

describe('tiny model generator', () => {
  it('writes a GGUF v3 llama model with a GPT-2 byte-level vocabulary and a tool-aware chat template', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'tiny-')), 'tiny.gguf');

    await ensureTinyModel(path);
    const metadata = await readGgufMetadata(path);
    const tokens = metadata.get('tokenizer.ggml.tokens') as string[];

    expect(metadata.get('gguf.version')).toBe(3);
    expect(metadata.get('general.architecture')).toBe('llama');
    expect(metadata.get('tokenizer.ggml.model')).toBe('gpt2');
    expect(metadata.get('tokenizer.ggml.pre')).toBe('default');
    expect(metadata.get('tokenizer.ggml.merges')).toEqual([]);
    expect(tokens).toHaveLength(259);
    // bytes_to_unicode: printable bytes stand for themselves, space and control bytes map above U+00FF.
    expect(tokens[0x41]).toBe('A');
    expect(tokens[0x20]).toBe('Ġ');
    expect(tokens[0x0a]).toBe('Ċ');
    expect(new Set(tokens).size).toBe(259);
    expect(tokens.slice(256)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(metadata.get('tokenizer.ggml.eos_token_id')).toBe(258);
    expect(metadata.get('tokenizer.chat_template')).toContain('<tool_call>');
    expect(metadata.get('tokenizer.chat_template')).toContain('add_generation_prompt');
    expect(metadata.get('gguf.tensor_count')).toBe(3 + TINY_MODEL.layers * 9);
  });

  it('rewrites a model file left by an older generator', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'tiny-')), 'tiny.gguf');
    await writeTinyModel(TINY_MODEL, path);
    const stale = await readFile(path);
    const description = Buffer.from('chatstack generated model v3');
    stale.set(Buffer.from('chatstack generated model v2'), stale.indexOf(description));
    await writeFile(path, stale);

    await ensureTinyModel(path);

    expect((await readGgufMetadata(path)).get('general.description')).toMatch(/v3/);
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
