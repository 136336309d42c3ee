export const FLOW_STATES = ['IDLE', 'WAITING_DTMF', 'CHECKING_QUEUE', 'ROUTING', 'COMPLETE'] as const;
export type FlowState = (typeof FLOW_STATES)[number];

/** The tutorial's transition table. COMPLETE is terminal for one decision; a new press starts a new sequence. */
export const VALID_TRANSITIONS: Readonly<Record<FlowState, readonly FlowState[]>> = {
  IDLE: ['WAITING_DTMF'],
  WAITING_DTMF: ['CHECKING_QUEUE'],
  CHECKING_QUEUE: ['ROUTING', 'IDLE'],
  ROUTING: ['COMPLETE'],
  COMPLETE: [],
};

export function canTransition(from: FlowState, to: FlowState): boolean {
  return VALID_TRANSITIONS[from].includes(to);
}

export function isFlowState(s: unknown): s is FlowState {
  return typeof s === 'string' && (FLOW_STATES as readonly string[]).includes(s);
}

export class InvalidTransitionError extends Error {
  constructor(
    public readonly from: FlowState | 'NONE',
    public readonly to: FlowState,
    public readonly conversationId: string,
  ) {
    super(`invalid transition ${from} -> ${to} for conversation ${conversationId}`);
    this.name = 'InvalidTransitionError';
  }
}
