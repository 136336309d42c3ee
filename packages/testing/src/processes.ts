import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The repository root (packages/testing/src/../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface AppProcess {
  name: string;
  proc: ChildProcess;
  /** Everything the process wrote (stdout + stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Start `apps/<app>/src/main.ts` as a real process (`node --import tsx`), with `env` added to ours. The decision
 * store is the embedded one unless `env` names an Elasticsearch: an ELASTICSEARCH_URL exported for the Elasticsearch
 * suites (.ci/run) must not send these processes' documents to the shared `genesys_flow_decisions` index.
 */
export function startApp(app: 'receiver' | 'worker' | 'dashboard' | 'genesys-sim', env: Record<string, string>, name: string = app): AppProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, `apps/${app}/src/main.ts`)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ELASTICSEARCH_URL: '', ELASTICSEARCH_HOST: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => proc.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  return {
    name,
    proc,
    output: () => out,
    exited,
    async stop(graceMs = 10000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolveP(port));
    });
  });
}
