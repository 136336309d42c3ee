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

/** Retry every failed job (Bull Board's "Retry all"): `queue.retryJobs({ state: 'failed' })`. Returns how many were failed before. */
export async function retryAllFailed(queues: readonly Queue[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of queues) {
    out[q.name] = await q.getFailedCount();
    if (out[q.name]) await q.retryJobs({ state: 'failed', count: 1000 });
  }
  return out;
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
