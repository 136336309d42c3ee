import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The repository root (packages/testing/src/../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A Node process started by `spawnNode`, with its output and exit. */
export interface NodeProcess {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The file its stdout + stderr go to (`logFile` given), or undefined: output kept in memory. */
  logFile: string | undefined;
  /** Resolves with the exit code, or the signal name when a signal ended it, once its output is complete. */
  exited: Promise<number | string>;
  /** The exit code (or signal name) once it has exited, null while it runs. */
  exitCode(): number | string | null;
  /** Everything it wrote (stdout + stderr). */
  output(): string;
  /** The last lines it wrote, for failure messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal name). */
  stop(graceMs?: number): Promise<number | string>;
}

export interface SpawnNodeOptions {
  /** For messages (default: the entry). */
  name?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /**
   * stdout + stderr written straight to this file (appended; the directory is created), not piped through this
   * process (a load generator must not pay for its servers' logs). Default: piped and kept in memory.
   */
  logFile?: string;
  /** Node options before `--import tsx`, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** A message channel (the child's `process.send`). */
  ipc?: boolean;
  /** Working directory, and what a relative entry is resolved against (default: the repository root). */
  cwd?: string;
}

const TAIL_LINES = 30;

/**
 * Start a TypeScript entry point as its own Node process (`node --import tsx <entry>`). The caller names the entry
 * (an app's main.ts, a bench server, a fixture): this package knows no app.
 */
export function spawnNode(entry: string, opts: SpawnNodeOptions = {}): NodeProcess {
  const cwd = opts.cwd ?? REPO_ROOT;
  const name = opts.name ?? entry;
  let fd: number | undefined;
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    fd = openSync(opts.logFile, 'a');
  }
  const out = fd ?? 'pipe';
  const stdio: StdioOptions = opts.ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out];
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', resolve(cwd, entry)], { cwd, env: { ...process.env, ...opts.env }, stdio });
  if (fd !== undefined) closeSync(fd); // the child holds its own copy
  let mem = '';
  proc.stdout?.on('data', (d: Buffer) => (mem += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (mem += d.toString()));
  proc.once('error', (e) => (mem += `\n[spawn error] ${e.message}\n`));
  let code: number | string | null = null;
  // Piped output: resolve on 'close' (the process exited and its stdout/stderr are read to the end: an exited
  // process's output is complete); written to a file, nothing is in flight: 'exit'.
  const exited = new Promise<number | string>((r) => {
    proc.once('exit', (c, signal) => {
      code = c ?? signal ?? 'unknown';
      if (fd !== undefined) r(code);
    });
    if (fd === undefined) proc.once('close', (c, signal) => r(c ?? signal ?? 'unknown'));
  });
  const output = () => {
    if (!opts.logFile) return mem;
    try {
      return readFileSync(opts.logFile, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    name,
    proc,
    pid: proc.pid ?? -1,
    logFile: opts.logFile,
    exited,
    exitCode: () => code,
    output,
    tail: () => {
      const lines = output().split('\n').filter(Boolean).slice(-TAIL_LINES).map((l) => l.slice(0, 500));
      return `${lines.join('\n')}${opts.logFile ? `\n(full output: ${opts.logFile})` : ''}`;
    },
    async stop(graceMs = 10000) {
      if (code !== null) return code;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/**
 * An app under test as a real process: `spawnNode` with the environment every such test needs on top of `env` —
 * the embedded decision store (an ELASTICSEARCH_URL exported for the Elasticsearch suites in .ci/run must not send
 * these processes' documents to the shared index) and LOG_LEVEL=warn. `entry` is the app's main.ts, named by the
 * caller (tests/apps.ts, or the app's own test).
 */
export function startApp(entry: string, env: Record<string, string>, name: string = entry): NodeProcess {
  return spawnNode(entry, { name, env: { ELASTICSEARCH_URL: '', ELASTICSEARCH_HOST: '', LOG_LEVEL: 'warn', ...env } });
}

/** Throws, with its log tail, if any of `procs` has exited: for `waitFor` checks while processes start. */
export function assertRunning(...procs: NodeProcess[]): void {
  const dead = procs.find((p) => p.exitCode() !== null);
  if (dead) throw new Error(`${dead.name} exited (${dead.exitCode()}); log tail:\n${dead.tail()}`);
}

/**
 * Resolve once GET `url` answers 2xx. `who` is the process that should answer (its exit ends the wait at once, and
 * its log tail is in every error) or just a name for messages.
 */
export async function waitForHttp(url: string, who: NodeProcess | string, timeoutMs = 20000): Promise<void> {
  const proc = typeof who === 'string' ? undefined : who;
  const what = typeof who === 'string' ? who : who.name;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode() !== null) throw new Error(`${what} exited (${proc.exitCode()}) before answering ${url}; log tail:\n${proc.tail()}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms${proc ? `; log tail:\n${proc.tail()}` : ''}`);
}
