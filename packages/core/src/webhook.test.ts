import { describe, expect, it } from 'vitest';
import { jsonDepth, parseWebhookBody } from './webhook';

describe('parseWebhookBody', () => {
  it('reads the tutorial payload: flowInstanceId is the conversation, the presser is the participant', () => {
    const r = parseWebhookBody({ flowInstanceId: 'flow-1', participants: [{ id: 'agent-x' }, { id: 'cust-9', input: { dtmf: '2' } }] });
    expect(r).toEqual({
      kind: 'event',
      event: { conversationId: 'flow-1', participantId: 'cust-9', dtmf: '2', flowInstanceId: 'flow-1', source: 'tutorial' },
    });
  });

  it.each([
    [{ flowInstanceId: 'f', participants: [{ input: { dtmf: '1' } }] }],
    [{ flowInstanceId: 'f', participants: [{ id: 'first' }, { input: { dtmf: '1' } }] }],
    [{ conversationId: 'c', dtmf: '1' }],
    [{ conversationId: 'c', participantId: '', dtmf: '1' }],
  ])('no presser id: no participant id is made up (the write resolves the customer) (%#)', (body) => {
    const r = parseWebhookBody(body);
    expect(r.kind).toBe('event');
    expect(r.kind === 'event' && 'participantId' in r.event).toBe(false);
  });

  it('reads the data-action payload, upper-casing A-D keys', () => {
    const r = parseWebhookBody({ conversationId: 'c-1', participantId: 'p-1', dtmf: 'a', queueId: 'q-2' });
    expect(r).toEqual({
      kind: 'event',
      event: { conversationId: 'c-1', participantId: 'p-1', dtmf: 'A', flowInstanceId: 'c-1', source: 'data-action', queueId: 'q-2' },
    });
  });

  it.each([
    [{ flowInstanceId: 'f', participants: [] }],
    [{ flowInstanceId: 'f', participants: [{ input: {} }] }],
    [{ flowInstanceId: 'f', participants: [{ input: { dtmf: '' } }] }],
    [{ conversationId: 'c' }],
    [{ conversationId: 'c', dtmf: null }],
  ])('no DTMF is skipped, not an error (%#)', (body) => {
    expect(parseWebhookBody(body).kind).toBe('no_dtmf');
  });

  it.each([
    [null, 'JSON object'],
    [[1], 'JSON object'],
    ['x', 'JSON object'],
    [{}, 'missing flowInstanceId'],
    [{ flowInstanceId: 5 }, 'flowInstanceId must be a string'],
    [{ flowInstanceId: '' }, 'flowInstanceId'],
    [{ flowInstanceId: 'f', participants: 'x' }, 'participants must be an array'],
    [{ conversationId: 'c', dtmf: 7 }, 'dtmf must be a string'],
    [{ conversationId: 'c', dtmf: 'x' }, 'dtmf must be 1-32'],
    [{ conversationId: 'has space', dtmf: '1' }, 'conversationId must be'],
    [{ conversationId: 'c', participantId: 'a'.repeat(200), dtmf: '1' }, 'participantId must be'],
  ])('rejects %j with a reason naming the field', (body, reason) => {
    const r = parseWebhookBody(body);
    expect(r.kind).toBe('invalid');
    expect(r.kind === 'invalid' && r.message).toContain(reason);
  });
});

describe('jsonDepth', () => {
  it('counts nesting without recursion', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep, 64)).toBe(65);
  });
});
