/**
 * Bundles one Lambda handler exactly as lib/constructs/app-function.ts has the CDK bundle it (esbuild, minified ESM
 * for Node.js 22, `@aws-sdk/*` left to the runtime), for the benchmarks that time a function's cold start.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LambdaBundle {
  readonly outfile: string;
  readonly bytes: number;
  /** The bundle's own output entry in the metafile (inputs, imports). */
  readonly output: Metafile['outputs'][string] | undefined;
}

export async function bundleLambda(functionName: string): Promise<LambdaBundle> {
  const outDir = join(ROOT, 'node_modules', '.cache', 'chatstack-bench');
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, `${functionName}.mjs`);
  const result = await build({
    entryPoints: [join(ROOT, 'lambdas', functionName, 'handler.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    sourcemap: 'external',
    outfile,
    external: ['@aws-sdk/*'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: 'error',
  });
  const output = Object.values(result.metafile.outputs).find((entry) => entry.entryPoint !== undefined);
  return { outfile, bytes: (await stat(outfile)).size, output };
}
