/**
 * The logger every package takes: the part of a pino logger we use (JSON fields first, then a constant message).
 * The one definition; a package that needs fewer levels takes `Pick<Logger, ...>` of it, so any pino logger fits.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
