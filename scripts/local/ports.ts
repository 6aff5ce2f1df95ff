/** Free loopback ports for local stacks started by tests and benchmarks. */
import { createServer, type Server } from 'node:net';
import { PORT_VARIABLES } from './config';

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}

/** Asks the OS for `count` distinct free loopback ports, holding them all until every one is known. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** Free ports for every component of a local stack, as the environment variables that set them. */
export async function freeStackPorts(): Promise<Record<string, string>> {
  const names = Object.values(PORT_VARIABLES);
  const ports = await freePorts(names.length);
  return Object.fromEntries(names.map((name, i) => [name, String(ports[i])]));
}
