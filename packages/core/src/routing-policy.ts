import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import type { DecisionRecord, Route } from './types';

/** `maxEstimatedWaitS`: above this estimated wait (Genesys' estimatedwaittime, seconds) the call goes to voicemail. */
const maxWait = z.number().int().min(0).optional();

const target = z.object({
  queueId: z.string().min(1),
  threshold: z.number().int().min(0).optional(),
  maxEstimatedWaitS: maxWait,
}).strict();

/** A routing policy: which queue (and threshold) a DTMF digit goes to. Unlisted digits use `default`. */
export const routingPolicySchema = z
  .object({
    default: z.object({ queueId: z.string().min(1), threshold: z.number().int().min(0), maxEstimatedWaitS: maxWait }).strict(),
    digits: z.record(z.string().regex(/^[0-9*#A-D]{1,32}$/, 'digit keys must be DTMF keys'), target).default({}),
  })
  .strict();

export type RoutingPolicy = z.infer<typeof routingPolicySchema>;
export interface RoutingTarget {
  queueId: string;
  threshold: number;
  /** From the digit, else the default; absent: the estimated wait is not read. */
  maxEstimatedWaitS?: number;
}

/** The tutorial's policy: every digit goes to one queue with one threshold. */
export function singleQueuePolicy(queueId: string, threshold: number): RoutingPolicy {
  return { default: { queueId, threshold }, digits: {} };
}

/** Parse a policy file's text (JSON or YAML); throws with every problem named. */
export function parseRoutingPolicy(text: string, source = 'routing policy'): RoutingPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new Error(`${source}: not valid JSON or YAML: ${(e as Error).message}`);
  }
  const r = routingPolicySchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code === 'invalid_key' ? 'digit keys must be DTMF keys (0-9 * # A-D)' : i.message}`).join('; ')}`);
  }
  return r.data;
}

/** Which queue and threshold a press maps to. An explicit queueId in the event wins over the digit map. */
export function resolveTarget(policy: RoutingPolicy, dtmf: string, explicitQueueId?: string): RoutingTarget {
  const t = policy.digits[dtmf];
  const queueId = explicitQueueId ?? t?.queueId ?? policy.default.queueId;
  const threshold = t?.threshold ?? policy.default.threshold;
  const maxEstimatedWaitS = t?.maxEstimatedWaitS ?? policy.default.maxEstimatedWaitS;
  return { queueId, threshold, ...(maxEstimatedWaitS !== undefined ? { maxEstimatedWaitS } : {}) };
}

/**
 * The tutorial's rule: enough available agents -> queue, else voicemail. With `wait` (the policy's
 * maxEstimatedWaitS and Genesys' estimate): an estimated wait above the maximum also means voicemail.
 */
export function routeFor(available: number, threshold: number, wait?: { estimatedS: number; maxS: number }): Route {
  if (available < threshold) return 'route_to_vm';
  return wait && wait.estimatedS > wait.maxS ? 'route_to_vm' : 'route_to_queue';
}

/** All queues a policy can route to (to batch observations). */
export function policyQueues(policy: RoutingPolicy): string[] {
  return [...new Set([policy.default.queueId, ...Object.values(policy.digits).map((t) => t.queueId)])];
}

/**
 * Whether a recorded decision went to voicemail because of the maxEstimatedWaitS rule: enough agents for the queue,
 * an estimated wait recorded (decide reads it only for a target with maxEstimatedWaitS, when the agents alone would
 * route to the queue), and voicemail all the same.
 */
export function routedByWaitRule(d: Pick<DecisionRecord, 'queue_occupancy' | 'threshold' | 'estimatedWaitS' | 'routing_decision'>): boolean {
  return d.estimatedWaitS !== undefined && d.queue_occupancy !== null && d.queue_occupancy >= d.threshold && d.routing_decision === 'route_to_vm';
}
