import pino, { type Logger } from 'pino';
import { redactUrl } from './describe-parts';

/** Environment variables holding secrets: redacted at the top level, in `config.*` and one level down anywhere. */
const SECRET_ENV = ['GENESYS_CLIENT_SECRET', 'WEBHOOK_SECRET', 'WEBHOOK_TOKEN', 'ADMIN_TOKEN', 'ELASTICSEARCH_API_KEY', 'ELASTICSEARCH_PASSWORD'];
/** Secret-bearing field names as code spells them. */
const SECRET_FIELDS = ['password', 'secret', 'token', 'authorization', 'apiKey', 'clientSecret', 'accessToken', 'access_token', 'refreshToken'];
/** Request headers that carry credentials, as Node (lower case) and some clients (capitalised) spell them. */
const SECRET_HEADERS = ['authorization', 'Authorization', 'cookie', 'Cookie', 'x-webhook-token', 'X-Webhook-Token', 'webhook-signature', 'Webhook-Signature', 'x-admin-token'];
/** URLs that may embed a password (redis://user:pw@host): the password is masked, the rest kept for debugging. */
const URL_FIELDS = new Set(['REDIS_URL', 'ELASTICSEARCH_URL', 'ELASTICSEARCH_HOST', 'GENESYS_API_BASE', 'elasticsearchUrl', 'redisUrl']);

const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`);
const join = (a: string, k: string) => (key(k).startsWith('[') ? `${a}${key(k)}` : `${a}.${k}`);

/** Paths that may carry secrets; their values never reach a log line. */
export const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
  ...SECRET_ENV.flatMap((e) => [e, `*.${e}`]),
  ...SECRET_HEADERS.flatMap((h) => [join('headers', h), join('*.headers', h)]),
  ...[...URL_FIELDS].flatMap((u) => [u, `*.${u}`]),
];

/** `[redacted]`, except URLs, which keep everything but the password. */
function censor(value: unknown, path: string[]): string {
  const last = path[path.length - 1] ?? '';
  return URL_FIELDS.has(last) && typeof value === 'string' ? redactUrl(value) : '[redacted]';
}

/**
 * A child for lines about events (accepted, decided, applied, superseded, report batches): they carry ids,
 * routes, digits and Genesys error text, never a secret, so they skip pino's path redaction, which costs
 * ~30 µs a line on the hot path (bench profile, docs/performance.md).
 */
export function eventLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/**
 * JSON logs (pino) for one app. `LOG_LEVEL` sets the level; output is pretty-printed only when stdout is a
 * TTY and pino-pretty is installed, so pipes and log shippers always get one JSON object per line.
 */
export function createLogger(name: string, level = 'info', opts: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !opts.destination);
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor },
    base: { app: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    try {
      return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
    } catch {
      // pino-pretty not installed: fall through to JSON
    }
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
