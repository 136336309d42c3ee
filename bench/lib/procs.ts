import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Children write their output to files here (not through a pipe into the load generator's process). */
export const LOG_DIR = mkdtempSync(join(tmpdir(), 'ivr-bench-'));

export { freePort } from '@ivr/testing';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** The last lines the process wrote (for error messages). */
  tail(): string;
  stop(): Promise<void>;
}

function logFile(name: string): { path: string; fd: number } {
  const path = join(LOG_DIR, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
  return { path, fd: openSync(path, 'a') };
}

function track(name: string, proc: ChildProcess, log: { path: string; fd: number }): Child {
  closeSync(log.fd); // the child holds its own copy
  return {
    name,
    proc,
    tail: () => {
      try {
        const text = readFileSync(log.path, 'utf8');
        return `${text.split('\n').filter(Boolean).slice(-30).map((l) => l.slice(0, 500)).join('\n')}\n(full output: ${log.path})`;
      } catch {
        return `(no output in ${log.path})`;
      }
    },
    stop: () =>
      new Promise<void>((res) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return res();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(kill);
          res();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/**
 * Run a TypeScript entry point as its own Node process (`node --import tsx`), output captured.
 * `ipc` gives the child a message channel (process.send). `nodeArgs` e.g. `--cpu-prof`.
 */
export function runTs(name: string, entry: string, env: Record<string, string>, opts: { ipc?: boolean; nodeArgs?: string[] } = {}): Child {
  const args = [...(opts.nodeArgs ?? []), '--import', 'tsx'];
  const common = { cwd: ROOT, env: { ...process.env, ...env } };
  const log = logFile(name);
  const proc = opts.ipc
    ? fork(resolve(ROOT, entry), [], { ...common, execArgv: args, stdio: ['ignore', log.fd, log.fd, 'ipc'] })
    : spawn(process.execPath, [...args, resolve(ROOT, entry)], { ...common, stdio: ['ignore', log.fd, log.fd] });
  return track(name, proc, log);
}

/** Spawn any binary (redis-server). */
export function runBin(name: string, bin: string, args: string[]): Child {
  const log = logFile(name);
  return track(name, spawn(bin, args, { stdio: ['ignore', log.fd, log.fd] }), log);
}

/** Poll `url` until it answers 2xx; rejects with the child's last output after `timeoutMs`. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited with code ${child.proc.exitCode} before answering ${url}:\n${child.tail()}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.tail()}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One request/response over the child's IPC channel. */
export function ask<T>(child: Child, msg: { type: string; [k: string]: unknown }, timeoutMs = 15_000): Promise<T> {
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
export function waitReady(child: Child, timeoutMs = 30_000): Promise<void> {
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
