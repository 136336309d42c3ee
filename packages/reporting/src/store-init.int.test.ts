/**
 * initInBackground against a real Elasticsearch reached through a TCP gate: closed = connection refused (the node
 * is down), open = forwarded to the node. Runs where the Elasticsearch suites run (see real-elasticsearch.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@ivr/testing';
import { createElasticsearchStore } from './elasticsearch-store';
import { makeDoc } from './fixtures';
import { announceSkip, assertUsable, elasticsearchTarget, tcpGate, testClient } from './real-elasticsearch';
import { initInBackground } from './store-init';
import { StoreUnavailableError } from './store';

const target = await elasticsearchTarget();
announceSkip('store init in the background', target);

describe.runIf(target.run)('initInBackground (real Elasticsearch behind a gate)', () => {
  // beforeEach, not beforeAll: under CI each test FAILS with the reason (a failed beforeAll reports them skipped)
  beforeEach(() => assertUsable(target));
  const index = `test-store-init-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  afterAll(async () => {
    if (target.problem) return;
    const admin = testClient(target.url!);
    await admin.indices.delete({ index, ignore_unavailable: true });
    await admin.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
    await admin.close();
  });

  it('starts with the store down, fails writes with the reason, and initialises and writes once it is back', async () => {
    const gate = await tcpGate(new URL(target.url!));
    const logs: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
    const logger = {
      info: (obj: object, msg: string) => logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
      warn: (obj: object, msg: string) => logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    };
    const store = initInBackground(createElasticsearchStore({ node: gate.url, index, refresh: 'wait_for' }), { logger, retryMs: 50, maxRetryMs: 200 });
    try {
      await store.init(); // returns at once: the process carries on
      expect(store.isReady()).toBe(false);
      const err = await store.writeBatch([makeDoc(1)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/^decision store not initialised yet \(index template and index\): Elasticsearch unavailable \(index template\): .*ECONNREFUSED/);
      // a write outcome waits for the template too (an update would otherwise create the index without it)
      const outcomeErr = await store.recordWriteOutcomes([{ decisionId: 'd-1', writeStatus: 'written', writtenAt: new Date().toISOString() }]).catch((e: unknown) => e);
      expect(outcomeErr).toBeInstanceOf(StoreUnavailableError);
      expect((outcomeErr as Error).message).toMatch(/^decision store not initialised yet/);
      await waitFor(async () => logs.filter((l) => l.msg === 'decision store not initialised; retrying').length >= 2, 'init retried in the background', 10000, 20);
      expect(logs.find((l) => l.level === 'warn')!.obj.err).toMatch(/ECONNREFUSED/);
      // nothing was written behind the template's back: no index exists yet
      const admin = testClient(target.url!);
      expect(await admin.indices.exists({ index })).toBe(false);
      await admin.close();

      await gate.open();
      await store.ready();
      expect(logs.at(-1)).toMatchObject({ level: 'info', msg: 'decision store initialised' });
      expect(await store.writeBatch([makeDoc(1), makeDoc(2)])).toEqual({ written: 2, duplicates: 0, failed: [] });
      expect(await store.count()).toBe(2);
    } finally {
      await store.close();
      await gate.close();
    }
  });
});
