/**
 * `npm start` as a person runs it: the banner appears, /health reports every component, and Ctrl-C stops the whole
 * process tree, freeing every port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORT_VARIABLES as PORT_VARIABLE_NAMES } from '../../../scripts/local/config';
import type { HealthReport } from '../../../scripts/local/health';
import { freePort, freeStackPorts } from '../../../scripts/local/ports';
import { ROOT_DIR } from '../../../scripts/local/stack';

const PORT_VARIABLES = Object.values(PORT_VARIABLE_NAMES);

let dataDir: string;
let ports: Record<string, string>;
let child: ChildProcess;
let output = '';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Processes whose environment mentions this run's data directory: the stack's process tree. */
async function processesOfThisStack(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (environ.includes(dataDir)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chatstack-start-'));
  ports = await freeStackPorts();
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...ports, DATA_DIR: dataDir, DYNAMODB_STORAGE: 'memory' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes('chatstack is running')) resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}, 240_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints a banner listing the URLs', () => {
    expect(output).toContain(`http://127.0.0.1:${ports.PORT}/v1`);
    expect(output).toContain(`http://127.0.0.1:${ports.ISSUER_PORT}`);
    expect(output).toContain(`http://127.0.0.1:${ports.INFERENCE_PORT}`);
  });

  it('prefixes every component log line with its name', () => {
    expect(output).toMatch(/^inference\s*│ /m);
  });

  it('reports every component up at /health, with the URLs tools need', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.PORT}/health`);
    const health = (await res.json()) as HealthReport;
    expect(res.status).toBe(200);
    expect(health.status).toBe('ok');
    for (const name of ['api', 'issuer', 'dynamodb', 'sqs', 'kinesis', 's3', 'inference', 'web']) {
      expect(health.components[name]?.status, name).toBe('ok');
    }
    expect(health.components.inference?.url).toBe(`http://127.0.0.1:${ports.INFERENCE_PORT}`);
    const ping = await fetch(`${health.components.inference?.url}/ping`);
    expect(ping.status).toBe(200);
  });

  it('stops every process and frees every port on Ctrl-C', async () => {
    expect((await processesOfThisStack()).length).toBeGreaterThan(3);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await processesOfThisStack()).toEqual([]);
    for (const name of PORT_VARIABLES) expect(await portIsFree(Number(ports[name])), name).toBe(true);
  });

  it('names the port and the variable when a port is taken', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
    try {
      const run = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        cwd: ROOT_DIR,
        env: { ...process.env, ...ports, ISSUER_PORT: String(port), DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      run.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      run.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
      expect(code).toBe(1);
      expect(text).toContain(`Port ${port} (issuer) is already in use. Set ISSUER_PORT to use another port.`);
    } finally {
      blocker.close();
    }
  });
});
