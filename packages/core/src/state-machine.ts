export const FLOW_STATES = ['IDLE', 'WAITING_DTMF', 'CHECKING_QUEUE', 'ROUTING', 'COMPLETE'] as const;
export type FlowState = (typeof FLOW_STATES)[number];

/**
 * The tutorial's transition table, the ONE definition of the IVR state machine: the Redis scripts that move a
 * conversation (packages/pipeline/src/conversation-store.ts, processors/apply.ts) are generated from it, so a move
 * removed here is refused by Redis. COMPLETE is terminal for one decision; a new press starts a new sequence at IDLE.
 */
export const VALID_TRANSITIONS: Readonly<Record<FlowState, readonly FlowState[]>> = {
  IDLE: ['WAITING_DTMF'],
  WAITING_DTMF: ['CHECKING_QUEUE'],
  CHECKING_QUEUE: ['ROUTING', 'IDLE'],
  ROUTING: ['COMPLETE'],
  COMPLETE: [],
};
