import pino, { type Logger } from 'pino';

/** Paths that may carry secrets; their values never reach a log line. */
export const REDACT_PATHS = [
  'password',
  'secret',
  'token',
  'authorization',
  'apiKey',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.apiKey',
  '*.clientSecret',
  'headers.authorization',
  'headers["x-webhook-token"]',
  'headers["webhook-signature"]',
  'config.GENESYS_CLIENT_SECRET',
  'config.WEBHOOK_SECRET',
  'config.WEBHOOK_TOKEN',
  'config.ADMIN_TOKEN',
  'config.ELASTICSEARCH_API_KEY',
  'config.ELASTICSEARCH_PASSWORD',
];

/**
 * JSON logs (pino) for one app. `LOG_LEVEL` sets the level; output is pretty-printed only when stdout is a
 * TTY and pino-pretty is installed, so pipes and log shippers always get one JSON object per line.
 */
export function createLogger(name: string, level = 'info', opts: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !opts.destination);
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
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
