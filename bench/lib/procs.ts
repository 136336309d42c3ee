import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNode, type NodeProcess } from '@ivr/testing';

/** Children write their output to files here (not through a pipe into the load generator's process). */
export const LOG_DIR = mkdtempSync(join(tmpdir(), 'ivr-bench-'));

/**
 * Run a TypeScript entry point (repository-relative) as its own Node process, output in LOG_DIR/<name>.log.
 * `ipc` gives the child a message channel (process.send). `nodeArgs` e.g. `--cpu-prof`.
 */
export function runTs(name: string, entry: string, env: Record<string, string>, opts: { ipc?: boolean; nodeArgs?: string[]; cwd?: string } = {}): NodeProcess {
  return spawnNode(entry, { name, env, logFile: join(LOG_DIR, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`), ...opts });
}

/** One request/response over the child's IPC channel. */
export function ask<T>(child: NodeProcess, msg: { type: string; [k: string]: unknown }, timeoutMs = 15_000): Promise<T> {
  return new Promise((res, rej) => {
    const id = Math.random().toString(36).slice(2);
    const timer = setTimeout(() => {
      child.proc.off('message', onMsg);
      rej(new Error(`${child.name} did not answer ${msg.type} within ${timeoutMs} ms:\n${child.tail()}`));
    }, timeoutMs);
    const onMsg = (m: unknown) => {
      const r = m as { id?: string; ok?: boolean; value?: T; error?: string };
      if (r.id !== id) return;
      clearTimeout(timer);
      child.proc.off('message', onMsg);
      if (r.ok) res(r.value as T);
      else rej(new Error(`${child.name}: ${msg.type} failed: ${r.error}`));
    };
    child.proc.on('message', onMsg);
    child.proc.send({ ...msg, id });
  });
}

/** Inside a forked child: answer `ask` messages with `handlers[type]()`. */
export function serveIpc(handlers: Record<string, (msg: Record<string, unknown>) => unknown>): void {
  process.on('message', (m: unknown) => {
    const msg = m as { id: string; type: string };
    const h = handlers[msg.type];
    Promise.resolve()
      .then(() => {
        if (!h) throw new Error(`unknown message ${msg.type}`);
        return h(msg as unknown as Record<string, unknown>);
      })
      .then(
        (value) => process.send?.({ id: msg.id, ok: true, value }),
        (err: Error) => process.send?.({ id: msg.id, ok: false, error: err.message }),
      );
  });
}

/** Resolve when a forked child sends `{ ready: true }`; reject with its output if it exits or times out. */
export function waitReady(child: NodeProcess, timeoutMs = 30_000): Promise<void> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => done(new Error(`${child.name} not ready within ${timeoutMs} ms:\n${child.tail()}`)), timeoutMs);
    const onMsg = (m: unknown) => {
      if ((m as { ready?: boolean }).ready) done();
    };
    const onExit = (code: number | null) => done(new Error(`${child.name} exited (${code}) before it was ready:\n${child.tail()}`));
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.proc.off('message', onMsg);
      child.proc.off('exit', onExit);
      if (err) rej(err);
      else res();
    };
    child.proc.on('message', onMsg);
    child.proc.once('exit', onExit);
  });
}
