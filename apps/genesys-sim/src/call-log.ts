import type { CallRecord, SimEndpoint, SimStats } from './types';

/** A fixed-size ring of the latest calls plus exact counters (cheap under load). */
export class CallLog {
  private readonly ring: (CallRecord | undefined)[];
  private total = 0;
  private countByEndpoint: Record<string, number> = {};
  private byStatus: Record<string, number> = {};
  private byEndpoint: Record<string, Record<string, number>> = {};

  constructor(private readonly capacity: number) {
    this.ring = new Array<CallRecord | undefined>(capacity);
  }

  record(method: string, path: string, status: number, endpoint: SimEndpoint): void {
    const index = this.total;
    this.ring[index % this.capacity] = { index, method, path, status, time: Date.now(), endpoint };
    this.total = index + 1;
    this.countByEndpoint[endpoint] = (this.countByEndpoint[endpoint] ?? 0) + 1;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    const perEndpoint = (this.byEndpoint[endpoint] ??= {});
    perEndpoint[status] = (perEndpoint[status] ?? 0) + 1;
  }

  /** Calls with index >= since that are still kept, oldest first. */
  list(since = 0, endpoint?: string): CallRecord[] {
    const from = Math.max(since, this.total - this.capacity, 0);
    const out: CallRecord[] = [];
    for (let i = from; i < this.total; i++) {
      const rec = this.ring[i % this.capacity];
      if (rec && (endpoint === undefined || rec.endpoint === endpoint)) out.push(rec);
    }
    return out;
  }

  get size(): number {
    return this.total;
  }

  stats(): SimStats {
    return {
      total: this.total,
      countByEndpoint: { ...this.countByEndpoint },
      byStatus: { ...this.byStatus },
      byEndpoint: Object.fromEntries(Object.entries(this.byEndpoint).map(([k, v]) => [k, { ...v }])),
    };
  }

  clear(): void {
    this.ring.fill(undefined);
    this.total = 0;
    this.countByEndpoint = {};
    this.byStatus = {};
    this.byEndpoint = {};
  }
}
