/** A pino-compatible logger that drops everything, for tests that do not assert on logs. */
export const silentLogger = {
  level: 'silent',
  info: () => {},
  warn: () => {},
  error: () => {},
  debug: () => {},
  trace: () => {},
  fatal: () => {},
  child() {
    return silentLogger;
  },
};
