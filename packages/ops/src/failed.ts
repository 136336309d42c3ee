import type { Job, Queue } from 'bullmq';

export interface FailedJobInfo {
  queue: string;
  jobId: string;
  name: string;
  attemptsMade: number;
  maxAttempts: number;
  failedReason: string;
  failedAt: string | undefined;
  idempotencyKey?: string;
  conversationId?: string;
  decisionId?: string;
}

/** Pick queues by name; an unknown name is an error listing the known ones. */
export function selectQueues(all: readonly Queue[], name?: string): Queue[] {
  if (!name) return [...all];
  const q = all.find((x) => x.name === name);
  if (!q) throw new Error(`unknown queue "${name}"; queues: ${all.map((x) => x.name).join(', ')}`);
  return [q];
}

function info(queue: string, job: Job): FailedJobInfo {
  const d = (job.data ?? {}) as { idempotencyKey?: string; conversationId?: string; decisionId?: string };
  return {
    queue,
    jobId: String(job.id),
    name: job.name,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    failedReason: job.failedReason ?? '',
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
    idempotencyKey: d.idempotencyKey,
    conversationId: d.conversationId,
    decisionId: d.decisionId,
  };
}

/** Failed jobs (newest first), at most `limit` per queue, with the total failed count per queue. */
export async function listFailed(queues: readonly Queue[], limit = 20): Promise<{ jobs: FailedJobInfo[]; counts: Record<string, number> }> {
  const jobs: FailedJobInfo[] = [];
  const counts: Record<string, number> = {};
  for (const q of queues) {
    counts[q.name] = await q.getFailedCount();
    if (limit > 0) for (const j of await q.getFailed(0, limit - 1)) if (j) jobs.push(info(q.name, j));
  }
  return { jobs, counts };
}

export function formatFailed(r: { jobs: FailedJobInfo[]; counts: Record<string, number> }): string {
  const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
  const lines = [`Failed jobs: ${total} (${Object.entries(r.counts).map(([q, n]) => `${q} ${n}`).join(', ')})`];
  for (const j of r.jobs) {
    const ids = [j.idempotencyKey && `key ${j.idempotencyKey}`, j.conversationId && `conversation ${j.conversationId}`, j.decisionId && `decision ${j.decisionId}`].filter(Boolean).join(', ');
    lines.push(`  ${j.queue} ${j.jobId}  attempts ${j.attemptsMade}/${j.maxAttempts}  ${j.failedAt ?? ''}${ids ? `  (${ids})` : ''}`);
    lines.push(`      ${j.failedReason || '(no reason recorded)'}`);
  }
  if (total > r.jobs.length) lines.push(`  (${r.jobs.length} shown; --limit N for more)`);
  if (total) lines.push('Retry with: pnpm ivr retry --all [--queue q]   or   pnpm ivr retry <jobId> [--queue q]');
  return lines.join('\n');
}

/** Retry one failed job (Bull Board's "Retry" button): `job.retry('failed')`. Looks in every given queue. */
export async function retryFailedJob(queues: readonly Queue[], jobId: string): Promise<{ queue: string; jobId: string }> {
  const found: Array<{ q: Queue; job: Job }> = [];
  for (const q of queues) {
    const job = await q.getJob(jobId);
    if (job) found.push({ q, job });
  }
  if (!found.length) throw new Error(`no job ${jobId} in ${queues.map((q) => q.name).join(', ')} (completed and failed jobs are removed after a while; list failed ones with pnpm ivr failed)`);
  if (found.length > 1) throw new Error(`job ${jobId} exists in ${found.map((f) => f.q.name).join(' and ')}; say which with --queue`);
  const { q, job } = found[0]!;
  const state = await job.getState();
  if (state !== 'failed') throw new Error(`job ${jobId} in ${q.name} is ${state}, not failed; only failed jobs can be retried`);
  await job.retry('failed');
  return { queue: q.name, jobId };
}

/** Genesys statuses a retry cannot fix (the request itself, the OAuth role, or the call is gone): never retried in bulk. */
export const NOT_RETRYABLE_STATUSES: readonly number[] = [400, 403, 404];

/** The Genesys HTTP status named in a failure reason ("Genesys 404 not.found: …"), if any. */
export function genesysStatusOf(reason: string): number | undefined {
  const m = /\bGenesys (\d{3})\b/.exec(reason);
  return m ? Number(m[1]) : undefined;
}

/** What an operator can do about a failure, per Genesys status (GENESYS.md; integrations/genesys/README.md for the role). */
export function failureHint(status: number | undefined, reason = ''): string {
  if (status === 400) return 'Genesys refused the request as invalid (attribute names/values, participant id): fix the data or the flow; a retry sends the same request and fails again.';
  if (status === 401) return 'Genesys did not accept the login: check GENESYS_CLIENT_ID/GENESYS_CLIENT_SECRET and the region (GENESYS_ENVIRONMENT), then retry.';
  if (status === 403) return "The OAuth client's role lacks a permission (participant attributes edit, analytics:queueObservation:view): fix the role in Genesys (see integrations/genesys/README.md); a retry fails until then.";
  if (status === 404) return 'The conversation or participant no longer exists (the call ended): nothing left to write; a retry fails again.';
  if (status === 409) return 'Conflict with a concurrent update of the conversation: a retry is safe.';
  if (status === 429) return 'Genesys rate limit: the write queue pauses for Retry-After by itself; retry after the pause.';
  if (status !== undefined && status >= 500) return 'Genesys-side error: a retry is safe once Genesys answers again.';
  if (/unreachable|timed out|ECONN|ETIMEDOUT|network/i.test(reason)) return 'Genesys could not be reached: check the network/proxy; a retry is safe.';
  if (/store|Elasticsearch/i.test(reason)) return 'The decision store refused or was unavailable: check it (docs/operations.md); a retry is safe.';
  return 'See the reason; a retry is safe if the cause is gone.';
}

/** Whether "retry all retryable" may retry a failure with this reason. */
export function isRetryableFailure(reason: string): boolean {
  const status = genesysStatusOf(reason);
  return status === undefined || !NOT_RETRYABLE_STATUSES.includes(status);
}

export interface FailureGroup {
  queue: string;
  /** Stable label: "Genesys 404 not.found" or the reason with ids and numbers blanked. */
  reason: string;
  status: number | undefined;
  hint: string;
  retryable: boolean;
  count: number;
  /** A few job ids of the group (newest first) and one full example reason. */
  jobIds: string[];
  example: string;
}

/** The label failures are grouped under: status + Genesys code, else the reason without ids, numbers and quotes. */
export function failureGroupLabel(reason: string): string {
  const g = /\b(Genesys \d{3})(?: ([\w.-]+))?/.exec(reason);
  if (g) return g[2] && !g[2].endsWith(':') ? `${g[1]} ${g[2].replace(/:$/, '')}` : g[1]!;
  const cleaned = reason
    .replace(/\(contextId [^)]*\)/g, '')
    .replace(/"[^"]*"|'[^']*'/g, '…')
    .replace(/\b[0-9a-f]{8}-[0-9a-f-]{27,}\b/gi, '…')
    .replace(/\d+/g, 'N')
    .trim();
  return (cleaned || '(no reason recorded)').slice(0, 120);
}

/** Failed jobs of each queue grouped by reason, largest group first; reads at most `scan` failed jobs per queue. */
export async function groupFailed(queues: readonly Queue[], scan = 1000): Promise<FailureGroup[]> {
  const groups = new Map<string, FailureGroup>();
  for (const q of queues) {
    const jobs = await q.getFailed(0, scan - 1);
    for (const j of jobs) {
      if (!j) continue;
      const reason = j.failedReason ?? '';
      const label = failureGroupLabel(reason);
      const status = genesysStatusOf(reason);
      const k = `${q.name}\u0000${label}`;
      let g = groups.get(k);
      if (!g) {
        g = { queue: q.name, reason: label, status, hint: failureHint(status, reason), retryable: isRetryableFailure(reason), count: 0, jobIds: [], example: reason };
        groups.set(k, g);
      }
      g.count++;
      if (g.jobIds.length < 5) g.jobIds.push(String(j.id));
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.queue.localeCompare(b.queue));
}

/**
 * "Retry all retryable": every failed job whose reason is not a Genesys 400/403/404 goes back to wait; those stay
 * failed (Genesys would refuse them again). Pages through the failed set; a job retried by someone else meanwhile is skipped.
 */
export async function retryRetryableFailed(queues: readonly Queue[]): Promise<Record<string, { retried: number; left: number }>> {
  const out: Record<string, { retried: number; left: number }> = {};
  for (const q of queues) {
    const r = { retried: 0, left: 0 };
    const seen = new Set<string>();
    for (;;) {
      const page = (await q.getFailed(0, 199)).filter((j): j is Job => !!j && !seen.has(String(j.id)));
      if (!page.length) break;
      for (const j of page) {
        seen.add(String(j.id));
        if (!isRetryableFailure(j.failedReason ?? '')) {
          r.left++;
          continue;
        }
        try {
          await j.retry('failed');
          r.retried++;
        } catch {
          // no longer failed (retried or removed meanwhile)
        }
      }
    }
    out[q.name] = r;
  }
  return out;
}
