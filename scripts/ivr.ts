/**
 * `pnpm ivr <command>`: operator commands (docs/operations.md).
 *   replay <file.ndjson> [--rate N] [--url U] [--concurrency N] [--new-keys]   send a recording to a running receiver
 *   replay <file.ndjson> --what-if [--threshold N] [--max-wait S|none | --max-wait-policy F] [--prefix P]  recompute offline
 *   failed [--queue q] [--limit n] [--json]                                    list failed jobs with reasons
 *   retry --all | <jobId> [--queue q]                                          retry failed jobs (--all: the retryable ones)
 * Every command answers --help (exit 0). Reads REDIS_URL, QUEUE_PREFIX, RECEIVER_PORT (replay's default --url),
 * WEBHOOK_SECRET, WEBHOOK_TOKEN from the environment (as the apps do).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseRoutingPolicy } from '@ivr/core';
import { loadConfig, loadConfigSubset, ConfigError, type Config } from '@ivr/config';
import { createQueues, ALL_QUEUES } from '@ivr/queue-contract';
import { createRedis, waitForRedis } from '@ivr/redis';
import {
  formatFailed,
  formatReplaySummary,
  formatWhatIf,
  listFailed,
  loadObservedDecisions,
  progressPrinter,
  readRecording,
  replay,
  retryRetryableFailed,
  retryFailedJob,
  selectQueues,
  whatIf,
  type WhatIfAlternative,
} from '@ivr/ops';

const HELP = {
  replay: `  replay <file.ndjson> [--url http://127.0.0.1:$RECEIVER_PORT] [--rate N] [--concurrency N] [--new-keys]
      Send a recording (RECORD_PATH of a receiver, or reports/demo-recording.ndjson from pnpm demo) to a running
      receiver (default --url: http://127.0.0.1:RECEIVER_PORT, 3000 when unset). --rate N = requests per second
      (default: as fast as --concurrency, 16, allows). Keys are kept, so a receiver that has seen them answers
      200 duplicate; --new-keys replays them as new events.
  replay <file.ndjson> --what-if [--threshold N] [--max-wait S|none | --max-wait-policy FILE] [--prefix P]
      Offline: recompute every recorded decision with threshold N and/or another maxEstimatedWaitS, from the
      occupancy and estimated wait it stored; print how many calls would change route and a DTMF x (old->new) table.
      --max-wait S: S seconds for every call (none: no wait rule); --max-wait-policy FILE: per digit, a routing policy
      file (ROUTING_POLICY_FILE's shape; a digit without maxEstimatedWaitS inherits the default's). Decisions that
      would need a wait figure they did not store are kept and counted as "no figure". Decisions are read from Redis
      ({prefix}:ivr:decision:{key}), prefix = --prefix, else the one recorded on each line, else QUEUE_PREFIX.`,
  failed: `  failed [--queue q] [--limit n] [--json]
      List failed jobs under QUEUE_PREFIX (newest first, default 20 per queue) with reason and attempts.
      --json prints one JSON object: {"prefix", "counts": {queue: n}, "jobs": [{queue, jobId, attemptsMade, ...}]}.`,
  retry: `  retry --all [--queue q]  |  retry <jobId> [--queue q]
      Put failed jobs under QUEUE_PREFIX back to wait. --all retries the retryable ones only: a Genesys 400/403/404
      (bad request, OAuth role, call ended) would be refused again and stays failed; retry one by its id if you mean it.`,
} as const;
type Command = keyof typeof HELP;

const FOOTER = `  queues: ${ALL_QUEUES.join(', ')}
  env: REDIS_URL, QUEUE_PREFIX (default ivr), RECEIVER_PORT (replay's default --url),
       WEBHOOK_SECRET / WEBHOOK_TOKEN (replay signs or sends the token)`;
const USAGE = `usage: pnpm ivr <command> [options]   (pnpm ivr <command> --help for one command)

${Object.values(HELP).join('\n')}

${FOOTER}`;
const usageOf = (c: Command) => `usage: pnpm ivr ${c} [options]\n\n${HELP[c]}\n\n${FOOTER}`;

/** `--help`/`-h` anywhere in a command's arguments: print its usage and exit 0, before any other check. */
function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

class UsageError extends Error {}

function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (e) {
    throw new UsageError(e instanceof ConfigError ? e.message : String(e));
  }
}

/** The receiver's webhook authentication, read the way the receiver reads it (only these two variables). */
function webhookAuth(): { webhookSecret: string | undefined; webhookToken: string | undefined } {
  try {
    const c = loadConfigSubset(['WEBHOOK_SECRET', 'WEBHOOK_TOKEN']);
    return { webhookSecret: c.WEBHOOK_SECRET, webhookToken: c.WEBHOOK_TOKEN };
  } catch (e) {
    throw new UsageError(e instanceof ConfigError ? e.message : String(e));
  }
}

function positiveNumber(v: string | undefined, name: string, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${JSON.stringify(v)})`);
  return n;
}

async function withQueues<T>(cfg: Config, fn: (all: ReturnType<typeof createQueues>) => Promise<T>): Promise<T> {
  const conn = createRedis(cfg.REDIS_URL, 'client');
  conn.on('error', () => undefined); // reported by waitForRedis below
  try {
    await waitForRedis(conn, 5000);
    const queues = createQueues(conn, cfg.QUEUE_PREFIX, { applyAttempts: cfg.APPLY_ATTEMPTS, applyBackoffMs: cfg.APPLY_BACKOFF_MS });
    try {
      return await fn(queues);
    } finally {
      await queues.close();
    }
  } finally {
    conn.disconnect();
  }
}

/** The what-if's alternative from --threshold, --max-wait and --max-wait-policy (at least one). */
async function whatIfAlternative(values: { threshold?: string | undefined; 'max-wait'?: string | undefined; 'max-wait-policy'?: string | undefined }): Promise<WhatIfAlternative> {
  const { threshold: t, 'max-wait': maxWait, 'max-wait-policy': policyFile } = values;
  if (t === undefined && maxWait === undefined && policyFile === undefined) {
    throw new UsageError('--what-if needs --threshold N (idle agents needed for route_to_queue) and/or --max-wait S | --max-wait-policy FILE');
  }
  if (maxWait !== undefined && policyFile !== undefined) throw new UsageError('give --max-wait or --max-wait-policy, not both');
  const alt: WhatIfAlternative = {};
  if (t !== undefined) {
    alt.threshold = positiveNumber(t, 'threshold', true)!;
    if (!Number.isInteger(alt.threshold)) throw new UsageError(`--threshold must be a whole number of agents (got ${t})`);
  }
  if (maxWait !== undefined) {
    const s = maxWait === 'none' ? null : positiveNumber(maxWait, 'max-wait', true)!;
    if (s !== null && !Number.isInteger(s)) throw new UsageError(`--max-wait must be whole seconds or none (got ${maxWait})`);
    alt.maxWait = { global: s };
  }
  if (policyFile !== undefined) {
    const text = await readFile(policyFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`--max-wait-policy: cannot read ${policyFile} (${e.code ?? e.message})`);
    });
    try {
      alt.maxWait = { policy: parseRoutingPolicy(text, policyFile) };
    } catch (e) {
      throw new UsageError(`--max-wait-policy: ${(e as Error).message}`);
    }
  }
  return alt;
}

async function cmdReplay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      'new-keys': { type: 'boolean', default: false },
      'what-if': { type: 'boolean', default: false },
      threshold: { type: 'string' },
      'max-wait': { type: 'string' },
      'max-wait-policy': { type: 'string' },
      prefix: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('replay needs exactly one recording file: pnpm ivr replay <file.ndjson>');
  const events = await readRecording(file);

  if (values['what-if']) {
    const alternative = await whatIfAlternative(values);
    const cfg = config();
    const redis = createRedis(cfg.REDIS_URL, 'client');
    redis.on('error', () => undefined);
    try {
      await waitForRedis(redis, 5000);
      const found = await loadObservedDecisions(redis, events, cfg.QUEUE_PREFIX, values.prefix);
      const result = whatIf(found.decisions, alternative);
      console.log(formatWhatIf(result, { recorded: events.length, missing: found.missing, prefix: found.prefixes.join(', ') }));
      if (!found.decisions.length && events.length) {
        console.error(`\nno stored decision found for any recorded event under prefix ${found.prefixes.join(', ')}: pass --prefix, or the decisions expired (IDEMPOTENCY_TTL_S)`);
      }
    } finally {
      redis.disconnect();
    }
    return 0;
  }
  if ([values.threshold, values['max-wait'], values['max-wait-policy'], values.prefix].some((v) => v !== undefined)) {
    throw new UsageError('--threshold, --max-wait, --max-wait-policy and --prefix only apply with --what-if');
  }
  // The receiver this machine runs: RECEIVER_PORT as the apps read it (config), unless --url says otherwise.
  const url = values.url ?? `http://127.0.0.1:${config().RECEIVER_PORT}`;

  const rate = positiveNumber(values.rate, 'rate', true) ?? 0;
  const concurrency = positiveNumber(values.concurrency, 'concurrency') ?? 16;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  const progress = progressPrinter(process.stderr.isTTY ? process.stderr : process.stdout);
  // Through the zod config like the apps' (a blank or too short secret is refused with its reason, before sending).
  const auth = webhookAuth();
  console.log(`Replaying ${events.length} recorded webhooks from ${file} to ${url}${rate ? ` at ${rate}/s` : ''}${values['new-keys'] ? ' as new events' : ''}`);
  const summary = await replay(events, {
    url,
    rate,
    concurrency,
    keySuffix: values['new-keys'] ? `-replay-${Date.now().toString(36)}` : undefined,
    ...auth,
    onProgress: (p) => progress.update(p),
  });
  progress.end();
  console.log(formatReplaySummary(summary, url));
  const failures = Object.entries(summary.byStatus).filter(([s]) => s === 'error' || Number(s) >= 400).reduce((n, [, c]) => n + c, 0);
  return failures ? 1 : 0;
}

async function cmdFailed(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { queue: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (positionals.length) throw new UsageError(`failed takes no arguments (got ${positionals.join(' ')}); use --queue q --limit n`);
  const limit = positiveNumber(values.limit, 'limit', true) ?? 20;
  const cfg = config();
  return withQueues(cfg, async (queues) => {
    const selected = selectQueues(queues.all, values.queue);
    const listed = await listFailed(selected, Math.floor(limit));
    // --json: the same data, machine-readable, on one line (jq, scripts); the prefix says which deployment it is.
    if (values.json) console.log(JSON.stringify({ prefix: cfg.QUEUE_PREFIX, ...listed }));
    else console.log(`Prefix ${cfg.QUEUE_PREFIX}\n${formatFailed(listed)}`);
    return 0;
  });
}

async function cmdRetry(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { queue: { type: 'string' }, all: { type: 'boolean', default: false } } });
  if (values.all === (positionals.length > 0) || positionals.length > 1) throw new UsageError('retry needs either --all or one job id: pnpm ivr retry --all | pnpm ivr retry <jobId> [--queue q]');
  const cfg = config();
  return withQueues(cfg, async (queues) => {
    const selected = selectQueues(queues.all, values.queue);
    if (values.all) {
      const counts = await retryRetryableFailed(selected);
      const total = Object.values(counts).reduce((a, b) => a + b.retried, 0);
      const left = Object.values(counts).reduce((a, b) => a + b.left, 0);
      console.log(`Retried ${total} failed jobs (${Object.entries(counts).map(([q, n]) => `${q} ${n.retried}`).join(', ')})${left ? `; ${left} left failed (Genesys 400/403/404: retrying would fail again; see pnpm ivr failed)` : ''}`);
      return 0;
    }
    const r = await retryFailedJob(selected, positionals[0]!);
    console.log(`Retried ${r.queue} job ${r.jobId}: back in the wait list`);
    return 0;
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command && command in HELP && wantsHelp(rest)) {
    console.log(usageOf(command as Command));
    return 0;
  }
  switch (command) {
    case 'replay':
      return cmdReplay(rest);
    case 'failed':
      return cmdFailed(rest);
    case 'retry':
      return cmdRetry(rest);
    case 'help':
      if (rest[0] && rest[0] in HELP) {
        console.log(usageOf(rest[0] as Command));
        return 0;
      }
      console.log(USAGE);
      return 0;
    case undefined:
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  const err = e as Error & { code?: string };
  if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
    const cmd = process.argv[2];
    const usage = cmd && cmd in HELP ? usageOf(cmd as Command) : USAGE; // the command's own usage when there is one
    console.error(`pnpm ivr: ${err.message}\n\n${usage}`);
    process.exitCode = 2;
  } else {
    console.error(`pnpm ivr: ${err.message}`);
    process.exitCode = 1;
  }
}
