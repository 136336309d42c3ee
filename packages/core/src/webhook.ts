import { z } from 'zod';
import type { DtmfEvent } from './types';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const DTMF_RE = /^[0-9*#A-Da-d]{1,32}$/;

const id = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .regex(ID_RE, `${name} must be 1-128 characters of letters, digits and . _ : @ - (starting with a letter or digit)`);

const dtmf = z
  .string({ error: 'dtmf must be a string' })
  .refine((s) => s === '' || DTMF_RE.test(s), 'dtmf must be 1-32 of the keys 0-9 * # A-D');

const tutorialSchema = z.object({
  flowInstanceId: id('flowInstanceId'),
  participants: z
    .array(
      z.object({
        id: id('participants[].id').optional(),
        input: z.object({ dtmf: dtmf.optional().nullable() }).nullable().optional(),
      }),
      { error: 'participants must be an array' },
    )
    .max(50, 'participants: at most 50')
    .default([]),
});

const dataActionSchema = z.object({
  conversationId: id('conversationId'),
  // "" = not known: the flow's companion action found no caller (Architect sends an empty string, never nothing).
  participantId: z.preprocess((v) => (v === '' ? undefined : v), id('participantId').optional()),
  dtmf: dtmf.optional().nullable(),
  queueId: id('queueId').optional(),
  flowInstanceId: id('flowInstanceId').optional(),
});

export type ParseResult =
  | { kind: 'event'; event: DtmfEvent }
  | { kind: 'no_dtmf'; conversationId: string }
  | { kind: 'invalid'; message: string };

/**
 * Normalise either accepted payload into a DtmfEvent.
 * - data action: {conversationId, participantId?, dtmf, queueId?}
 * - tutorial:    {flowInstanceId, participants: [{id?, input: {dtmf}}]}; the conversation id is the
 *   flowInstanceId and the participant is the one who pressed, when it carries an id.
 * A participant id is never made up: without one, `participantId` is absent and the apply worker resolves the
 * conversation's customer participant from Genesys (GET /api/v2/conversations/{id}) before writing.
 */
export function parseWebhookBody(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { kind: 'invalid', message: 'body must be a JSON object' };
  }
  const obj = body as Record<string, unknown>;
  if ('conversationId' in obj) {
    const r = dataActionSchema.safeParse(obj);
    if (!r.success) return { kind: 'invalid', message: firstIssue(r.error) };
    const d = r.data;
    if (!d.dtmf) return { kind: 'no_dtmf', conversationId: d.conversationId };
    return {
      kind: 'event',
      event: {
        conversationId: d.conversationId,
        ...(d.participantId ? { participantId: d.participantId } : {}),
        dtmf: d.dtmf.toUpperCase(),
        flowInstanceId: d.flowInstanceId ?? d.conversationId,
        source: 'data-action',
        ...(d.queueId ? { queueId: d.queueId } : {}),
      },
    };
  }
  if ('flowInstanceId' in obj) {
    const r = tutorialSchema.safeParse(obj);
    if (!r.success) return { kind: 'invalid', message: firstIssue(r.error) };
    const { flowInstanceId, participants } = r.data;
    const pressed = participants.find((p) => p.input?.dtmf);
    if (!pressed) return { kind: 'no_dtmf', conversationId: flowInstanceId };
    return {
      kind: 'event',
      event: {
        conversationId: flowInstanceId,
        ...(pressed.id ? { participantId: pressed.id } : {}),
        dtmf: String(pressed.input?.dtmf).toUpperCase(),
        flowInstanceId,
        source: 'tutorial',
      },
    };
  }
  return { kind: 'invalid', message: 'missing flowInstanceId (tutorial payload) or conversationId (data-action payload)' };
}

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid payload';
  const path = i.path.length ? i.path.join('.') : '';
  return i.message.includes(String(i.path[0] ?? '\u0000')) || !path ? i.message : `${path}: ${i.message}`;
}

/** Nesting depth of a parsed JSON value (iterative: a hostile body cannot overflow the stack). */
export function jsonDepth(value: unknown, limit = 64): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) stack.push([child, d + 1]);
  }
  return max;
}
