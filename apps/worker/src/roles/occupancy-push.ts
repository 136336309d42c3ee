import type { Config } from '@ivr/config';
import { classifyGenesysError, type GenesysClient } from '@ivr/genesys';
import { startOccupancyPush, type OccupancyPush } from '@ivr/pipeline';
import type { Keyspace } from '@ivr/queue-contract';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The push role of a decide worker (OCCUPANCY_SOURCE, issue 19): unless the source is `polling`, this process is a
 * candidate to hold the deployment's Genesys notification channel (one holder, chosen by a Redis lease). The
 * figures it receives land in the shared occupancy cache; without a holder the workers poll as before.
 */
export function startOccupancyPushRole(config: Config, logger: Logger, genesys: GenesysClient, redis: Redis, ks: Keyspace, queueIds: readonly string[]): OccupancyPush | undefined {
  const source = config.OCCUPANCY_SOURCE ?? 'notifications';
  const reason = config.OCCUPANCY_SOURCE
    ? 'OCCUPANCY_SOURCE'
    : 'OCCUPANCY_SOURCE unset: notifications while Genesys grants a channel, else polling';
  logger.info({ occupancySource: source, reason, maxAgeMs: config.OCCUPANCY_MAX_AGE_MS, simulator: config.useSimulator }, 'occupancy source');
  if (source === 'polling') return undefined;
  return startOccupancyPush({
    redis,
    ks,
    queueIds,
    api: genesys,
    fetchObservations: (q) => genesys.queryObservations(q),
    mediaType: config.MEDIA_TYPE,
    maxAgeMs: config.OCCUPANCY_MAX_AGE_MS,
    leaseMs: config.OCCUPANCY_PUSH_LEASE_MS,
    pingMs: config.OCCUPANCY_PUSH_PING_MS,
    required: config.OCCUPANCY_SOURCE === 'notifications',
    // A refusal no retry can change (403 missing permission, 400): give up and poll. Outages and 429s are retried.
    isPermanent: (err) => classifyGenesysError(err).kind === 'fatal',
    logger: logger.child({ component: 'occupancy-push' }),
  });
}
