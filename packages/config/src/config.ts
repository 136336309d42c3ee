import { z } from 'zod';
import { ROUTES } from '@ivr/core';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * A whole number from the environment, parsed strictly: decimal digits only. `0x10`, `1e3`, `" 5"`, `5.0`, `-1`
 * are errors (Number() and z.coerce accept them all). Unset or empty = the default.
 */
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      if (!/^[0-9]{1,15}$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'must be a whole number in decimal digits (no spaces, sign, 0x, exponent or decimals)' });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** Shortest accepted WEBHOOK_SECRET (its key bytes), WEBHOOK_TOKEN and ADMIN_TOKEN: 16 bytes = 128 bits. */
export const MIN_SECRET_BYTES = 16;
/** ADMIN_TOKEN must also use at least this many different characters (`aaaaaaaaaaaaaaaa` is not a token). */
export const MIN_ADMIN_TOKEN_DISTINCT = 8;

/**
 * A secret from the environment. Unset or empty (`WEBHOOK_SECRET=` as in .env.example) = not configured; set but
 * only whitespace is an error, never "authentication off" (issue 13); shorter than MIN_SECRET_BYTES is an error.
 */
const secret = (check?: (v: string) => string | undefined) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const t = v.trim();
      if (t === '') {
        ctx.addIssue({ code: 'custom', message: `is set but blank (whitespace only); leave it empty to turn this off, or set at least ${MIN_SECRET_BYTES} bytes` });
        return z.NEVER;
      }
      const problem = check ? check(t) : Buffer.byteLength(t, 'utf8') < MIN_SECRET_BYTES ? `must be at least ${MIN_SECRET_BYTES} bytes long` : undefined;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return t;
    });

/** WEBHOOK_SECRET: `whsec_<base64>` (Standard Webhooks: the key is the decoded bytes) or a plain secret (its UTF-8 bytes). */
function webhookSecretProblem(v: string): string | undefined {
  if (v.startsWith('whsec_')) {
    const b64 = v.slice('whsec_'.length);
    if (b64 === '') return 'is "whsec_" with nothing after it; use whsec_<base64 of at least 16 random bytes>';
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return 'starts with whsec_ but the rest is not valid base64 (use whsec_<base64> or a plain secret without the prefix)';
    const n = Buffer.from(b64, 'base64').length;
    return n < MIN_SECRET_BYTES ? `decodes to ${n} bytes; a whsec_ key must be at least ${MIN_SECRET_BYTES} bytes` : undefined;
  }
  return Buffer.byteLength(v, 'utf8') < MIN_SECRET_BYTES ? `must be at least ${MIN_SECRET_BYTES} bytes long (or whsec_<base64>)` : undefined;
}

function adminTokenProblem(v: string): string | undefined {
  if (v.length < MIN_SECRET_BYTES) return `must be at least ${MIN_SECRET_BYTES} characters long (it guards Bull Board and the admin routes)`;
  if (new Set(v).size < MIN_ADMIN_TOKEN_DISTINCT) return `must use at least ${MIN_ADMIN_TOKEN_DISTINCT} different characters (e.g. openssl rand -hex 24)`;
  return undefined;
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Media types Genesys splits queue conversation metrics by (observation groups' `mediaType`). */
const MEDIA_TYPES = ['voice', 'callback', 'chat', 'email', 'message'] as const;
const ROLES = ['decide', 'apply', 'report'] as const;

/** Every environment variable the system reads, in one place. */
export const envSchema = z.object({
  REDIS_URL: z
    .string()
    .refine(
      (v) => /^rediss?-cluster:\/\/[^/]+$/.test(v) || (/^rediss?:\/\//.test(v) && URL.canParse(v)),
      'must be redis://[user:password@]host:port[/db], rediss://… for TLS, or redis-cluster://host:port,host:port for Redis Cluster',
    )
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'letters, digits, _ . - and {} (hash tags) only')
    .default('ivr'),

  GENESYS_CLIENT_ID: optionalString,
  GENESYS_CLIENT_SECRET: optionalString,
  GENESYS_ENVIRONMENT: z.string().default('mypurecloud.com'),
  GENESYS_API_BASE: optionalString.pipe(z.string().url().optional()),
  GENESYS_TIMEOUT_MS: int(5000, 100, 60000),

  TARGET_QUEUE_ID: z.string().min(1).default('demo-queue'),
  OCCUPANCY_THRESHOLD: int(5, 0, 100000),
  OCCUPANCY_CACHE_MS: int(1000, 0, 60000),
  // Where queue figures come from: `notifications` (one process per deployment holds a Genesys notification channel
  // and writes pushed figures into the occupancy cache; polling while it is down) or `polling` (observations
  // queries only). Unset: notifications, unless the channel cannot be opened (then polling, logged).
  OCCUPANCY_SOURCE: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['notifications', 'polling']).optional()),
  OCCUPANCY_MAX_AGE_MS: int(10000, 100, 600000), // no decision uses figures older than this
  OCCUPANCY_PUSH_LEASE_MS: int(5000, 500, 60000), // the channel holder's Redis lease: another process takes over within it
  OCCUPANCY_PUSH_PING_MS: int(3000, 50, 60000), // the holder pings the channel this often; 2 pings unanswered = socket down
  MEDIA_TYPE: z.enum(['voice', 'callback', 'chat', 'email', 'message']).default('voice'),
  DEFAULT_ROUTE: z.enum(ROUTES).default('route_to_queue'),
  ROUTING_POLICY: optionalString,

  ELASTICSEARCH_URL: optionalString,
  ELASTICSEARCH_HOST: optionalString,
  ELASTICSEARCH_API_KEY: optionalString,
  ELASTICSEARCH_USERNAME: optionalString,
  ELASTICSEARCH_PASSWORD: optionalString,
  ELASTICSEARCH_INDEX: z.string().default('genesys_flow_decisions'),
  REPORT_BATCH_SIZE: int(500, 1, 10000),
  REPORT_LINGER_MS: int(250, 0, 60000),
  REPORTS_DIR: z.string().default('reports'),
  STORE_RETENTION_DAYS: int(30, 1, 3650), // embedded store: decisions older than this are removed (with their counts)

  WEBHOOK_SECRET: secret(webhookSecretProblem),
  WEBHOOK_TOKEN: secret(),
  ADMIN_TOKEN: secret(adminTokenProblem),
  DASHBOARD_READ_ONLY: bool.default(false),

  RECEIVER_PORT: int(3000, 0, 65535),
  RECEIVER_HOST: z.string().default('0.0.0.0'),
  RECEIVER_WORKERS: int(1, 1, 64), // receiver processes (node:cluster) sharing RECEIVER_PORT
  DASHBOARD_PORT: int(3001, 0, 65535),
  DASHBOARD_HOST: optionalString, // unset: 0.0.0.0 with ADMIN_TOKEN, 127.0.0.1 without (a non-loopback address without a token is refused)
  SIM_PORT: int(4010, 0, 65535),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024, 10 * 1024 * 1024),
  // Receiver socket timeouts (Node http.Server): a client slower than these is cut (408 / connection closed).
  RECEIVER_HEADERS_TIMEOUT_MS: int(10_000, 1000, 120_000), // all request headers must arrive within this
  RECEIVER_REQUEST_TIMEOUT_MS: int(15_000, 1000, 300_000), // the whole request, body included (a trickled body is cut)
  RECEIVER_KEEPALIVE_TIMEOUT_MS: int(5_000, 0, 600_000), // an idle keep-alive connection is closed after this; above a load balancer's idle timeout
  STORE_TIMEOUT_MS: int(2_000, 100, 30_000), // storing one webhook in Redis; longer = 503 "outcome unknown"
  IDEMPOTENCY_TTL_S: int(86400, 300, 30 * 86400), // >= the 5-minute signature window, so a replay cannot outlive its key

  WORKER_ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ROLES)).min(1)),
  DECIDE_CONCURRENCY: int(50, 1, 1000),
  APPLY_CONCURRENCY: int(20, 1, 1000),
  REPORT_CONCURRENCY: int(500, 1, 5000), // report jobs wait on a shared batch: concurrency bounds the batch size
  APPLY_ATTEMPTS: int(5, 1, 50),
  APPLY_BACKOFF_MS: int(1000, 1, 600000),
  // One budget for every Genesys request (logins, observations, conversation reads, attribute writes) of every
  // process, under the OAuth client's ~300/min so other integrations on the same client keep some room.
  GENESYS_RATE_PER_MIN: int(240, 2, 100000),
  GENESYS_BUDGET_WINDOW_MS: int(60000, 1000, 3600000), // the window GENESYS_RATE_PER_MIN applies to (tests shorten it)
  GENESYS_BUDGET_READ_RESERVE_PCT: int(20, 0, 90), // share of the budget attribute writes may not take (occupancy reads first)
  WRITE_BACK: z.enum(['unanswered', 'always', 'never']).default('unanswered'),
  // The receiver decides a `Prefer: wait` request itself when the figures are in the shared cache (the in-call path,
  // docs/architecture.md); false: every decision is a worker's, the receiver waits for it.
  INCALL_DECIDE: bool.default(true),
  WRITE_MAX_AGE_S: int(30, 1, 3600), // an older attribute write is not sent: the caller has left the menu
  WRITE_ANSWER_GRACE_MS: int(1000, 0, 60000), // after a Prefer: wait deadline, before the write of an unanswered decision
  LOCK_DURATION_MS: int(30000, 1000, 600000),
  // A crashed worker's jobs come back within LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS (docs/reliability.md): 60 s by default.
  STALLED_INTERVAL_MS: int(15000, 1000, 600000),
  WORKER_METRICS_PORT: int(9464, 0, 65535), // 0 disables; process N of `pnpm start --workers` uses port + N - 1
  WORKER_METRICS_HOST: optionalString, // unset: 0.0.0.0 with ADMIN_TOKEN, 127.0.0.1 without (as the dashboard: loopback mode)
  WORKER_INDEX: int(1, 1, 1000), // set by `pnpm start --workers N` (1..N)

  RECORD_PATH: optionalString,
  // How long a stopping process (SIGTERM, Ctrl-C) may take to finish in-flight jobs and requests before it exits 1
  // (@ivr/runtime onShutdown); the receiver's cluster primary waits this + 2 s for its worker processes.
  SHUTDOWN_GRACE_MS: int(25_000, 1000, 600_000),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

const SECRET_NAMES = new Set(['WEBHOOK_SECRET', 'WEBHOOK_TOKEN', 'ADMIN_TOKEN', 'GENESYS_CLIENT_SECRET', 'ELASTICSEARCH_PASSWORD', 'ELASTICSEARCH_API_KEY']);

export interface Config extends Env {
  /** ELASTICSEARCH_URL, else ELASTICSEARCH_HOST, else undefined (embedded store). */
  elasticsearchUrl: string | undefined;
  /** True when no Genesys credentials are set: the embedded simulator is used. */
  useSimulator: boolean;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`); // one line (issue 13): each problem names its variable
    this.name = 'ConfigError';
  }
}

/** One problem per bad variable, each naming it; a secret's value is never echoed, not even a bad one. */
function problemsOf(issues: readonly z.core.$ZodIssue[], env: Record<string, string | undefined>): string[] {
  return issues.map((i) => {
    const name = String(i.path[0] ?? '');
    const got = SECRET_NAMES.has(name) ? '' : ` (got ${JSON.stringify(env[name])})`;
    return `${i.path.join('.') || '(env)'}: ${i.message}${got}`;
  });
}

/**
 * Only `keys` of the one schema, for a process that reads nothing else (the simulator: SIM_PORT) and must not refuse
 * to start over a variable that is not its own. Throws ConfigError like loadConfig.
 */
export function loadConfigSubset<K extends keyof Env>(keys: readonly K[], env: Record<string, string | undefined> = process.env): Pick<Env, K> {
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as Partial<Record<keyof Env, true>>;
  const parsed = envSchema.pick(mask).safeParse(env);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error.issues, env));
  return parsed.data as unknown as Pick<Env, K>;
}

/** Parse the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error.issues, env));
  const e = parsed.data;
  if (/^rediss?-cluster:/.test(e.REDIS_URL) && !/\{[^{}]+\}/.test(e.QUEUE_PREFIX)) {
    throw new ConfigError([`QUEUE_PREFIX: on Redis Cluster it must contain a hash tag such as {ivr} so every key of a job lands in one slot (got ${JSON.stringify(e.QUEUE_PREFIX)})`]);
  }
  if (e.RECEIVER_HEADERS_TIMEOUT_MS > e.RECEIVER_REQUEST_TIMEOUT_MS) {
    throw new ConfigError([`RECEIVER_HEADERS_TIMEOUT_MS (${e.RECEIVER_HEADERS_TIMEOUT_MS}) must not exceed RECEIVER_REQUEST_TIMEOUT_MS (${e.RECEIVER_REQUEST_TIMEOUT_MS})`]);
  }
  if (e.OCCUPANCY_CACHE_MS > e.OCCUPANCY_MAX_AGE_MS || e.OCCUPANCY_PUSH_PING_MS >= e.OCCUPANCY_MAX_AGE_MS) {
    throw new ConfigError([
      `OCCUPANCY_MAX_AGE_MS (${e.OCCUPANCY_MAX_AGE_MS}) must be at least OCCUPANCY_CACHE_MS (${e.OCCUPANCY_CACHE_MS}) and more than OCCUPANCY_PUSH_PING_MS (${e.OCCUPANCY_PUSH_PING_MS})`,
    ]);
  }
  if (Boolean(e.GENESYS_CLIENT_ID) !== Boolean(e.GENESYS_CLIENT_SECRET)) {
    throw new ConfigError(['GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET must be set together (or both unset to use the simulator)']);
  }
  return {
    ...e,
    elasticsearchUrl: e.ELASTICSEARCH_URL ?? e.ELASTICSEARCH_HOST,
    useSimulator: !e.GENESYS_CLIENT_ID,
  };
}

/** For an app's main: the config, or the readable problem list on stderr and exit code 78 (EX_CONFIG). */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  return orExit(() => loadConfig(env));
}

/** `load()`, or its ConfigError's one line on stderr and exit code 78 (EX_CONFIG). */
export function orExit<T>(load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

/** The decision store settings (Elasticsearch when a URL is set, else the embedded store), for every app alike. */
export function decisionStoreConfig(config: Config) {
  return {
    elasticsearchUrl: config.elasticsearchUrl,
    elasticsearchApiKey: config.ELASTICSEARCH_API_KEY,
    elasticsearchUsername: config.ELASTICSEARCH_USERNAME,
    elasticsearchPassword: config.ELASTICSEARCH_PASSWORD,
    elasticsearchIndex: config.ELASTICSEARCH_INDEX,
    retentionDays: config.STORE_RETENTION_DAYS,
  };
}
