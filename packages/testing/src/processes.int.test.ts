import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cleanup } from './cleanup';
import { freePort } from './ports';
import { assertRunning, spawnNode, waitForHttp } from './processes';
import { waitFor } from './wait';

const dir = mkdtempSync(join(tmpdir(), 'ivr-testing-'));
/** A fixture entry written at run time: prints, optionally serves HTTP on PORT, exits with EXIT_CODE when set. */
const entry = join(dir, 'fixture.ts');
writeFileSync(
  entry,
  `import { createServer } from 'node:http';
console.log('hello ' + process.env.WHO);
console.error('on stderr');
if (process.env.EXIT_CODE) process.exit(Number(process.env.EXIT_CODE));
if (process.env.PORT) createServer((_q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { console.log('terminated'); process.exit(0); });
setInterval(() => undefined, 1000);
`,
);

describe('spawnNode, waitForHttp, assertRunning, Cleanup', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('output kept in memory; stop() sends SIGTERM and resolves with the exit code', async () => {
    const p = spawnNode(entry, { name: 'fixture', env: { WHO: 'memory' } });
    await waitFor(() => p.output().includes('on stderr') && p.output().includes('hello memory'), 'both streams captured', 20000);
    expect(p.exitCode()).toBeNull();
    expect(await p.stop()).toBe(0);
    expect(p.output()).toContain('terminated');
    expect(p.logFile).toBeUndefined();
  });

  it('output written to a log file; exited and exitCode() give the exit code', async () => {
    const logFile = join(dir, 'logs', 'exit.log');
    const p = spawnNode(entry, { name: 'exiting', env: { WHO: 'file', EXIT_CODE: '3' }, logFile });
    expect(await p.exited).toBe(3);
    expect(p.exitCode()).toBe(3);
    expect(readFileSync(logFile, 'utf8')).toMatch(/hello file\n[\s\S]*on stderr/);
    expect(p.tail()).toContain(`(full output: ${logFile})`);
    expect(() => assertRunning(p)).toThrow(/^exiting exited \(3\); log tail:\nhello file/);
  });

  it('waitForHttp: resolves on a 2xx; a process that exits ends the wait at once with its log tail', async () => {
    const port = await freePort();
    const up = spawnNode(entry, { name: 'server', env: { WHO: 'http', PORT: String(port) } });
    const cleanup = new Cleanup();
    cleanup.add('stop the server', () => up.stop());
    try {
      await waitForHttp(`http://127.0.0.1:${port}/`, up);
      const dead = spawnNode(entry, { name: 'dead', env: { WHO: 'dead', EXIT_CODE: '2' } });
      // Not "did not answer ... within": the exit ended the wait, not the deadline.
      await expect(waitForHttp(`http://127.0.0.1:${await freePort()}/`, dead, 600_000)).rejects.toThrow(/^dead exited \(2\) before answering .*; log tail:\nhello dead/);
    } finally {
      await cleanup.run();
    }
    expect(up.exitCode()).toBe(0);
  });

  it('Cleanup runs every step in reverse order even when one throws', async () => {
    const ran: string[] = [];
    const c = new Cleanup();
    c.add('a', () => ran.push('a'));
    c.add('b', () => {
      throw new Error('b failed');
    });
    c.add('c', async () => void ran.push('c'));
    await c.run();
    expect(ran).toEqual(['c', 'a']);
    await c.run(); // steps run once
    expect(ran).toEqual(['c', 'a']);
  });
});
