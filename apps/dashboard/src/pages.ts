import type { CallJourney, FailureGroup, JobView } from '@ivr/ops';
import type { WriteOutcome } from '@ivr/core';
import { batchReportsOf, REPORT_BATCH_JOB } from '@ivr/queue-contract';
import type { DecisionDoc } from '@ivr/reporting';
import { escapeHtml, formatDuration, page, timeHtml, type NavOptions } from './layout';

const pre = (v: unknown) => `<pre>${escapeHtml(JSON.stringify(v, null, 2))}</pre>`;

/** A `next=` target that stays on this dashboard (no scheme, no `//host`). */
export function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:[/?#]|$)/.test(next) && !next.startsWith('//') && !/[\\\r\n]/.test(next) ? next : '/admin';
}

/** The sign-in page (also the HTML 401 for browsers). */
export function signInPage(opts: { next?: string | undefined; error?: string | undefined; tokenConfigured: boolean }): string {
  const body = opts.tokenConfigured
    ? `<section class="card" style="max-width:520px">
  ${opts.error ? `<div class="notice" role="alert" id="sign-in-error">${escapeHtml(opts.error)}</div>` : ''}
  <p>Enter the dashboard's admin token (<code>ADMIN_TOKEN</code>). It is kept in a session cookie for 12 hours; API clients use <code>Authorization: Bearer &lt;token&gt;</code> instead.</p>
  <form method="post" action="/admin/sign-in" class="inline">
    <input type="hidden" name="next" value="${escapeHtml(safeNext(opts.next))}">
    <label for="token" class="visually-hidden">Admin token</label>
    <input type="password" id="token" name="token" autocomplete="current-password" placeholder="Admin token" required autofocus>
    <button type="submit">Sign in</button>
  </form>
</section>`
    : `<section class="card"><p>No <code>ADMIN_TOKEN</code> is configured: the dashboard listens on loopback only and needs no sign-in.</p><p><a class="button" href="/admin">Open the console</a></p></section>`;
  return page({ title: 'Sign in', body });
}

/** HTML error page (404, 405, 403, 503 …) with the navigation bar. */
export function errorPage(title: string, message: string, nav: NavOptions = {}): string {
  return page({ ...nav, title, body: `<div class="notice" role="alert" id="error-message">${escapeHtml(message)}</div><p><a href="/admin">Back to the status page</a></p>` });
}

/** For a report-batch job (decisions are reported in batches: the decide workers' and the receiver's): how many reports it carries. */
function batchHtml(j: JobView): string {
  const reports = j.name === REPORT_BATCH_JOB ? batchReportsOf(j.data) : undefined;
  if (!reports) return '';
  const others = reports.length - 1;
  return `<dt>Batch</dt><dd id="journey-report-batch">${others ? `this call's report and ${others} other${others === 1 ? '' : 's'}` : "this call's report alone"} (decisions are reported in batches)</dd>`;
}

function jobSummary(j: JobView | null, what: string): string {
  if (!j) return `<p class="muted">No ${escapeHtml(what)} job kept (not created yet, or removed after its retention).</p>`;
  const state = j.state === 'failed' ? 'bad' : j.state === 'completed' ? 'ok' : 'warn';
  return `<dl class="kv">
    <dt>Job</dt><dd><a href="/admin/queues/queue/${encodeURIComponent(j.queue)}/${encodeURIComponent(j.id)}"><code>${escapeHtml(j.queue)} / ${escapeHtml(j.id)}</code></a></dd>
    ${batchHtml(j)}
    <dt>State</dt><dd class="${state}">${escapeHtml(j.state)}</dd>
    <dt>Attempts</dt><dd>${j.attemptsMade} of ${j.maxAttempts}</dd>
    <dt>Added</dt><dd>${timeHtml(j.addedAt)}</dd>
    <dt>Finished</dt><dd>${timeHtml(j.finishedAt)}</dd>
    ${j.failedReason ? (j.state === 'failed' ? `<dt>Failed because</dt><dd class="bad">${escapeHtml(j.failedReason)}</dd>` : `<dt>Last error</dt><dd class="muted">${escapeHtml(j.failedReason)}</dd>`) : ''}
  </dl>`;
}

function attemptsHtml(j: JobView | null): string {
  if (!j) return '';
  if (!j.attempts.length) return '<p class="muted">No attempt logged yet.</p>';
  return `<table id="journey-attempts" class="stack" style="margin-bottom:10px"><thead><tr><th>#</th><th>Time</th><th>Outcome</th><th>HTTP status</th><th>contextId</th><th>Message</th></tr></thead><tbody>${j.attempts
    .map(
      (a) =>
        `<tr><td data-label="Attempt">${a.attempt}</td><td data-label="Time">${timeHtml(a.at)}</td><td class="${a.outcome === 'applied' ? 'ok' : a.outcome === 'failed' ? 'bad' : 'warn'}" data-label="Outcome">${escapeHtml(a.outcome)}</td><td data-label="HTTP status">${a.status ?? '—'}</td><td data-label="contextId">${a.contextId ? `<code>${escapeHtml(a.contextId)}</code>` : '—'}</td><td data-label="Message">${escapeHtml(a.message ?? '')}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** The write's outcome from the stored record, for a decision without a write job. */
function writeOutcomeHtml(o: Pick<WriteOutcome, 'writeStatus' | 'writeReason'>): string {
  const cls = o.writeStatus === 'written' || o.writeStatus === 'skipped' ? 'ok' : o.writeStatus === 'failed' ? 'bad' : 'warn';
  return `<dl class="kv" id="journey-write-outcome">
    <dt>Outcome</dt><dd class="${cls}">${escapeHtml(o.writeStatus)}</dd>
    ${o.writeReason ? `<dt>Why</dt><dd>${escapeHtml(o.writeReason)}</dd>` : ''}
  </dl>
  <p class="muted">From the stored record. No write job is kept: ${o.writeStatus === 'skipped' ? 'a call the receiver decided while it waited (<code>Prefer: wait</code>) has its write settled by the receiver once the answer is delivered, without a job; otherwise the' : 'the'} job was removed after its retention.</p>`;
}

function decisionHtml(d: CallJourney['decision']): string {
  if (!d) return '<p class="muted">No decision recorded for this key (not decided yet, superseded, or expired).</p>';
  return `<dl class="kv" id="journey-decision">
    <dt>Route</dt><dd><strong>${escapeHtml(d.routing_decision)}</strong></dd>
    <dt>Available agents</dt><dd>${d.queue_occupancy === null ? '<span class="warn">unknown (Genesys unavailable)</span>' : escapeHtml(String(d.queue_occupancy))}</dd>
    <dt>Threshold</dt><dd>${escapeHtml(String(d.threshold))}</dd>
    <dt>Queue</dt><dd><code>${escapeHtml(d.queueId)}</code></dd>
    <dt>Occupancy source</dt><dd>${escapeHtml(d.occupancySource)}</dd>
    ${d.reason ? `<dt>Reason</dt><dd class="warn">${escapeHtml(d.reason)}</dd>` : ''}
    <dt>Decided</dt><dd>${timeHtml(d.timestamp)} (${escapeHtml(formatDuration(d.latencyMs))} after the webhook)</dd>
    <dt>Decision id</dt><dd><code>${escapeHtml(d.decisionId)}</code> (press #${escapeHtml(String(d.sequence))} on this call)</dd>
  </dl>`;
}

const EVENT_JOB_GONE = 'No event job is kept (completed jobs are removed after an hour; an event the receiver decided in-call, with <code>Prefer: wait</code>, never had one)';

/** The webhook card without its event job: what the decision record keeps of the event (its time, the fields used). */
function webhookFromDecision(d: NonNullable<CallJourney['decision']>): string {
  const received = new Date(Date.parse(d.timestamp) - d.latencyMs).toISOString();
  return `<dl class="kv" id="journey-webhook-from-decision">
    <dt>Received</dt><dd>${timeHtml(received)}</dd>
    <dt>Idempotency key</dt><dd><code>${escapeHtml(d.idempotencyKey)}</code></dd>
    <dt>Conversation</dt><dd><code>${escapeHtml(d.conversationId)}</code></dd>
    <dt>Participant</dt><dd>${d.participantId ? `<code>${escapeHtml(d.participantId)}</code>` : '<span class="muted">none named (the write resolves the customer)</span>'}</dd>
    <dt>Digits</dt><dd><code>${escapeHtml(d.dtmf)}</code></dd>
    <dt>Flow instance</dt><dd><code>${escapeHtml(d.flowInstanceId)}</code></dd>
  </dl>
  <p class="muted">From the decision record. ${EVENT_JOB_GONE}: its request headers and normalised body are not shown.</p>`;
}

function webhookHtml(j: JobView | null, d: CallJourney['decision'], held: CallJourney['held']): string {
  if (!j && !held) return d ? webhookFromDecision(d) : `<p class="muted">${EVENT_JOB_GONE}.</p>`;
  const data = ((j ? j.data : held?.event) ?? {}) as Record<string, unknown>;
  const received = typeof data.receivedAt === 'number' ? new Date(data.receivedAt).toISOString() : null;
  const { receivedAt: _r, headers, ...rest } = data;
  const kept = headers && typeof headers === 'object' ? Object.entries(headers as Record<string, unknown>) : [];
  return `<dl class="kv" id="journey-webhook">
    <dt>Received</dt><dd>${timeHtml(received)}</dd>
    <dt>Payload shape</dt><dd>${escapeHtml(String(data.source ?? '—'))}</dd>
    <dt>Idempotency key</dt><dd><code>${escapeHtml(String(data.idempotencyKey ?? ''))}</code></dd>
  </dl>
  <details><summary>Event as accepted (normalised body)</summary>${pre(rest)}</details>
  ${kept.length ? `<dl class="kv" id="journey-headers">${kept.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd><code>${escapeHtml(String(v))}</code></dd>`).join('')}</dl>` : '<p class="muted">No request headers kept with this event.</p>'}
  ${j ? jobSummary(j, 'event') : `<p id="journey-held">Held for an in-call decision until ${timeHtml(held!.dueAt)}: no job yet. Its receiver decides it while the caller waits; if it cannot, or it died, the event gets its job then (a decide worker sweeps held events every 250 ms).</p>`}`;
}

/** The events page: a search box and, for a match, the call's journey on one page. */
export function eventsPage(opts: { q: string; journey: CallJourney | null; stored: DecisionDoc | null; storeError?: string | undefined; nav: NavOptions }): string {
  const form = `<form method="get" action="/admin/events" class="inline" role="search">
    <label for="q" class="visually-hidden">Conversation id, idempotency key, decision id or job id</label>
    <input type="search" id="q" name="q" value="${escapeHtml(opts.q)}" placeholder="Conversation id, idempotency key, decision id or job id">
    <button type="submit">Find</button>
  </form>`;
  if (!opts.q) return page({ ...opts.nav, title: 'Find a call', body: `${form}<p class="muted">One call is three jobs (event, Genesys write, report); any of their ids, the conversation id (its latest key press) or the idempotency key finds all three.</p>` });
  if (!opts.journey) {
    return page({ ...opts.nav, title: 'Find a call', body: `${form}<div class="notice info" id="journey-none" role="status">Nothing found for <code>${escapeHtml(opts.q)}</code>. Completed jobs are kept for an hour, failed ones for 7 days; conversations for their state TTL.</div>` });
  }
  const j = opts.journey;
  // No write job, but an outcome on the stored record: a write the receiver settled in-call (answer delivered), or a
  // write job removed after its retention.
  const outcome = !j.apply && opts.stored?.writeStatus ? { ...opts.stored, writeStatus: opts.stored.writeStatus } : undefined;
  const applyState = j.apply?.state ?? (outcome ? (outcome.writeStatus === 'failed' ? 'failed' : 'completed') : undefined);
  const stored = opts.storeError
    ? `<p class="bad">Decision store unavailable: ${escapeHtml(opts.storeError)}</p>`
    : opts.stored
      ? `<p class="ok">Stored.</p><details><summary>Stored document</summary>${pre(opts.stored)}</details>`
      : '<p class="warn">Not in the decision store (yet).</p>';
  const body = `${form}
<p id="journey-match">Matched ${escapeHtml(j.matchedAs)}; idempotency key <code>${escapeHtml(j.idempotencyKey)}</code>, decision <code>${escapeHtml(j.decisionId)}</code>.</p>
<ol class="timeline" id="journey">
  <li><section class="card"><h2>1. Webhook received</h2>${webhookHtml(j.event, j.decision, j.held)}</section></li>
  <li class="${j.decision ? '' : 'wait'}"><section class="card"><h2>2. Decision</h2>${decisionHtml(j.decision)}</section></li>
  <li class="${applyState === 'failed' ? 'fail' : applyState === 'completed' ? '' : 'wait'}"><section class="card"><h2>3. Genesys write (participant attributes)</h2>${outcome ? writeOutcomeHtml(outcome) : `${attemptsHtml(j.apply)}${jobSummary(j.apply, 'Genesys write')}`}</section></li>
  <li class="${opts.stored ? '' : 'wait'}"><section class="card"><h2>4. Stored record</h2>${stored}${jobSummary(j.report, 'report')}</section></li>
</ol>`;
  return page({ ...opts.nav, title: `Call ${j.decision?.conversationId ?? ''}`.trim(), body });
}

/** The failures page: failed jobs grouped by reason, a hint each, and "retry all retryable". */
export function failuresPage(opts: { groups: FailureGroup[]; message?: string | undefined; readOnly: boolean; nav: NavOptions }): string {
  const retryable = opts.groups.filter((g) => g.retryable).reduce((a, g) => a + g.count, 0);
  const left = opts.groups.filter((g) => !g.retryable).reduce((a, g) => a + g.count, 0);
  const action = opts.readOnly
    ? '<p class="muted">Read-only mode: retries are disabled.</p>'
    : `<form method="post" action="/admin/failures/retry-retryable" class="inline"><button type="submit" id="retry-retryable"${retryable ? '' : ' disabled'}>Retry ${retryable} retryable job${retryable === 1 ? '' : 's'}</button><span class="muted">${left ? `${left} job${left === 1 ? '' : 's'} failed with Genesys 400/403/404 stay failed: Genesys would refuse them again.` : ''}</span></form>`;
  const table = opts.groups.length
    ? `<table id="failure-groups" class="stack"><thead><tr><th>Queue</th><th>Reason</th><th class="num">Jobs</th><th>What to do</th><th>Examples</th></tr></thead><tbody>${opts.groups
        .map(
          (g) =>
            `<tr data-retryable="${g.retryable}"><td data-label="Queue">${escapeHtml(g.queue)}</td><td data-label="Reason"><span><strong>${escapeHtml(g.reason)}</strong><br><span class="muted">${escapeHtml(g.example.slice(0, 300))}</span></span></td><td class="num" data-label="Jobs">${g.count}</td><td data-label="What to do"><span>${escapeHtml(g.hint)}${g.retryable ? '' : ' <strong>Not retried in bulk.</strong>'}</span></td><td data-label="Examples"><span>${g.jobIds
              .map((id) => `<a href="/admin/events?q=${encodeURIComponent(id)}"><code>${escapeHtml(id)}</code></a>`)
              .join('<br>')}</span></td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="ok" id="no-failures">No failed jobs.</p>';
  const msg = opts.message ? `<div class="notice info" role="status" id="failures-message">${escapeHtml(opts.message)}</div>` : '';
  return page({ ...opts.nav, title: 'Failures', body: `${msg}<section class="card">${action}${table}</section>`, refreshSeconds: 30 });
}

/** Where the Prometheus series are (the receiver and each worker serve their own /metrics). */
export function metricsPage(links: ReadonlyArray<{ label: string; url: string }>, nav: NavOptions): string {
  const list = links.length
    ? `<ul>${links.map((l) => `<li>${escapeHtml(l.label)}: <a href="${escapeHtml(l.url)}"><code>${escapeHtml(l.url)}</code></a></li>`).join('')}</ul>`
    : '<p class="muted">No metrics endpoints configured.</p>';
  return page({ ...nav, title: 'Metrics', body: `<section class="card"><p>Each process exports its own Prometheus series at <code>/metrics</code>; scrape them all. See docs/operations.md for every series and the suggested alerts.</p>${list}</section>` });
}
