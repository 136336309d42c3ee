import { describe, expect, it } from 'vitest';
import { FLOW_STATES, VALID_TRANSITIONS } from './state-machine';

describe('state machine table', () => {
  it('holds exactly the tutorial transitions, between known states', () => {
    const moves = Object.entries(VALID_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`));
    expect(moves.sort()).toEqual(['CHECKING_QUEUE->IDLE', 'CHECKING_QUEUE->ROUTING', 'IDLE->WAITING_DTMF', 'ROUTING->COMPLETE', 'WAITING_DTMF->CHECKING_QUEUE']);
    expect(Object.keys(VALID_TRANSITIONS).sort()).toEqual([...FLOW_STATES].sort());
  });
});
