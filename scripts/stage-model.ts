/**
 * Stages model weights into chatstack's model bucket(s), once per model, from a machine with internet access:
 *
 *   npx tsx scripts/stage-model.ts --region us-east-1,us-west-2 --hf Qwen/Qwen2.5-7B-Instruct
 *   npx tsx scripts/stage-model.ts --region us-east-1 --gguf ./SmolLM2-360M-Instruct-Q8_0.gguf
 *   npx tsx scripts/stage-model.ts --region us-east-1 --gguf https://huggingface.co/…/resolve/main/model.gguf
 *
 * `--hf` copies a Hugging Face repository's weights and tokenizer (safetensors, JSON, tokenizer files) for the
 * `vllm` engine; `--gguf` copies one GGUF file for the `llamacpp` engine. Files land uncompressed under the
 * prefix the endpoint reads (`inference.modelPrefix`, default `models/default/`), which SageMaker mounts at
 * /opt/ml/model. A gated repository needs `HF_TOKEN` in this shell only: it is used for the download and never
 * reaches AWS. Files already staged with the same size are skipped, so a broken run can simply be repeated.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Upload } from '@aws-sdk/lib-storage';
import { modelBucketName } from '../lib/stacks/data-stack';

const HF = 'https://huggingface.co';
/** What vLLM needs from a repository: weights, configs, tokenizer. Originals (`original/`, `*.pth`) are skipped. */
const HF_FILES = /(\.safetensors|\.json|tokenizer\.model|\.tiktoken|\.txt|\.jinja)$/;

interface Source {
  /** Object name under the prefix. */
  readonly name: string;
  readonly size: number | undefined;
  readonly open: () => Promise<Readable>;
}

const usage = `Usage: npx tsx scripts/stage-model.ts --region <r1[,r2…]> (--hf <org/repo> [--revision main] | --gguf <file|url>)
       [--stage dev] [--prefix models/default/] [--bucket <name>]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      region: { type: 'string' },
      stage: { type: 'string', default: 'dev' },
      prefix: { type: 'string', default: 'models/default/' },
      bucket: { type: 'string' },
      hf: { type: 'string' },
      revision: { type: 'string', default: 'main' },
      gguf: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const regions = (values.region ?? '').split(',').filter(Boolean);
  if (regions.length === 0 || (values.hf === undefined) === (values.gguf === undefined)) {
    throw new Error(usage);
  }
  if (!values.prefix.endsWith('/')) throw new Error(`--prefix must end with "/", got ${values.prefix}`);
  if (values.bucket !== undefined && regions.length > 1)
    throw new Error('--bucket names one bucket: give one --region');

  const sources =
    values.hf !== undefined
      ? await huggingFaceFiles(values.hf, values.revision)
      : [await gguf(values.gguf ?? '')];
  const account = values.bucket === undefined ? await currentAccount(regions[0] ?? 'us-east-1') : undefined;

  for (const region of regions) {
    const bucket = values.bucket ?? modelBucketName(values.stage, account ?? '', region);
    const s3 = new S3Client({ region });
    console.log(`→ s3://${bucket}/${values.prefix} (${region}): ${sources.length} file(s)`);
    for (const source of sources) {
      await stage(s3, bucket, `${values.prefix}${source.name}`, source);
    }
  }
  console.log('Done. Deploy (or update) the inference stacks to load the staged model.');
}

async function currentAccount(region: string): Promise<string> {
  const identity = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
  if (identity.Account === undefined)
    throw new Error('Could not determine the AWS account (check your credentials)');
  return identity.Account;
}

function hfHeaders(): Record<string, string> {
  const token = process.env.HF_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function download(url: string): Promise<Readable> {
  const response = await fetch(url, { headers: hfHeaders(), redirect: 'follow' });
  if (!response.ok || response.body === null) {
    throw new Error(`GET ${url} failed: ${response.status} ${response.statusText}`);
  }
  // fetch's web stream and node:stream/web's are the same object; only their TypeScript types differ.
  return Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
}

interface TreeEntry {
  readonly type: 'file' | 'directory';
  readonly path: string;
  readonly size?: number;
  readonly lfs?: { readonly size: number };
}

async function huggingFaceFiles(repo: string, revision: string): Promise<Source[]> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new Error(`--hf expects <org>/<repo>, got ${repo}`);
  const entries: TreeEntry[] = [];
  let url: string | undefined =
    `${HF}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true&expand=false`;
  while (url !== undefined) {
    const response: Response = await fetch(url, { headers: hfHeaders() });
    if (!response.ok) {
      const hint = response.status === 401 || response.status === 403 ? ' (gated model? set HF_TOKEN)' : '';
      throw new Error(`Listing ${repo}@${revision} failed: ${response.status}${hint}`);
    }
    entries.push(...((await response.json()) as TreeEntry[]));
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  const files = entries.filter(
    (entry) => entry.type === 'file' && HF_FILES.test(entry.path) && !entry.path.startsWith('original/'),
  );
  if (!files.some((file) => file.path.endsWith('.safetensors'))) {
    throw new Error(`${repo}@${revision} has no .safetensors weights: LMI/vLLM needs them`);
  }
  return files.map((file) => ({
    name: file.path,
    size: file.lfs?.size ?? file.size,
    open: () => download(`${HF}/${repo}/resolve/${encodeURIComponent(revision)}/${file.path}`),
  }));
}

async function gguf(location: string): Promise<Source> {
  if (/^https:\/\//.test(location)) {
    const name = basename(new URL(location).pathname);
    if (!name.endsWith('.gguf')) throw new Error(`--gguf URL must name a .gguf file, got ${name}`);
    return { name, size: undefined, open: () => download(location) };
  }
  if (!location.endsWith('.gguf')) throw new Error(`--gguf must be a .gguf file, got ${location}`);
  const { size } = await stat(location);
  return { name: basename(location), size, open: async () => createReadStream(location) };
}

async function stage(s3: S3Client, bucket: string, key: string, source: Source): Promise<void> {
  if (source.size !== undefined) {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (head.ContentLength === source.size) {
        console.log(`  = ${key} (already staged)`);
        return;
      }
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
    }
  }
  const started = Date.now();
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: await source.open() },
    partSize: 64 * 1024 * 1024,
    queueSize: 4,
  });
  let last = 0;
  upload.on('httpUploadProgress', (progress) => {
    const loaded = progress.loaded ?? 0;
    if (loaded - last >= 512 * 1024 * 1024) {
      last = loaded;
      console.log(`    ${key}: ${(loaded / 1e9).toFixed(1)} GB`);
    }
  });
  await upload.done();
  const seconds = (Date.now() - started) / 1000;
  const size = source.size === undefined ? '' : ` ${(source.size / 1e6).toFixed(1)} MB`;
  console.log(`  + ${key}${size} in ${seconds.toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
