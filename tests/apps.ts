/**
 * The apps' entry points, for integration and chaos tests that start them as real processes (`startApp`/`spawnNode`
 * from @ivr/testing take the entry from the caller: the harness package knows no app).
 */
export const APPS = {
  receiver: 'apps/receiver/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  dashboard: 'apps/dashboard/src/main.ts',
  'genesys-sim': 'apps/genesys-sim/src/main.ts',
} as const;

export type AppName = keyof typeof APPS;
