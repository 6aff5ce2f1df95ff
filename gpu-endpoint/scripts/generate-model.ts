/**
 * Writes a small llama-architecture GGUF v3 model with seeded random F32 weights.
 *
 * Its text is gibberish, but it loads in llama.cpp like any real model, so the server's loading,
 * batching, streaming and timing paths run for real without downloading weights.
 *
 *   tsx gpu-endpoint/scripts/generate-model.ts [--preset tiny|bench] [--layers N] [--dim N] [--heads N]
 *     [--ff N] [--context N] [--seed N] [--out path] [--force]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Shape of a generated model. */
export interface TinyModelSpec {
  readonly layers: number;
  readonly dim: number;
  readonly heads: number;
  readonly feedForward: number;
  readonly contextLength: number;
  readonly seed: number;
  readonly name: string;
}

/** The default test model: ~0.5 MB, thousands of tokens/s on one thread. */
export const TINY_MODEL: TinyModelSpec = {
  layers: 2,
  dim: 64,
  heads: 4,
  feedForward: 128,
  // Long enough for tests that hold a slot for thousands of tokens (the KV cache is 512 bytes a token).
  contextLength: 32768,
  seed: 42,
  name: 'tiny-chat',
};

/** A second, smaller test model (a deployment serving two models): other weights, half the width, one layer. */
export const TINY_MODEL_2: TinyModelSpec = {
  layers: 1,
  dim: 32,
  heads: 2,
  feedForward: 64,
  contextLength: 8192,
  seed: 7,
  name: 'tiny-chat-2',
};

/** The benchmark model: ~25M parameters (≈100 MB F32). */
export const BENCH_MODEL: TinyModelSpec = {
  layers: 8,
  dim: 512,
  heads: 8,
  feedForward: 1408,
  contextLength: 4096,
  seed: 42,
  name: 'bench-25m',
};

const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'models');

/** Default path of the tiny test model. */
export const TINY_MODEL_PATH = join(MODELS_DIR, 'tiny-chat.gguf');

/** Default path of the second test model. */
export const TINY_MODEL_2_PATH = join(MODELS_DIR, 'tiny-chat-2.gguf');

/** Default path of the ~25M-parameter benchmark model. */
export const BENCH_MODEL_PATH = join(MODELS_DIR, 'bench-25m.gguf');

/**
 * Qwen2.5's tool-aware ChatML template (as in llama.cpp's models/templates/), so llama.cpp's `--jinja` chat
 * handling recognises it (Hermes-style `<tool_call>` blocks) and tools, tool results and structured output run
 * through the same paths as with a real model. The default system line names no vendor.
 */
const CHAT_TEMPLATE = [
  '{%- if tools %}',
  "{{- '<|im_start|>system\\n' }}",
  "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}",
  "{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}",
  '{{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}',
  '{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}',
  '{{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}',
  '{%- else %}',
  "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
  "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}",
  '{%- endif %}',
  '{%- for message in messages %}',
  '{%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}',
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
  '{%- elif message.role == "assistant" %}',
  "{{- '<|im_start|>' + message.role }}",
  "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}",
  '{%- for tool_call in message.tool_calls %}',
  '{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}',
  '{{- \'\\n<tool_call>\\n{"name": "\' }}{{- tool_call.name }}{{- \'", "arguments": \' }}{{- tool_call.arguments | tojson }}{{- \'}\\n</tool_call>\' }}',
  '{%- endfor %}',
  "{{- '<|im_end|>\\n' }}",
  '{%- elif message.role == "tool" %}',
  '{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- \'<|im_start|>user\' }}{%- endif %}',
  "{{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}",
  '{%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- \'<|im_end|>\\n\' }}{%- endif %}',
  '{%- endif %}',
  '{%- endfor %}',
  // The reasoning effort a request asks for (llama-server passes `reasoning_effort` to the template), as a
  // gpt-oss-style template shows it: a system line right before the answer.
  "{%- if reasoning_effort is defined and reasoning_effort %}{{- '<|im_start|>system\\nReasoning: ' + reasoning_effort + '<|im_end|>\\n' }}{%- endif %}",
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
].join('\n');

/** Written into `general.description`; a model file without it is from an older generator and is rewritten. */
export const GENERATOR_FINGERPRINT =
  'chatstack generated model v3 (gpt2 byte-level vocabulary, Qwen2.5 template, reasoning effort line)';

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
const GGUF_VERSION = 3;
const ALIGNMENT = 32;
/** The header (metadata, tensor table) of our models fits easily; real models' vocabularies need more. */
const HEADER_READ_BYTES = 16 * 1024 * 1024;

enum ValueType {
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
}

enum TokenType {
  Normal = 1,
  Control = 3,
}

const GGML_TYPE_F32 = 0;
const GGML_FILE_TYPE_ALL_F32 = 0;

type MetadataValue =
  | { type: ValueType.Uint32 | ValueType.Int32 | ValueType.Float32; value: number }
  | { type: ValueType.Bool; value: boolean }
  | { type: ValueType.String; value: string }
  | { type: ValueType.Array; itemType: ValueType.String; value: readonly string[] }
  | { type: ValueType.Array; itemType: ValueType.Float32 | ValueType.Int32; value: readonly number[] };

interface TensorSpec {
  readonly name: string;
  /** ggml order: dims[0] is the contiguous (innermost) dimension. */
  readonly dims: readonly number[];
  readonly init: 'ones' | 'random';
}

/** Growable little-endian byte buffer for the header. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  private length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
  u32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
  }
  i32(value: number): void {
    this.ensure(4);
    this.buffer.writeInt32LE(value, this.length);
    this.length += 4;
  }
  u64(value: number): void {
    this.ensure(8);
    this.buffer.writeBigUInt64LE(BigInt(value), this.length);
    this.length += 8;
  }
  f32(value: number): void {
    this.ensure(4);
    this.buffer.writeFloatLE(value, this.length);
    this.length += 4;
  }
  bool(value: boolean): void {
    this.ensure(1);
    this.buffer.writeUInt8(value ? 1 : 0, this.length);
    this.length += 1;
  }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
  }
  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    this.ensure(padding);
    this.buffer.fill(0, this.length, this.length + padding);
    this.length += padding;
  }
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** mulberry32: small, fast, seedable; good enough for random weights. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** GPT-2's byte-to-character map: printable bytes stand for themselves, the rest map above U+00FF. */
function byteToUnicode(): string[] {
  const map: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    map.push(String.fromCodePoint(printable ? byte : next++));
  }
  return map;
}

/** Special tokens after the 256 byte tokens: end of text (BOS), then the ChatML turn markers. */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
const BOS_ID = 256;
/** `<|im_end|>`: the template's end of turn is the model's end of generation. */
const EOS_ID = 258;
/** Vocabulary size: 256 byte tokens + the special tokens. */
export const VOCAB_SIZE = 256 + SPECIAL_TOKENS.length;

/**
 * A GPT-2-style byte-level vocabulary without merges: every text round-trips through the tokenizer, which
 * llama.cpp's grammar sampler needs (JSON schemas, forced tool calls). Token id = byte value.
 */
function vocabulary(): { tokens: string[]; types: number[] } {
  const tokens = [...byteToUnicode(), ...SPECIAL_TOKENS];
  const types = tokens.map((_, id) => (id < 256 ? TokenType.Normal : TokenType.Control));
  return { tokens, types };
}

function tensorsFor(spec: TinyModelSpec, vocabSize: number): TensorSpec[] {
  const { dim, feedForward } = spec;
  const tensors: TensorSpec[] = [
    { name: 'token_embd.weight', dims: [dim, vocabSize], init: 'random' },
    { name: 'output_norm.weight', dims: [dim], init: 'ones' },
    { name: 'output.weight', dims: [dim, vocabSize], init: 'random' },
  ];
  for (let layer = 0; layer < spec.layers; layer++) {
    const prefix = `blk.${layer}`;
    tensors.push(
      { name: `${prefix}.attn_norm.weight`, dims: [dim], init: 'ones' },
      { name: `${prefix}.attn_q.weight`, dims: [dim, dim], init: 'random' },
      { name: `${prefix}.attn_k.weight`, dims: [dim, dim], init: 'random' },
      { name: `${prefix}.attn_v.weight`, dims: [dim, dim], init: 'random' },
      { name: `${prefix}.attn_output.weight`, dims: [dim, dim], init: 'random' },
      { name: `${prefix}.ffn_norm.weight`, dims: [dim], init: 'ones' },
      { name: `${prefix}.ffn_gate.weight`, dims: [dim, feedForward], init: 'random' },
      { name: `${prefix}.ffn_down.weight`, dims: [feedForward, dim], init: 'random' },
      { name: `${prefix}.ffn_up.weight`, dims: [dim, feedForward], init: 'random' },
    );
  }
  return tensors;
}

/**
 * Makes the random model "speak" printable ASCII: only the rows of printable bytes, newline and EOS keep
 * (amplified) weights, so their logits dominate. Output then streams one character per token, and
 * generations end by themselves now and then (EOS, or the template's newline stop) as a chat model's do.
 */
const EMBEDDING_SHIFT = 0.5;
const EOS_GAIN = 3;
const LETTER_GAIN = 6;

function unitVector(dim: number, random: () => number): Float32Array {
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    v[i] = random() * 2 - 1;
    norm += (v[i] ?? 0) ** 2;
  }
  for (let i = 0; i < dim; i++) v[i] = (v[i] ?? 0) / Math.sqrt(norm);
  return v;
}

/** Adds `amount` × (a row's typical norm) × `direction` to every row. */
function addDirection(data: Float32Array, dim: number, direction: Float32Array, amount: number): void {
  const rowNorm = Math.sqrt(dim / 3);
  for (let row = 0; row < data.length / dim; row++) {
    for (let i = 0; i < dim; i++)
      data[row * dim + i] = (data[row * dim + i] ?? 0) + amount * rowNorm * (direction[i] ?? 0);
  }
}

function shapeOutputLogits(data: Float32Array, dim: number, endDirection: Float32Array): void {
  const vocabSize = data.length / dim;
  const eos = EOS_ID;
  const newline = 0x0a;
  for (let token = 0; token < vocabSize; token++) {
    const letter = (token >= 0x41 && token <= 0x5a) || (token >= 0x61 && token <= 0x7a) || token === 0x20;
    const keep = token === eos || token === newline || (token >= 0x20 && token <= 0x7e);
    // Letters and spaces lean ahead of punctuation, so answers read as (nonsense) words.
    const factor = letter ? LETTER_GAIN : keep ? 4 : 0;
    for (let i = token * dim; i < (token + 1) * dim; i++) data[i] = (data[i] ?? 0) * factor;
  }
  // The embeddings share `endDirection`, so the final hidden state leans on it: EOS gets a steady share.
  for (let i = 0; i < dim; i++)
    data[eos * dim + i] = (data[eos * dim + i] ?? 0) + EOS_GAIN * (endDirection[i] ?? 0);
}

function validateSpec(spec: TinyModelSpec): void {
  for (const key of ['layers', 'dim', 'heads', 'feedForward', 'contextLength'] as const) {
    if (!Number.isInteger(spec[key]) || spec[key] <= 0) {
      throw new Error(`${key} must be a positive integer, got ${spec[key]}`);
    }
  }
  if (spec.dim % spec.heads !== 0) {
    throw new Error(`dim (${spec.dim}) must be divisible by heads (${spec.heads})`);
  }
  if ((spec.dim / spec.heads) % 2 !== 0) {
    throw new Error(`head size (${spec.dim / spec.heads}) must be even for RoPE`);
  }
}

/** Number of parameters of a model of this shape. */
export function parameterCount(spec: TinyModelSpec): number {
  return tensorsFor(spec, VOCAB_SIZE).reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
}

/** Writes the GGUF file for `spec` to `outPath` (atomically, through a temporary file). */
export async function writeTinyModel(spec: TinyModelSpec, outPath: string): Promise<void> {
  validateSpec(spec);
  const vocab = vocabulary();
  const tensors = tensorsFor(spec, vocab.tokens.length);
  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: ValueType.String, value: 'llama' }],
    ['general.name', { type: ValueType.String, value: spec.name }],
    ['general.description', { type: ValueType.String, value: GENERATOR_FINGERPRINT }],
    ['general.file_type', { type: ValueType.Uint32, value: GGML_FILE_TYPE_ALL_F32 }],
    ['general.alignment', { type: ValueType.Uint32, value: ALIGNMENT }],
    ['llama.context_length', { type: ValueType.Uint32, value: spec.contextLength }],
    ['llama.embedding_length', { type: ValueType.Uint32, value: spec.dim }],
    ['llama.block_count', { type: ValueType.Uint32, value: spec.layers }],
    ['llama.feed_forward_length', { type: ValueType.Uint32, value: spec.feedForward }],
    ['llama.rope.dimension_count', { type: ValueType.Uint32, value: spec.dim / spec.heads }],
    ['llama.attention.head_count', { type: ValueType.Uint32, value: spec.heads }],
    ['llama.attention.head_count_kv', { type: ValueType.Uint32, value: spec.heads }],
    ['llama.attention.layer_norm_rms_epsilon', { type: ValueType.Float32, value: 1e-5 }],
    ['llama.rope.freq_base', { type: ValueType.Float32, value: 10000 }],
    ['tokenizer.ggml.model', { type: ValueType.String, value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: ValueType.String, value: 'default' }],
    ['tokenizer.ggml.tokens', { type: ValueType.Array, itemType: ValueType.String, value: vocab.tokens }],
    ['tokenizer.ggml.token_type', { type: ValueType.Array, itemType: ValueType.Int32, value: vocab.types }],
    ['tokenizer.ggml.merges', { type: ValueType.Array, itemType: ValueType.String, value: [] }],
    ['tokenizer.ggml.bos_token_id', { type: ValueType.Uint32, value: BOS_ID }],
    ['tokenizer.ggml.eos_token_id', { type: ValueType.Uint32, value: EOS_ID }],
    ['tokenizer.ggml.add_bos_token', { type: ValueType.Bool, value: false }],
    ['tokenizer.chat_template', { type: ValueType.String, value: CHAT_TEMPLATE }],
  ];

  const header = new ByteWriter();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, entry] of metadata) {
    header.string(key);
    header.u32(entry.type);
    switch (entry.type) {
      case ValueType.Uint32:
        header.u32(entry.value);
        break;
      case ValueType.Int32:
        header.i32(entry.value);
        break;
      case ValueType.Float32:
        header.f32(entry.value);
        break;
      case ValueType.Bool:
        header.bool(entry.value);
        break;
      case ValueType.String:
        header.string(entry.value);
        break;
      case ValueType.Array:
        header.u32(entry.itemType);
        header.u64(entry.value.length);
        if (entry.itemType === ValueType.String) {
          for (const item of entry.value) header.string(item);
        } else if (entry.itemType === ValueType.Int32) {
          for (const item of entry.value) header.i32(item);
        } else {
          for (const item of entry.value) header.f32(item);
        }
        break;
    }
  }
  let offset = 0;
  const tensorSizes: number[] = [];
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const d of tensor.dims) header.u64(d);
    header.u32(GGML_TYPE_F32);
    header.u64(offset);
    const size = tensor.dims.reduce((a, b) => a * b, 1) * 4;
    tensorSizes.push(size);
    offset += Math.ceil(size / ALIGNMENT) * ALIGNMENT;
  }
  header.padTo(ALIGNMENT);

  await mkdir(dirname(outPath), { recursive: true });
  const tempPath = `${outPath}.${process.pid}.tmp`;
  const out = createWriteStream(tempPath);
  const write = (chunk: Buffer) =>
    new Promise<void>((resolveWrite, reject) => {
      out.write(chunk, (err) => (err ? reject(err) : resolveWrite()));
    });
  await write(header.bytes());

  const random = createRandom(spec.seed);
  const endDirection = unitVector(spec.dim, createRandom(spec.seed + 1));
  for (const [index, tensor] of tensors.entries()) {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    const inputs = tensor.dims[0] ?? 1;
    // Uniform init scaled by fan-in keeps activations bounded through the layers.
    const scale = tensor.name === 'token_embd.weight' ? 1 : Math.sqrt(3 / inputs);
    const data = new Float32Array(elements);
    if (tensor.init === 'ones') data.fill(1);
    else for (let i = 0; i < elements; i++) data[i] = (random() * 2 - 1) * scale;
    if (tensor.name === 'token_embd.weight') addDirection(data, inputs, endDirection, EMBEDDING_SHIFT);
    if (tensor.name === 'output.weight') shapeOutputLogits(data, inputs, endDirection);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const size = tensorSizes[index] ?? bytes.length;
    const padding = Math.ceil(size / ALIGNMENT) * ALIGNMENT - size;
    await write(padding > 0 ? Buffer.concat([bytes, Buffer.alloc(padding)]) : bytes);
  }
  await new Promise<void>((resolveEnd, reject) => {
    out.on('error', reject);
    out.end(resolveEnd);
  });
  await rename(tempPath, outPath);
}

/** Reads the metadata key/value pairs of a GGUF v3 file (the header only; tensors are not read). */
export async function readGgufMetadata(path: string): Promise<Map<string, unknown>> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const buffer = Buffer.alloc(Math.min(size, HEADER_READ_BYTES));
    await file.read(buffer, 0, buffer.length, 0);
    let at = 0;
    const take = (bytes: number) => {
      if (at + bytes > buffer.length) throw new Error(`${path}: GGUF header is truncated`);
      const start = at;
      at += bytes;
      return start;
    };
    const u32 = () => buffer.readUInt32LE(take(4));
    const u64 = () => Number(buffer.readBigUInt64LE(take(8)));
    const string = () => {
      const length = u64();
      return buffer.toString('utf8', take(length), at);
    };
    const value = (type: number): unknown => {
      switch (type) {
        case ValueType.Uint32:
          return u32();
        case ValueType.Int32:
          return buffer.readInt32LE(take(4));
        case ValueType.Float32:
          return buffer.readFloatLE(take(4));
        case ValueType.Bool:
          return buffer.readUInt8(take(1)) !== 0;
        case ValueType.String:
          return string();
        case ValueType.Array: {
          const itemType = u32();
          return Array.from({ length: u64() }, () => value(itemType));
        }
        default:
          throw new Error(`${path}: unsupported GGUF value type ${type}`);
      }
    };
    if (u32() !== GGUF_MAGIC) throw new Error(`${path} is not a GGUF file`);
    const metadata = new Map<string, unknown>([['gguf.version', u32()]]);
    metadata.set('gguf.tensor_count', u64());
    const count = u64();
    for (let i = 0; i < count; i++) {
      const key = string();
      metadata.set(key, value(u32()));
    }
    return metadata;
  } finally {
    await file.close();
  }
}

/** Whether `path` holds a model written by this version of the generator. */
async function isCurrentModel(path: string): Promise<boolean> {
  try {
    return (await readGgufMetadata(path)).get('general.description') === GENERATOR_FINGERPRINT;
  } catch {
    return false;
  }
}

/** Returns the path of the tiny test model, generating it first if it is missing. Idempotent. */
export async function ensureTinyModel(
  outPath: string = TINY_MODEL_PATH,
  spec: TinyModelSpec = TINY_MODEL,
): Promise<string> {
  if (!(await isCurrentModel(outPath))) await writeTinyModel(spec, outPath);
  return outPath;
}

/** Returns the path of the ~25M-parameter benchmark model, generating it first if it is missing. */
export async function ensureBenchModel(outPath: string = BENCH_MODEL_PATH): Promise<string> {
  return ensureTinyModel(outPath, BENCH_MODEL);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string', default: 'tiny' },
      layers: { type: 'string' },
      dim: { type: 'string' },
      heads: { type: 'string' },
      ff: { type: 'string' },
      context: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const base = values.preset === 'bench' ? BENCH_MODEL : values.preset === 'tiny' ? TINY_MODEL : undefined;
  if (base === undefined) throw new Error(`--preset must be "tiny" or "bench", got "${values.preset}"`);
  const int = (value: string | undefined, fallback: number, flag: string) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`--${flag} must be a positive integer`);
    return parsed;
  };
  const spec: TinyModelSpec = {
    ...base,
    layers: int(values.layers, base.layers, 'layers'),
    dim: int(values.dim, base.dim, 'dim'),
    heads: int(values.heads, base.heads, 'heads'),
    feedForward: int(values.ff, base.feedForward, 'ff'),
    contextLength: int(values.context, base.contextLength, 'context'),
    seed: int(values.seed, base.seed, 'seed'),
  };
  const outPath = resolve(values.out ?? (base === BENCH_MODEL ? BENCH_MODEL_PATH : TINY_MODEL_PATH));
  if (values.force || !(await isCurrentModel(outPath))) await writeTinyModel(spec, outPath);
  const { size } = await stat(outPath);
  console.log(
    `${outPath}: ${spec.name}, ${spec.layers} layers, ${spec.dim} dims, ${spec.heads} heads, FF ${spec.feedForward}, ` +
      `${(parameterCount(spec) / 1e6).toFixed(2)}M parameters, ${(size / 1e6).toFixed(1)} MB`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
