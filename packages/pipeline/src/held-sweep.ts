import type { Queue } from 'bullmq';
import { sweepHeld, type Keyspace } from '@ivr/queue-contract';
import type { Logger } from './processors/logger';

/** How often a decide worker looks for held events whose receiver died (their jobs are added up to this late). */
export const HELD_SWEEP_INTERVAL_MS = 250;

export interface HeldSweep {
  /** Stops sweeping once the sweep under way, if any, has finished. */
  stop(): Promise<void>;
}

/**
 * The decide role's sweep (sweepHeld in @ivr/queue-contract): every `intervalMs`, the jobs of the held events that are
 * due are added (an event held for an in-call decision whose receiver died before deciding, releasing or moving it),
 * as BullMQ promoted a delayed job when its delay ended. One sweep at a time per process; several processes sweeping
 * add one job per event (the move is guarded by the held set).
 */
export function startHeldSweep(deps: { events: Queue; ks: Keyspace; logger: Pick<Logger, 'info' | 'warn'>; intervalMs?: number; now?: () => number }): HeldSweep {
  const now = deps.now ?? Date.now;
  let running: Promise<void> = Promise.resolve();
  const step = () => {
    running = running
      .then(async () => {
        const moved = await sweepHeld(deps.events, deps.ks, now());
        if (moved) deps.logger.info({ moved }, 'held events past their time moved to the queue (their receiver did not decide them)');
      })
      .catch((err: Error) => deps.logger.warn({ err: err.message }, 'held events sweep failed; retried at the next sweep'));
  };
  const timer = setInterval(step, deps.intervalMs ?? HELD_SWEEP_INTERVAL_MS);
  timer.unref();
  step();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
