/**
 * The local stack's supervisor: starts every component as a child process (one process tree), prefixes their logs,
 * waits until each answers, and stops them all together. `npm start` and the integration tests both use it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type LocalConfig, PORT_VARIABLES } from './config';
import { GENERATED, hasSecondModel, SECOND_MODEL_SEQUENCES } from './models';

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ComponentName =
  | 'emulators'
  | 'issuer'
  | 'inference'
  | 'inference-2'
  | 'sagemaker'
  | 's3'
  | 'api'
  | 'workers'
  | 'web';

export interface LocalStackUrls {
  readonly api: string;
  readonly issuer: string;
  readonly web: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly kinesis: string;
  readonly inference: string;
  /** The second model's inference server, when the stack serves two models (MODEL_2_PATH). */
  readonly inference2?: string;
  readonly sagemaker: string;
  readonly s3: string;
}

/** What every component process is told about the stack (passed as JSON in CHATSTACK_LOCAL). */
export interface StackDescription {
  readonly config: LocalConfig;
  readonly urls: LocalStackUrls;
  readonly modelPath: string;
  readonly modelName: string;
  /** Whether the web app is part of this stack (it is once `web/` exists). */
  readonly webEnabled: boolean;
}

export interface LocalStack {
  readonly urls: LocalStackUrls;
  readonly description: StackDescription;
  /** Resolves when a component exits on its own (a crash): the stack is then stopped. */
  readonly crashed: Promise<{ component: ComponentName; code: number | null }>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Receives every log line of every component. */
  readonly onLog?: (component: ComponentName, line: string) => void;
  /** Extra environment for the inference server (tests use RECORD_REQUESTS=1, MAX_QUEUE…). */
  readonly inferenceEnv?: Readonly<Record<string, string>>;
  /** Extra environment for the handler processes (api, workers). */
  readonly handlerEnv?: Readonly<Record<string, string>>;
  /** How long a component may take to answer. @default 120 s */
  readonly readyTimeoutMs?: number;
}

export class PortInUseError extends Error {}

async function assertPortFree(host: string, port: number, variable: string, what: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    const probe = createServer();
    probe.once('error', () =>
      fail(
        new PortInUseError(`Port ${port} (${what}) is already in use. Set ${variable} to use another port.`),
      ),
    );
    probe.listen(port, host, () => probe.close(() => done()));
  });
}

/** Polls an HTTP URL until `accept(status)` holds, the child exits, or the timeout passes. */
async function waitForHttp(
  url: string,
  accept: (status: number) => boolean,
  timeoutMs: number,
  child: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (accept(res.status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`did not answer ${url} within ${timeoutMs} ms`);
}

export async function startLocalStack(config: LocalConfig, options: StartOptions = {}): Promise<LocalStack> {
  const host = config.HOST;
  const at = (port: number) => `http://${host}:${port}`;
  const ports = {
    api: config.PORT,
    issuer: config.ISSUER_PORT,
    web: config.WEB_PORT,
    dynamodb: config.DYNAMODB_PORT,
    sqs: config.SQS_PORT,
    kinesis: config.KINESIS_PORT,
    inference: config.INFERENCE_PORT,
    inference2: config.INFERENCE_2_PORT,
    sagemaker: config.SAGEMAKER_PORT,
    s3: config.S3_PORT,
  } as const;
  const twoModels = hasSecondModel(config);
  for (const [name, port] of Object.entries(ports) as [keyof typeof ports, number][]) {
    if (name === 'inference2' && !twoModels) continue;
    await assertPortFree(host, port, PORT_VARIABLES[name], name);
  }
  await mkdir(config.dataDir, { recursive: true });

  const { ensureTinyModel, TINY_MODEL_2, TINY_MODEL_2_PATH } = await import(
    '../../gpu-endpoint/scripts/generate-model'
  );
  const modelPath = config.MODEL_PATH ? resolve(config.MODEL_PATH) : await ensureTinyModel();
  const secondModelPath = !twoModels
    ? undefined
    : config.MODEL_2_PATH === GENERATED
      ? await ensureTinyModel(TINY_MODEL_2_PATH, TINY_MODEL_2)
      : resolve(config.MODEL_2_PATH ?? '');
  // llama-server: built once per machine (about 7 minutes on 2 cores), its progress shown as the inference log.
  const { ensureEngine } = await import('../../gpu-endpoint/scripts/build-engine');
  const llamaServer = await ensureEngine({
    onProgress: (line) => (options.onLog ?? (() => undefined))('inference', line),
  });
  const webEnabled = existsSync(join(ROOT_DIR, 'web', 'package.json'));
  if (webEnabled) {
    const { buildWebIfNeeded } = await import('./web-build');
    await buildWebIfNeeded((line) => (options.onLog ?? (() => undefined))('web', line));
  }
  const description: StackDescription = {
    config,
    urls: {
      api: at(ports.api),
      issuer: at(ports.issuer),
      web: at(ports.web),
      dynamodb: at(ports.dynamodb),
      sqs: at(ports.sqs),
      kinesis: at(ports.kinesis),
      inference: at(ports.inference),
      ...(twoModels ? { inference2: at(ports.inference2) } : {}),
      sagemaker: at(ports.sagemaker),
      s3: at(ports.s3),
    },
    modelPath,
    modelName: config.MODEL_PATH
      ? 'local-model'
      : 'chatstack-tiny (generated test model: its text is gibberish)',
    webEnabled,
  };

  const children = new Map<ComponentName, ChildProcess>();
  /** Each component's last lines, quoted when it fails to start (its own words say why). */
  const recent = new Map<ComponentName, string[]>();
  let stopping = false;
  let reportCrash: (value: { component: ComponentName; code: number | null }) => void = () => undefined;
  const crashed = new Promise<{ component: ComponentName; code: number | null }>((done) => {
    reportCrash = done;
  });
  const log = options.onLog ?? (() => undefined);

  const spawnComponent = (
    component: ComponentName,
    args: string[],
    env: Record<string, string>,
    cwd = ROOT_DIR,
  ) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd,
      env: {
        ...process.env,
        // Node 20 is supported locally; the SDK's notice about future releases would repeat in every process.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
        CHATSTACK_LOCAL: JSON.stringify(description),
      },
      // The IPC channel lets a child notice when the supervisor is gone, so nothing is left running.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.set(component, child);
    const lines: string[] = [];
    recent.set(component, lines);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (lines.length > 20) lines.shift();
        log(component, line);
      });
    }
    child.once('exit', (code) => {
      if (!stopping) reportCrash({ component, code });
    });
    return child;
  };

  // Whatever ends this process, its children end with it.
  process.once('exit', () => {
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
  });

  const stop = async () => {
    stopping = true;
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };

  const timeout = options.readyTimeoutMs ?? 120_000;
  const main = join('scripts', 'local', 'main.ts');
  const ready = async (component: ComponentName, url: string, accept: (status: number) => boolean) => {
    const child = children.get(component);
    if (!child) throw new Error(`${component} was not started`);
    try {
      await waitForHttp(url, accept, timeout, child);
    } catch (error) {
      const said = (recent.get(component) ?? []).join('\n');
      throw new Error(`The ${component} component ${(error as Error).message}${said ? `:\n${said}` : ''}`);
    }
  };
  const anyStatus = () => true;

  try {
    spawnComponent('emulators', [main, 'emulators'], {});
    spawnComponent('issuer', [main, 'issuer'], {});
    spawnComponent(
      'inference',
      [join('src', 'main.ts'), 'serve'],
      {
        PORT: String(ports.inference),
        MODEL_PATH: modelPath,
        MODEL_NAME: 'chatstack-local',
        THREADS: String(config.INFERENCE_THREADS),
        SEQUENCES: String(config.INFERENCE_SEQUENCES),
        CONTEXT_SIZE: String(config.INFERENCE_CONTEXT_SIZE),
        LLAMA_SERVER: llamaServer,
        ...options.inferenceEnv,
      },
      join(ROOT_DIR, 'gpu-endpoint'),
    );
    if (secondModelPath !== undefined) {
      // The second model: its own adapter and llama-server, as small as a test needs (threads pinned too).
      spawnComponent(
        'inference-2',
        [join('src', 'main.ts'), 'serve'],
        {
          PORT: String(ports.inference2),
          MODEL_PATH: secondModelPath,
          MODEL_NAME: config.MODEL_2_ID,
          THREADS: String(config.INFERENCE_THREADS),
          SEQUENCES: String(SECOND_MODEL_SEQUENCES),
          CONTEXT_SIZE: String(config.INFERENCE_2_CONTEXT_SIZE),
          LLAMA_SERVER: llamaServer,
          ...options.inferenceEnv,
        },
        join(ROOT_DIR, 'gpu-endpoint'),
      );
    }
    spawnComponent('sagemaker', [main, 'sagemaker'], {});
    if (webEnabled) spawnComponent('web', [main, 'web'], {});
    await Promise.all([
      ready('emulators', description.urls.kinesis, anyStatus),
      ready('issuer', `${description.urls.issuer}/.well-known/openid-configuration`, (s) => s === 200),
    ]);
    const handlerEnv = { CHATSTACK_HANDLER_ENV: JSON.stringify(options.handlerEnv ?? {}) };
    // The files bucket sends its events to a queue, so it starts once SQS answers.
    spawnComponent('s3', [main, 's3'], {});
    spawnComponent('api', [main, 'api'], handlerEnv);
    spawnComponent('workers', [main, 'workers'], handlerEnv);
    await Promise.all([
      ready('inference', `${description.urls.inference}/ping`, (s) => s === 200),
      description.urls.inference2 === undefined
        ? Promise.resolve()
        : ready('inference-2', `${description.urls.inference2}/ping`, (s) => s === 200),
      ready('sagemaker', description.urls.sagemaker, anyStatus),
      ready('s3', description.urls.s3, anyStatus),
      ready('api', `${description.urls.api}/health`, anyStatus),
      webEnabled ? ready('web', description.urls.web, (s) => s === 200) : Promise.resolve(),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }

  return { urls: description.urls, description, crashed, stop };
}
