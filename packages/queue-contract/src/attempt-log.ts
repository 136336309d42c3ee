/**
 * One `job.log` line per Genesys write attempt (apply processor), read back by the dashboard's events page.
 * JSON on one line: Bull Board's Logs tab shows it as text, the events page parses it.
 */
export interface AttemptLogEntry {
  /** ISO time of the attempt's outcome. */
  at: string;
  /** 1-based attempt number (BullMQ attemptsMade + 1). */
  attempt: number;
  outcome: 'applied' | 'retry' | 'failed' | 'rate_limited' | 'budget_exhausted' | 'superseded' | 'busy';
  /** HTTP status Genesys answered, when there was an answer. */
  status?: number;
  contextId?: string;
  message?: string;
}

export function formatAttemptLog(e: AttemptLogEntry): string {
  return JSON.stringify(e);
}

/** The attempt entries among a job's log lines (other lines are ignored). */
export function parseAttemptLogs(lines: readonly string[]): AttemptLogEntry[] {
  const out: AttemptLogEntry[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as Partial<AttemptLogEntry>;
      if (typeof v.attempt === 'number' && typeof v.outcome === 'string' && typeof v.at === 'string') out.push(v as AttemptLogEntry);
    } catch {
      // not ours
    }
  }
  return out;
}
