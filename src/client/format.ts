// Text views of a cluster for the terminal: tables, the status with its conditions, the history.
import { formatDuration } from '../config/duration';
import { formatShare } from '../config/share';
import type { AutoscalerStatus } from '../workflows/autoscaler-messages';

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatStatus(st: AutoscalerStatus): string {
  const lines = [
    `cluster ${st.cluster}: ${st.phase}${st.paused ? ' (paused)' : ''} — ${st.current} member(s), desired ${st.desired}, bounds [${st.min}, ${st.max}]`,
    '',
    table(['CONDITION', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], (st.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.lastTransitionTime.slice(11, 19), c.message])),
    '',
    `cooldown: scale-out ${formatDuration(st.cooldown.scaleOutMs)}, scale-in ${formatDuration(st.cooldown.scaleInMs)}`,
    `current operation: ${st.currentOperation ?? 'none'}${st.queue.length ? `; queued: ${st.queue.map((q) => `${q.kind} ${q.n} (${q.source})`).join(', ')}` : ''}`,
  ];
  for (const b of st.backoff ?? []) {
    const what = b.suspended ? 'suspended (a fault no retry mends)' : `backing off after ${b.failures} failed run(s) in a row`;
    lines.push(`${b.kind}: ${what}: ${b.code ? `${b.code}: ` : ''}${b.message}; next ${b.suspended ? 'probe' : 'attempt'} at ${b.retryAt.slice(11, 19)}Z; \`poolpilot cluster resume ${st.cluster}\` tries now`);
  }
  if (st.specBounds && (st.specBounds.minBy || st.specBounds.maxBy)) {
    lines.push(`bounds in force: [${st.min}, ${st.max}]${st.specBounds.minBy ? `, min by schedule ${st.specBounds.minBy}` : ''}${st.specBounds.maxBy ? `, max by schedule ${st.specBounds.maxBy}` : ''} (spec: [${st.specBounds.min}, ${st.specBounds.max}])`);
  }
  for (const sc of st.schedules ?? []) {
    lines.push(`schedule ${sc.name}: ${sc.open ? `open since ${sc.openedAt?.slice(0, 16)}Z${sc.closesAt ? ` until ${sc.closesAt.slice(0, 16)}Z` : ''}` : 'closed'}; next ${sc.next.map((t) => `${t.slice(0, 16)}Z`).join(', ') || 'never'}`);
  }
  if (st.forecast) {
    const f = st.forecast;
    lines.push(`forecast: ${f.state}${f.reason ? ` — ${f.reason}` : ''}${f.error !== null ? `; sMAPE ${(f.error * 100).toFixed(0)}% on the last day` : ''}${f.text ? `; ${f.text}` : ''}; next ${f.nextRefresh?.slice(11, 16) ?? 'soon'}`);
    const o = f.objective;
    if (o) {
      const counted = o.counted !== null ? `${formatShare(o.counted)} of ${formatDuration(o.countedMs)} counted short so far` : 'nothing counted yet (the floor has not acted)';
      lines.push(`objective: ${formatShare(o.underProvisioned)} of the time short; ${counted}; margin ${o.margin.toFixed(2)}σ, the ${formatShare(o.quantile)} quantile of ${o.scores} scores`);
    }
  }
  if (st.warmPool) {
    const wp = st.warmPool;
    lines.push(`warm pool: ${wp.vms.length} of ${wp.size} (${wp.state})${wp.refilling ? `, refilling: ${wp.refilling}` : ''}${wp.vms.length ? ` — ${wp.vms.map((v) => `${v.name} ${v.power}`).join(', ')}` : ''}`);
  }
  if (st.recentPolls.length) {
    const lags = st.recentPolls.map((p) => p.lagMs).sort((a, b) => a - b);
    lines.push(`polls: ${st.iterations} so far; lag of the last ${lags.length}: median ${lags[Math.floor((lags.length - 1) / 2)]} ms, max ${lags[lags.length - 1]} ms`);
  }
  const metrics = Object.entries(st.metrics);
  if (metrics.length) {
    lines.push('', table(['METRIC', 'VALUE', 'READ AT', 'FAILING SINCE'], metrics.map(([k, v]) => [k, v.value !== undefined ? String(+v.value.toFixed(3)) : `error: ${v.error}`, v.at.slice(11, 19), v.failingSince?.slice(11, 19) ?? '-'])));
  }
  lines.push('', table(['MEMBER', 'IP', 'POWER', 'POOL', 'SESSIONS'], st.members.map((m) => [m.name, m.ip ?? '-', m.power, m.pool, String(m.sessions)])));
  const recent = st.decisions.slice(-8);
  if (recent.length) lines.push('', 'recent decisions:', ...recent.map((d) => `  ${d.at.slice(11, 19)} ${d.action} ${d.current}→${d.desired}${d.code ? ` [${d.code}]` : ''}: ${d.reason}`));
  return lines.join('\n');
}

export function formatHistory(st: AutoscalerStatus): string {
  return [
    table(['STARTED', 'RUN', 'COUNT', 'OUTCOME'], st.runs.map((r) => [r.startedAt.slice(0, 19), r.workflowId, String(r.count), r.outcome ?? 'running'])),
    '',
    'decisions:',
    ...st.decisions.map((d) => `  ${d.at.slice(0, 19)} [${d.source}] ${d.action} ${d.current}→${d.desired}${d.code ? ` (${d.code})` : ''}: ${d.reason}`),
  ].join('\n');
}
