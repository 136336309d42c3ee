/**
 * Expected start-up failures (a port in use, Redis unreachable, a bad ROUTING_POLICY file, bad configuration)
 * end as ONE line a user can act on, on stderr, with exit code 1 (78 for configuration) and no stack trace.
 * Anything else is a bug and keeps its stack.
 */
export interface StartupContext {
  /** The app, first word of the line. */
  app: string;
  /** Which variable sets the port the app listens on, named when the port is in use. */
  portVar?: string;
}

interface SysError extends Error {
  code?: string;
  port?: number;
  address?: string;
  syscall?: string;
}

/** The one-line reason for an expected start-up failure, or undefined for an unexpected one (a bug). */
export function startupReason(err: unknown, ctx: StartupContext): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as SysError;
  if (e.code === 'EADDRINUSE') {
    return `port ${e.port ?? '?'} on ${e.address ?? '?'} is already in use${ctx.portVar ? ` (${ctx.portVar})` : ''}; stop the other process or choose another port`;
  }
  if (e.code === 'EACCES' && e.syscall === 'listen') return `not allowed to listen on port ${e.port ?? '?'}${ctx.portVar ? ` (${ctx.portVar})` : ''}; use a port above 1023`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on address ${e.address ?? '?'}: no such address on this machine`;
  if (e.name === 'ConfigError' || e.name === 'StartupError' || /^(Redis not reachable|ROUTING_POLICY|Genesys)/.test(e.message)) {
    return e.message.replace(/\s*\n\s*/g, '; ');
  }
  return undefined;
}

/** An error whose message is already the one-line reason to show (no stack trace). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Print the reason and exit: one line for expected failures, the stack for bugs. */
export function exitOnStartupFailure(err: unknown, ctx: StartupContext): never {
  const reason = startupReason(err, ctx);
  if (reason) process.stderr.write(`${ctx.app}: cannot start: ${reason}\n`);
  else process.stderr.write(`${ctx.app}: failed to start (unexpected error):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(err instanceof Error && err.name === 'ConfigError' ? 78 : 1);
}
