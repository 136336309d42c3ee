import { readFileSync } from 'node:fs';
import type { Config } from './config';
import { parseRoutingPolicy, singleQueuePolicy, type RoutingPolicy } from '@ivr/core';

/** ROUTING_POLICY file (JSON or YAML) if set, else the tutorial's single queue + threshold. */
export function loadRoutingPolicy(config: Config): RoutingPolicy {
  if (!config.ROUTING_POLICY) return singleQueuePolicy(config.TARGET_QUEUE_ID, config.OCCUPANCY_THRESHOLD);
  let text: string;
  try {
    text = readFileSync(config.ROUTING_POLICY, 'utf8');
  } catch (e) {
    throw new Error(`ROUTING_POLICY: cannot read ${config.ROUTING_POLICY}: ${(e as Error).message}`);
  }
  return parseRoutingPolicy(text, `ROUTING_POLICY ${config.ROUTING_POLICY}`);
}
