export interface DemoCall {
  key: string;
  body: { conversationId: string; participantId?: string; dtmf: string } | { flowInstanceId: string; participants: Array<{ id?: string; input: { dtmf: string } }> };
}

/** POST every call with `concurrency` requests in flight; returns status counts and ack latencies (ms). */
export async function sendAll(url: string, calls: readonly DemoCall[], concurrency: number): Promise<{ statuses: Record<string, number>; ackMs: number[] }> {
  const statuses: Record<string, number> = {};
  const ackMs: number[] = [];
  let next = 0;
  async function lane(): Promise<void> {
    while (next < calls.length) {
      const c = calls[next++]!;
      for (let attempt = 0; ; attempt++) {
        const start = performance.now();
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': c.key }, body: JSON.stringify(c.body) });
        await res.arrayBuffer();
        ackMs.push(performance.now() - start);
        // Like Genesys: retry on 503 after Retry-After.
        if (res.status === 503 && attempt < 5) {
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
          continue;
        }
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        break;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { statuses, ackMs };
}
