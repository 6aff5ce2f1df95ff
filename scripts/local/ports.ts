/**
 * Free loopback ports for local stacks started by tests and benchmarks.
 *
 * A port chosen here is bound later by another process (a component starts seconds after it was chosen). Two
 * things could take it in between, and both did: the kernel, which hands ports of its ephemeral range to outgoing
 * connections and to `listen(0)`, and another stack choosing at the same moment in another process. So ports
 * come from below the ephemeral range (Linux: 32768–60999, macOS/Windows: 49152–65535), where the kernel never
 * assigns one by itself, and each is claimed with an exclusive file that other processes respect.
 */
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT_VARIABLES } from './config';

const FIRST_PORT = 20_000;
const LAST_PORT = 32_767;
const CLAIMS_DIR = join(tmpdir(), 'chatstack-ports');
/** A claim only has to outlive the wait until its component binds the port; after that, binding is the lock. */
const CLAIM_TTL_MS = 15 * 60_000;

/** Asks for one free loopback port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}

/** `count` distinct loopback ports that are free now and claimed against every other caller on this machine. */
export async function freePorts(count: number): Promise<number[]> {
  mkdirSync(CLAIMS_DIR, { recursive: true });
  const span = LAST_PORT - FIRST_PORT + 1;
  const start = Math.floor(Math.random() * span);
  const ports: number[] = [];
  for (let i = 0; i < span && ports.length < count; i++) {
    const port = FIRST_PORT + ((start + i) % span);
    if (!claimPort(port)) continue;
    if (await canBind(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`only ${ports.length} of ${count} ports are free`);
  return ports;
}

/** Free ports for every component of a local stack, as the environment variables that set them. */
export async function freeStackPorts(): Promise<Record<string, string>> {
  const names = Object.values(PORT_VARIABLES);
  const ports = await freePorts(names.length);
  return Object.fromEntries(names.map((name, i) => [name, String(ports[i])]));
}

/** Creates the port's claim file exclusively; a claim of a dead process or an expired one is taken over. */
export function claimPort(port: number): boolean {
  const file = join(CLAIMS_DIR, String(port));
  const record = JSON.stringify({ pid: process.pid, at: Date.now() });
  try {
    writeFileSync(file, record, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (!isStale(file)) return false;
  try {
    unlinkSync(file);
    writeFileSync(file, record, { flag: 'wx' });
    return true;
  } catch {
    return false; // another process took it over first
  }
}

function isStale(file: string): boolean {
  try {
    const { pid, at } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; at: number };
    return Date.now() - at > CLAIM_TTL_MS || !isAlive(pid);
  } catch {
    // Empty or cut short: being written this instant, or by a process that died mid-write.
    try {
      return Date.now() - statSync(file).mtimeMs > 60_000;
    } catch {
      return false;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether nothing listens on the port now (something started by hand may, claims or not). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
