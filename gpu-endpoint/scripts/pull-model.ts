/**
 * Downloads a real small chat model (GGUF) for people with internet access, with a progress bar.
 *
 *   npm run model:pull -w gpu-endpoint [-- --uri hf:<user>/<repo>/<file.gguf>] [--dir <directory>]
 *
 * Then serve it: MODEL_PATH=gpu-endpoint/models/<file.gguf> npm run serve -w gpu-endpoint
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createModelDownloader } from 'node-llama-cpp';

/** SmolLM2-360M-Instruct, Q8_0 (≈386 MB), from the model authors' GGUF repository. */
export const DEFAULT_MODEL_URI =
  'hf:HuggingFaceTB/SmolLM2-360M-Instruct-GGUF/smollm2-360m-instruct-q8_0.gguf';

const { values } = parseArgs({
  options: {
    uri: { type: 'string', default: DEFAULT_MODEL_URI },
    dir: { type: 'string', default: resolve(dirname(fileURLToPath(import.meta.url)), '..', 'models') },
  },
});

async function main(): Promise<void> {
  const modelUri = values.uri ?? DEFAULT_MODEL_URI;
  const dirPath = resolve(values.dir ?? '.');
  if (modelUri.startsWith('hf:')) {
    // Fail fast offline: the downloader would otherwise keep retrying for minutes.
    await fetch('https://huggingface.co', { method: 'HEAD', signal: AbortSignal.timeout(10_000) }).catch(
      () => {
        throw new Error('huggingface.co is not reachable within 10 s');
      },
    );
  }
  console.log(`Downloading ${modelUri} to ${dirPath}`);
  const downloader = await createModelDownloader({
    modelUri,
    dirPath,
    showCliProgress: true,
    skipExisting: true,
  });
  const modelPath = await downloader.download();
  console.log(`\nModel ready: ${modelPath}`);
  console.log(`Serve it with: MODEL_PATH=${modelPath} npm run serve -w gpu-endpoint`);
}

main().catch((err: unknown) => {
  const reason = err instanceof Error ? err.message : String(err);
  console.error(
    `\nCould not download ${values.uri}: ${reason}\n` +
      'This needs internet access to huggingface.co. Without it, use the generated test model instead:\n' +
      '  npm run model:generate -w gpu-endpoint   (writes gpu-endpoint/models/tiny-chat.gguf)',
  );
  process.exit(1);
});
