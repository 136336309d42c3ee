import { describe, expect, it } from 'vitest';
import { parseStrictJson } from './strict-json';

describe('parseStrictJson', () => {
  it('parses what JSON.parse parses', () => {
    expect(parseStrictJson('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}')).toEqual({ a: 1, b: { a: 2 }, c: [{ a: 3 }, { a: 4 }] });
  });
  it('refuses a key repeated in one object, which JSON.parse silently accepts', () => {
    const line = '{"level":30,"decisionId":"d-1","msg":"decided","decisionId":"d-1"}';
    expect(() => JSON.parse(line)).not.toThrow();
    expect(() => parseStrictJson(line)).toThrow(/duplicate key "decisionId"/);
    expect(() => parseStrictJson('{"a":{"x":1,"x":2}}')).toThrow(/duplicate key "x"/);
  });
  it('refuses comments, trailing commas and broken JSON', () => {
    expect(() => parseStrictJson('{"a":1,}')).toThrow(/not strict JSON/);
    expect(() => parseStrictJson('{"a":1 /* c */}')).toThrow(/not strict JSON/);
    expect(() => parseStrictJson('{"a":')).toThrow(/not strict JSON/);
  });
});
