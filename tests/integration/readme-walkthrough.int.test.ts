/**
 * The README's "send a webhook yourself" walkthrough, run as written against the system on `pnpm start`'s defaults
 * (simulator, receiver, workers, embedded store; the target queue seeded as scripts/start.ts seeds it): every
 * `curl` is sent with its method, headers and body, every `sleep` is honoured, `pnpm ivr failed` is run, and each
 * `# -> ` line is checked against the answer (the status, then every literal piece between the `…`, in order).
 * A README edit that no longer works, or a behaviour change the README does not follow, fails here.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@ivr/testing';
import { startPipeline, type Pipeline } from './pipeline-harness';

const run = promisify(execFile);

interface Step {
  command: string;
  expect?: string;
}

/** The walkthrough block: commands (continuation lines joined) and the `# -> ` lines after each. */
function walkthrough(): Step[] {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
  const at = readme.indexOf('readme-walkthrough.int.test.ts');
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  if (at < 0 || !block) throw new Error('README: the walkthrough block after "readme-walkthrough.int.test.ts" is missing');
  const steps: Step[] = [];
  let pending = '';
  let inExpect = false;
  for (const line of block.split('\n')) {
    if (pending) {
      pending += ` ${line.trim()}`;
    } else if (line.startsWith('# -> ')) {
      const last = steps[steps.length - 1]!;
      last.expect = line.slice(5).trim();
      inExpect = true;
      continue;
    } else if (inExpect && /^#\s{2,}/.test(line)) {
      steps[steps.length - 1]!.expect += `…${line.replace(/^#\s+/, '')}`;
      continue;
    } else {
      inExpect = false;
      if (line.startsWith('#') || !line.trim()) continue;
      pending = line.trim();
    }
    if (pending.endsWith('\\')) {
      pending = pending.slice(0, -1).trim();
      continue;
    }
    steps.push({ command: pending.replace(/\s+#.*$/, '') });
    pending = '';
  }
  return steps;
}

/** Shell words: plain words and '…' single-quoted strings (all the walkthrough uses). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Checks an answer against a `# -> ` line: leading status (if any), then each literal piece in order. */
function expectMatches(expected: string, status: number | undefined, text: string): void {
  const m = /^(\d{3}) (.*)$/.exec(expected);
  if (m && status !== undefined) expect(status, `status for: ${expected}`).toBe(Number(m[1]));
  let from = 0;
  for (const piece of (m ? m[2]! : expected).split('…').map((p) => p.trim()).filter(Boolean)) {
    const i = text.indexOf(piece, from);
    expect(i, `"${piece}" (of "${expected}") in the answer after position ${from}: ${text}`).toBeGreaterThanOrEqual(0);
    from = i + piece.length;
  }
}

describe("README walkthrough, word for word, on pnpm start's defaults", () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ OCCUPANCY_CACHE_MS: '1000', APPLY_BACKOFF_MS: '1000' });
    // What scripts/start.ts does when it starts the simulator.
    await p.sim.control.setQueue(p.config.TARGET_QUEUE_ID, { idle: p.config.OCCUPANCY_THRESHOLD + 1, interacting: 4, waiting: 1 });
  });
  afterAll(() => p.close());

  it('every command answers what the README says', async () => {
    const steps = walkthrough();
    expect(steps.map((s) => words(s.command)[0])).toEqual(['curl', 'curl', 'sleep', 'curl', 'curl', 'sleep', 'curl', 'curl', 'curl', 'sleep', 'pnpm']);
    for (const step of steps) {
      const argv = words(step.command);
      if (argv[0] === 'sleep') {
        await new Promise((r) => setTimeout(r, Number(argv[1]) * 1000)); // the user's pacing, as documented
        continue;
      }
      if (argv[0] === 'pnpm') {
        expect(argv.slice(1, 3)).toEqual(['ivr', 'failed']);
        const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/ivr.ts', ...argv.slice(2)], {
          cwd: REPO_ROOT,
          env: { ...process.env, REDIS_URL: p.config.REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: 'silent' },
        });
        if (step.expect) expectMatches(step.expect, undefined, stdout);
        continue;
      }
      let method = 'GET';
      let url = '';
      let body: string | undefined;
      const headers: Record<string, string> = {};
      for (let i = 1; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === '-s') continue;
        if (a === '-X') method = argv[++i]!;
        else if (a === '-H') {
          const [k, ...v] = argv[++i]!.split(':');
          headers[k!.trim().toLowerCase()] = v.join(':').trim();
        } else if (a === '-d') {
          body = argv[++i]!;
          if (method === 'GET') method = 'POST';
        } else url = a;
      }
      const target = url.replace(/^localhost:3000/, p.receiver.url).replace(/^localhost:4010/, p.sim.url);
      expect(target, `a README host we know: ${url}`).toMatch(/^http:\/\//);
      const res = await fetch(target, { method, headers, body });
      const text = await res.text();
      if (step.expect) expectMatches(step.expect, res.status, text);
      else expect(res.status, `${step.command} -> ${text}`).toBeLessThan(300);
    }
  }, 60_000);
});
