import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const ROUTES = ['route_to_queue', 'route_to_vm'] as const;
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

  WEBHOOK_SECRET: optionalString,
  WEBHOOK_TOKEN: optionalString,
  ADMIN_TOKEN: optionalString,
  DASHBOARD_READ_ONLY: bool.default(false),

  RECEIVER_PORT: int(3000, 0, 65535),
  RECEIVER_HOST: z.string().default('0.0.0.0'),
  RECEIVER_WORKERS: int(1, 1, 64), // receiver processes (node:cluster) sharing RECEIVER_PORT
  DASHBOARD_PORT: int(3001, 0, 65535),
  DASHBOARD_HOST: optionalString, // unset: 0.0.0.0 with ADMIN_TOKEN, 127.0.0.1 without (a non-loopback address without a token is refused)
  SIM_PORT: int(4010, 0, 65535),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024, 10 * 1024 * 1024),
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
  WRITE_MAX_AGE_S: int(30, 1, 3600), // an older attribute write is not sent: the caller has left the menu
  WRITE_ANSWER_GRACE_MS: int(1000, 0, 60000), // after a Prefer: wait deadline, before the write of an unanswered decision
  LOCK_DURATION_MS: int(30000, 1000, 600000),
  STALLED_INTERVAL_MS: int(30000, 1000, 600000),
  WORKER_METRICS_PORT: int(9464, 0, 65535), // 0 disables; process N of `pnpm start --workers` uses port + N - 1
  WORKER_METRICS_HOST: z.string().default('0.0.0.0'),
  WORKER_INDEX: int(1, 1, 1000), // set by `pnpm start --workers N` (1..N)

  RECORD_PATH: optionalString,

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** ELASTICSEARCH_URL, else ELASTICSEARCH_HOST, else undefined (embedded store). */
  elasticsearchUrl: string | undefined;
  /** True when no Genesys credentials are set: the embedded simulator is used. */
  useSimulator: boolean;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`),
    );
  }
  const e = parsed.data;
  if (/^rediss?-cluster:/.test(e.REDIS_URL) && !/\{[^{}]+\}/.test(e.QUEUE_PREFIX)) {
    throw new ConfigError([`QUEUE_PREFIX: on Redis Cluster it must contain a hash tag such as {ivr} so every key of a job lands in one slot (got ${JSON.stringify(e.QUEUE_PREFIX)})`]);
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
  try {
    return loadConfig(env);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : e);
    process.exit(78);
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
  };
}
