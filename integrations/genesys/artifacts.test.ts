import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseWebhookBody } from '@ivr/core';
import { validateSchema, type JsonSchema } from './json-schema';
import { escapeJsonString, renderSuccess, renderVelocity } from './render-template';

const here = (f: string) => new URL(f, import.meta.url);
const readJson = (f: string) => JSON.parse(readFileSync(here(f), 'utf8')) as Record<string, any>;

const action = readJson('./data-action.json');
const contractSchema = readJson('./contract.schema.json') as JsonSchema;
const companion = readJson('./get-customer-participant.data-action.json');
const archyTemplate = readFileSync(here('./ivr-routing.archy.yaml'), 'utf8');
const terraform = ['main.tf', 'variables.tf', 'outputs.tf']
  .map((f) => readFileSync(here(`./terraform/${f}`), 'utf8'))
  .join('\n');
const readme = readFileSync(here('./README.md'), 'utf8');

/** The text of an HCL block `<header> {...}` (braces inside "strings" and # comments skipped). */
function hclBlock(text: string, header: RegExp): string | undefined {
  const m = header.exec(text);
  if (!m) return undefined;
  let i = text.indexOf('{', m.index + m[0].length - 1);
  const start = i;
  let depth = 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++; // a comment may hold braces
    } else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return text.slice(start + 1, i);
  }
  return undefined;
}
const resourceBlock = (type: string, name: string) => hclBlock(terraform, new RegExp(`resource\\s+"${type}"\\s+"${name}"\\s*\\{`));
/** `key = value` of a block's top level (first match; the value's expression text). */
const attribute = (block: string | undefined, key: string) => (block ? new RegExp(`^\\s*${key}\\s*=\\s*(.+?)\\s*$`, 'm').exec(block)?.[1] : undefined);
const variableDefault = (name: string) => {
  const v = attribute(hclBlock(terraform, new RegExp(`variable\\s+"${name}"\\s*\\{`)), 'default');
  return v === undefined || v === 'null' ? v : (JSON.parse(v) as string);
};

/**
 * The value Terraform gives an expression of ours: variables' defaults, resource attributes followed to their
 * definitions, the companion export (local.companion = the JSON file), the home division (its name at apply time).
 */
function resolve(expr: string): string {
  const v = /^var\.(\w+)$/.exec(expr);
  if (v) return variableDefault(v[1]!) ?? `(no default for ${v[1]})`;
  const local = /^local\.companion\.name$/.exec(expr);
  if (local) return companion.name as string;
  if (expr === 'data.genesyscloud_auth_division_home.home.name') return 'Home';
  const configName = /^genesyscloud_integration\.(\w+)\.config\[0\]\.name$/.exec(expr);
  if (configName) return resolve(attribute(hclBlock(resourceBlock('genesyscloud_integration', configName[1]!) ?? '', /config\s*\{/), 'name') ?? '?');
  const attr = /^(genesyscloud_\w+)\.(\w+)\.(\w+)$/.exec(expr);
  if (attr) return resolve(attribute(resourceBlock(attr[1]!, attr[2]!), attr[3]!) ?? `(no ${attr[3]} on ${attr[1]}.${attr[2]})`);
  if (/^".*"$/.test(expr)) return JSON.parse(expr) as string;
  return `(unresolved ${expr})`;
}

/** genesyscloud_flow's substitutions, resolved; and the flow they render. */
const flowResource = resourceBlock('genesyscloud_flow', 'ivr_routing');
const substitutions = Object.fromEntries(
  [...(hclBlock(flowResource ?? '', /substitutions\s*=\s*\{/) ?? '').matchAll(/^\s*(\w+)\s*=\s*(.+?)\s*$/gm)].map((m) => [m[1]!, resolve(m[2]!)]),
);
const placeholders = [...new Set([...archyTemplate.replace(/^#.*$/gm, '').matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!))].sort();
const rendered = archyTemplate.replace(/\{\{(\w+)\}\}/g, (_, k: string) => substitutions[k] ?? `{{${k}}}`);
const archy = parseYaml(rendered) as Record<string, any>;

const clone = <T>(v: T): T => structuredClone(v);
const request = action.config.request;
const response = action.config.response;
const inputSchema = action.contract.input.inputSchema as JsonSchema;
const successSchema = action.contract.output.successSchema as JsonSchema;

const sampleInput = {
  conversationId: '3f1c2a9e-7b4d-4e8a-9c61-2d5f0b8e1a77',
  participantId: '8a0e6b52-1c3d-4f7e-b9a2-5e6f7a8b9c0d',
  dtmf: '1',
  attempt: 1,
};
const credentials = { baseUrl: 'https://ivr.example.com', webhookToken: 'x'.repeat(40) };

describe('data-action.json against contract.schema.json', () => {
  it('is a valid export', () => {
    expect(validateSchema(contractSchema, action)).toEqual([]);
  });

  it.each([
    ['a wrong integration type', (a: any) => (a.integrationType = 'purecloud-data-actions'), 'integrationType'],
    ['GET instead of POST', (a: any) => (a.config.request.requestType = 'GET'), 'requestType'],
    ['another path', (a: any) => (a.config.request.requestUrlTemplate = '${credentials.baseUrl}/webhook/other'), 'requestUrlTemplate'],
    ['plain http', (a: any) => (a.config.request.requestUrlTemplate = 'http://ivr.example.com/webhook/genesys-dtmf'), 'requestUrlTemplate'],
    ['Prefer wait over 10 s', (a: any) => (a.config.request.headers.Prefer = 'wait=11'), 'Prefer'],
    ['no webhook token', (a: any) => delete a.config.request.headers['X-Webhook-Token'], 'X-Webhook-Token'],
    ['a literal token', (a: any) => (a.config.request.headers['X-Webhook-Token'] = 's3cret'), 'X-Webhook-Token'],
    ['a key without the attempt', (a: any) => (a.config.request.headers['Idempotency-Key'] = '${input.conversationId}'), 'Idempotency-Key'],
    ['no dtmf in the body', (a: any) => (a.config.request.requestTemplate = '{"conversationId":"${input.conversationId}","participantId":"${input.participantId}"}'), 'requestTemplate'],
    ['routing mapped elsewhere', (a: any) => (a.config.response.translationMap.routing = '$.route'), 'routing'],
    ['no default for routing', (a: any) => delete a.config.response.translationMapDefaults.routing, 'routing'],
    ['dtmf not required', (a: any) => (a.contract.input.inputSchema.required = ['conversationId', 'participantId']), 'required'],
    ['routing without its enum', (a: any) => delete a.contract.output.successSchema.properties.routing.enum, 'enum'],
    ['a voicemail route missing from the enum', (a: any) => (a.contract.output.successSchema.properties.routing.enum = ['route_to_queue']), 'enum'],
  ])('rejects %s', (_name, mutate, where) => {
    const bad = clone(action);
    mutate(bad);
    const errors = validateSchema(contractSchema, bad);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => `${e.path} ${e.message}`).join('\n')).toContain(where);
  });
});

describe('request rendering', () => {
  it('renders the body the receiver parses as the same event', () => {
    expect(validateSchema(inputSchema, sampleInput)).toEqual([]);
    const body = renderVelocity(request.requestTemplate, { input: sampleInput, credentials });
    expect(body).not.toContain('$');
    const parsed = parseWebhookBody(JSON.parse(body));
    expect(parsed.kind).toBe('event');
    if (parsed.kind !== 'event') return;
    expect(parsed.event).toMatchObject({
      conversationId: sampleInput.conversationId,
      participantId: sampleInput.participantId,
      dtmf: sampleInput.dtmf,
      source: 'data-action',
    });
  });

  it('escapes hostile input so the body stays JSON (and the receiver rejects it, not a parser)', () => {
    const nasty = { ...sampleInput, dtmf: '1", "queueId": "vip\\\n' };
    const body = renderVelocity(request.requestTemplate, { input: nasty, credentials });
    const json = JSON.parse(body) as Record<string, unknown>;
    expect(json['dtmf']).toBe(nasty.dtmf);
    expect(json).not.toHaveProperty('queueId');
    expect(parseWebhookBody(json).kind).toBe('invalid');
  });

  it('escapes like Commons escapeJson', () => {
    expect(escapeJsonString('a"b\\c/d\ne\u0001')).toBe('a\\"b\\\\c\\/d\\ne\\u0001');
    expect(JSON.parse(`"${escapeJsonString('a"b\\c/d\ne\u0001')}"`)).toBe('a"b\\c/d\ne\u0001');
  });

  it('a template that forgets to escape breaks on a quote: the escaping is load-bearing', () => {
    const naive = request.requestTemplate.replace(/\$esc\.jsonString\((\$\{[^}]+\})\)/g, '$1');
    const nasty = { ...sampleInput, dtmf: '1"' };
    expect(() => JSON.parse(renderVelocity(naive, { input: nasty, credentials }))).toThrow();
  });

  it('resolves the URL and headers from credentials and input', () => {
    const url = renderVelocity(request.requestUrlTemplate, { input: sampleInput, credentials });
    expect(url).toBe('https://ivr.example.com/webhook/genesys-dtmf');
    const headers = Object.fromEntries(
      Object.entries(request.headers as Record<string, string>).map(([k, v]) => [k, renderVelocity(v, { input: sampleInput, credentials })]),
    );
    expect(headers['X-Webhook-Token']).toBe(credentials.webhookToken);
    const key = headers['Idempotency-Key'] ?? '';
    expect(key).toMatch(/^[\x21-\x7e]{1,200}$/); // the receiver's key rule (packages/core idempotency)
    expect(key).toContain(sampleInput.conversationId);
    // a retry of the same collection keeps the key; a new collection (attempt + 1) gets a new one
    const again = renderVelocity(request.headers['Idempotency-Key'], { input: { ...sampleInput } });
    const next = renderVelocity(request.headers['Idempotency-Key'], { input: { ...sampleInput, attempt: 2 } });
    expect(again).toBe(key);
    expect(next).not.toBe(key);
  });

  it('Prefer waits at most 10 s and less than the action timeout', () => {
    const m = /^wait=(\d+)$/.exec(request.headers.Prefer);
    expect(m).not.toBeNull();
    const wait = Number(m?.[1]);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(10);
    expect(action.config.timeoutSeconds).toBeGreaterThan(wait);
  });
});

describe('response mapping', () => {
  const mapped = Object.keys(response.translationMap).sort();
  const outputProps = Object.keys(successSchema && typeof successSchema === 'object' ? (successSchema['properties'] as object) : {}).sort();

  it('translationMap keys are exactly the successSchema properties and cover what the receiver returns', () => {
    expect(mapped).toEqual(outputProps);
    expect(mapped).toEqual(expect.arrayContaining(['routing', 'availableAgents', 'status']));
    expect(Object.keys(response.translationMapDefaults).sort()).toEqual(mapped);
  });

  it.each([
    ['queue', 'route_to_queue', 7],
    ['voicemail', 'route_to_vm', 0],
  ])('maps a decided answer (%s)', (_n, routing, agents) => {
    const receiverAnswer = { status: 'decided', routing, availableAgents: agents, decisionId: 'd-0123456789abcdef01234567', queueId: 'q-1' };
    const out = JSON.parse(renderSuccess(response, receiverAnswer));
    expect(validateSchema(successSchema, out)).toEqual([]);
    expect(out).toEqual({ status: 'decided', routing, availableAgents: agents, decisionId: receiverAnswer.decisionId });
  });

  it('maps a 202 accepted (no decision before the deadline) to defaults the flow can tell apart', () => {
    const out = JSON.parse(renderSuccess(response, { status: 'accepted', jobId: 'j1', idempotencyKey: 'k1' }));
    expect(validateSchema(successSchema, out)).toEqual([]);
    expect(out.status).toBe('accepted');
    expect(out.availableAgents).toBe(-1);
  });

  it('the output schema rejects an unknown route', () => {
    const out = JSON.parse(renderSuccess(response, { status: 'decided', routing: 'route_to_mars', availableAgents: 1 }));
    expect(validateSchema(successSchema, out).map((e) => e.path)).toContain('$.routing');
  });
});

describe('Archy flow (rendered with the Terraform substitutions)', () => {
  const flow = archy['inboundCall'];
  const callDatas: any[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === 'callData') callDatas.push(v);
        walk(v);
      }
    }
  };
  walk(flow);
  /** The callData calling `actionName`, with the category it names it under. */
  const callOf = (actionName: string) => {
    for (const c of callDatas) {
      for (const [category, v] of Object.entries((c.category ?? {}) as Record<string, any>)) {
        if (v?.dataAction?.[actionName]) return { call: c, category, action: v.dataAction[actionName] };
      }
    }
    return undefined;
  };

  it('the flow template and genesyscloud_flow agree on the placeholders', () => {
    expect(flowResource, 'resource "genesyscloud_flow" "ivr_routing"').toBeDefined();
    expect(attribute(flowResource, 'filepath')).toBe('"${path.module}/../ivr-routing.archy.yaml"');
    expect(placeholders.length).toBeGreaterThan(0);
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    for (const [k, v] of Object.entries(substitutions)) expect(v, `substitution ${k}`).not.toMatch(/^\(/);
    expect(rendered.replace(/^\s*#.*$/gm, '')).not.toContain('{{');
  });

  it('is an inbound call flow whose start task exists', () => {
    expect(flow).toBeDefined();
    const ref = /task\[(.+)\]/.exec(flow.startUpRef)?.[1];
    expect(flow.tasks.map((t: any) => t.task.refId)).toContain(ref);
    expect(flow.name).toBe(resolve('var.flow_name'));
  });

  it("calls the export's data action by name, under the category = the Terraform integration's name", () => {
    const integrationName = resolve(attribute(hclBlock(resourceBlock('genesyscloud_integration', 'receiver') ?? '', /config\s*\{/), 'name')!);
    const tfActionName = resolve(attribute(resourceBlock('genesyscloud_integration_action', 'decide_route'), 'name')!);
    // A rename on one side (export, Terraform variable or flow) fails one of these.
    expect(tfActionName).toBe(action.name);
    expect(resolve(attribute(resourceBlock('genesyscloud_integration_action', 'decide_route'), 'category')!)).toBe(integrationName);
    const ours = callOf(action.name);
    expect(ours, `a callData action naming "${action.name}"`).toBeDefined();
    expect(ours!.category).toBe(integrationName);
    const inputs = Object.keys(ours!.action.inputs);
    expect(inputs).toEqual(expect.arrayContaining(action.contract.input.inputSchema.required));
    expect(ours!.action.inputs.conversationId.exp).toBe('Call.ConversationId');
    expect(Object.keys(ours!.action.successOutputs)).toEqual(expect.arrayContaining(['routing', 'status']));
    expect(Object.keys(ours!.call.outputs)).toEqual(expect.arrayContaining(['success', 'failure', 'timeout']));
    // the flow waits longer than the receiver holds the answer
    expect(ours!.call.timeout.lit.seconds).toBeGreaterThan(Number(/wait=(\d+)/.exec(request.headers.Prefer)?.[1]));
  });

  it('uses the companion action (Terraform reads its export) under its own integration, for the participant id', () => {
    expect(terraform).toContain('jsondecode(file("${path.module}/../get-customer-participant.data-action.json"))');
    expect(attribute(resourceBlock('genesyscloud_integration', 'companion'), 'integration_type')).toBe('local.companion.integrationType');
    expect(companion.integrationType).toBe('purecloud-data-actions');
    const c = callOf(companion.name);
    expect(c, `a callData action naming "${companion.name}"`).toBeDefined();
    expect(c!.category).toBe(resolve('var.companion_integration_name'));
    expect(c!.category).not.toBe(resolve('var.integration_name'));
    expect(Object.keys(companion.contract.output.successSchema.properties)).toContain('participantId');
  });

  it('never makes a participant id up: an unknown caller is sent as "" and the receiver leaves it to the worker', () => {
    expect(rendered).not.toMatch(/lit: customer\b/);
    const variable = flow.variables.find((v: any) => v.stringVariable?.name === 'Flow.customerParticipantId');
    expect(variable.stringVariable.initialValue).toEqual({ lit: '' });
    const body = renderVelocity(request.requestTemplate, { input: { ...sampleInput, participantId: '' }, credentials });
    const parsed = parseWebhookBody(JSON.parse(body));
    expect(parsed.kind === 'event' && 'participantId' in parsed.event).toBe(false);
  });

  it('falls back to participant data finalRoutingDecision, then the queue (the Terraform queue name)', () => {
    expect(rendered).toMatch(/getParticipantData:[\s\S]*lit: finalRoutingDecision/);
    expect(rendered).toContain('route_to_vm');
    expect(rendered).toMatch(/transferToAcd:/);
    expect(rendered).toMatch(/transferToVoicemail:/);
    expect(rendered).toContain(`name: ${JSON.stringify(resolve('var.queue_name'))}`);
  });
});

describe('Terraform', () => {
  it.each([
    'genesyscloud_integration',
    'genesyscloud_integration_credential',
    'genesyscloud_integration_action',
    'genesyscloud_oauth_client',
    'genesyscloud_auth_role',
    'genesyscloud_flow',
  ])('declares %s', (type) => {
    expect(terraform).toMatch(new RegExp(`resource\\s+"${type}"\\s+"`));
  });

  it('uses the CX as Code provider, custom-rest-actions and userDefined credentials', () => {
    expect(terraform).toContain('source  = "mypurecloud/genesyscloud"');
    expect(terraform).toContain('integration_type = "custom-rest-actions"');
    expect(terraform).toContain('credential_type_name = "userDefined"');
  });

  it('the region comes from GENESYSCLOUD_REGION unless the user sets genesys_region (no default overrides it)', () => {
    const provider = hclBlock(terraform, /provider\s+"genesyscloud"\s*\{/);
    const region = attribute(provider, 'aws_region');
    if (region !== undefined) {
      const v = /^var\.(\w+)$/.exec(region)?.[1];
      expect(v, 'aws_region comes from a variable').toBeDefined();
      expect(variableDefault(v!), `variable ${v} must default to null (unset: the provider reads GENESYSCLOUD_REGION)`).toBe('null');
    }
  });

  it("the workers' role grants what the workers call, and the README lists it", () => {
    const role = resourceBlock('genesyscloud_auth_role', 'workers') ?? '';
    const granted = [...role.matchAll(/domain\s*=\s*"(\w+)"\s*entity_name\s*=\s*"(\w+)"\s*action_set\s*=\s*\[([^\]]*)\]/g)].flatMap((m) =>
      [...m[3]!.matchAll(/"(\w+)"/g)].map((a) => `${m[1]}:${m[2]}:${a[1]}`),
    );
    expect(granted.sort()).toEqual(['analytics:conversationAggregate:view', 'analytics:queueObservation:view', 'conversation:communication:view', 'routing:queue:view']);
    for (const permission of granted) expect(readme, `README lists ${permission}`).toContain(`\`${permission}\``);
  });

  it('the README lists what whoever applies the Terraform needs, for every resource type it declares', () => {
    const types = [...new Set([...terraform.matchAll(/resource\s+"(genesyscloud_\w+)"/g)].map((m) => m[1]!))];
    const needs: Record<string, string> = {
      genesyscloud_integration: 'integrations:integration:add',
      genesyscloud_integration_credential: 'integrations:integration:edit',
      genesyscloud_integration_action: 'integrations:action:add',
      genesyscloud_oauth_client: 'oauth:client:add',
      genesyscloud_auth_role: 'authorization:role:add',
      genesyscloud_flow: 'architect:flow:view',
    };
    for (const t of types) {
      expect(needs[t], `a permission to check for ${t}`).toBeDefined();
      expect(readme, `README lists ${needs[t]} (for ${t})`).toContain(`\`${needs[t]}\``);
    }
  });

  it('sends the same request and maps the same response as the JSON export', () => {
    const tf = (s: string) => s.replaceAll('${', () => '$${'); // Terraform escapes a literal '${' as '$${'
    const hcl = (s: string) => JSON.stringify(tf(s)); // as an HCL string literal
    expect(terraform).toContain(`request_url_template = ${hcl(request.requestUrlTemplate)}`);
    expect(terraform).toContain(`request_template     = ${hcl(request.requestTemplate)}`);
    expect(terraform).toContain(`success_template = ${hcl(response.successTemplate)}`);
    expect(terraform).toContain(`"Idempotency-Key" = ${hcl(request.headers['Idempotency-Key'])}`);
    for (const [k, v] of Object.entries(response.translationMap as Record<string, string>)) {
      expect(terraform).toMatch(new RegExp(`${k}\\s*=\\s*"${v.replace(/[.$]/g, '\\$&')}"`));
    }
  });
});
