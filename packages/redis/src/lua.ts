import type { Redis } from 'ioredis';

/** Define a Lua script on a connection once and return a typed caller (EVALSHA with EVAL fallback, via ioredis). */
export function defineScript<R>(redis: Redis, name: string, numberOfKeys: number, lua: string) {
  const r = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<R>>;
  if (typeof r[name] !== 'function') redis.defineCommand(name, { numberOfKeys, lua });
  return (keys: string[], args: (string | number)[]): Promise<R> => r[name]!(...keys, ...args);
}
