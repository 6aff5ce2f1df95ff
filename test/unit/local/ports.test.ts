import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimPort, freePorts, freeStackPorts } from '../../../scripts/local/ports';

const CLAIMS = join(tmpdir(), 'chatstack-ports');

describe('free ports for local stacks', () => {
  it('come from below every OS ephemeral range, so no outgoing connection can take one before it is bound', async () => {
    const ports = Object.values(await freeStackPorts()).map(Number);
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
  });

  it('are never handed out twice while their claimer lives, in this process or another', async () => {
    const mine = await freePorts(50);
    const again = await freePorts(50);
    expect(again.filter((port) => mine.includes(port))).toEqual([]);

    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./scripts/local/ports.ts').then(async (m) => console.log(JSON.stringify(await m.freePorts(50))))",
      ],
      { encoding: 'utf8' },
    );
    const theirs = JSON.parse(child.stdout) as number[];
    expect(theirs).toHaveLength(50);
    expect(theirs.filter((port) => mine.includes(port) || again.includes(port))).toEqual([]);
  });

  it('take over a claim whose process is gone, and leave one whose process lives', async () => {
    const [port = 0] = await freePorts(1);
    writeFileSync(join(CLAIMS, String(port)), JSON.stringify({ pid: process.ppid, at: Date.now() }));
    expect(claimPort(port)).toBe(false);
    writeFileSync(join(CLAIMS, String(port)), JSON.stringify({ pid: 2 ** 30, at: Date.now() }));
    expect(claimPort(port)).toBe(true);
  });
});
