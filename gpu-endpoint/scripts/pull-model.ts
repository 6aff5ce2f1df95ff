/**
 * Downloads a real small chat model (GGUF) for people with internet access, with progress.
 *
 *   npm run model:pull -w gpu-endpoint [-- --repo <user>/<repo> --file <file.gguf>] [--dir <directory>]
 *
 * Then serve it: MODEL_PATH=gpu-endpoint/models/<file.gguf> npm run serve -w gpu-endpoint
 */

import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** SmolLM2-360M-Instruct, Q8_0 (≈386 MB), from the model authors' GGUF repository. */
const DEFAULT_REPO = 'HuggingFaceTB/SmolLM2-360M-Instruct-GGUF';
const DEFAULT_FILE = 'smollm2-360m-instruct-q8_0.gguf';

const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: DEFAULT_REPO },
    file: { type: 'string', default: DEFAULT_FILE },
    dir: { type: 'string', default: resolve(dirname(fileURLToPath(import.meta.url)), '..', 'models') },
  },
});

async function main(): Promise<void> {
  const repo = values.repo ?? DEFAULT_REPO;
  const file = values.file ?? DEFAULT_FILE;
  const target = join(resolve(values.dir ?? '.'), file);
  if (existsSync(target)) {
    console.log(`Model ready: ${target}`);
    return;
  }
  const url = `https://huggingface.co/${repo}/resolve/main/${file}`;
  console.log(`Downloading ${url}`);
  const response = await fetch(url, { signal: AbortSignal.timeout(30 * 60_000) });
  if (!response.ok || response.body === null) throw new Error(`${url} answered ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let received = 0;
  let shown = -1;
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.part`;
  const out = createWriteStream(temp);
  for await (const chunk of response.body) {
    received += chunk.byteLength;
    const percent = total > 0 ? Math.floor((received / total) * 100) : -1;
    if (percent !== shown) {
      shown = percent;
      process.stdout.write(`\r${(received / 1e6).toFixed(0)} MB${percent >= 0 ? ` (${percent}%)` : ''}`);
    }
    if (!out.write(chunk)) await once(out, 'drain');
  }
  await new Promise<void>((done, fail) => {
    out.once('error', fail);
    out.end(done);
  });
  await rename(temp, target);
  console.log(`\nModel ready: ${target}`);
  console.log(`Serve it with: MODEL_PATH=${target} npm run serve -w gpu-endpoint`);
}

main().catch((err: unknown) => {
  const reason = err instanceof Error ? err.message : String(err);
  console.error(
    `\nCould not download the model: ${reason}\n` +
      'This needs internet access to huggingface.co. Without it, use the generated test model instead:\n' +
      '  npm run model:generate -w gpu-endpoint   (writes gpu-endpoint/models/tiny-chat.gguf)',
  );
  process.exit(1);
});
