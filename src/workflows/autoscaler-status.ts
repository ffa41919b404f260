// The autoscaler's status query: phase and conditions, members, metrics, bounds in force, schedules, forecast.
import { workflowInfo } from '@temporalio/workflow';
import { deriveConditions, phaseOf } from '../policy/conditions';
import { summarize } from '../policy/inventory';
import type { AutoscalerStatus } from './autoscaler-messages';
import { forecastStatus } from './autoscaler-prediction';
import { scheduleStatus } from './autoscaler-schedules';
import { boundsNow, clusterFacts, projected, type Autoscaling } from './autoscaler-state';

export function statusOf(a: Autoscaling): AutoscalerStatus {
  const { s } = a;
  const now = Date.now();
  const facts = clusterFacts(a, now);
  const conditions = deriveConditions(facts, s.conditions);
  const unable = conditions.find((c) => c.type === 'AbleToScale' && c.status === 'False');
  const bounds = boundsNow(a, now);
  return {
    cluster: a.cluster,
    phase: phaseOf(facts, conditions),
    conditions,
    min: bounds.min,
    max: bounds.max,
    current: facts.current,
    desired: projected(a),
    paused: s.paused,
    members: s.members.map(summarize),
    metrics: s.readings,
    cooldown: facts.cooldown,
    decisions: s.decisions,
    currentOperation: a.current?.workflowId ?? null,
    queue: s.queue,
    runs: s.runs,
    lastError: unable?.message ?? null,
    unhealthy: Object.fromEntries(Object.entries(s.unhealthy ?? {}).map(([name, m]) => [name, { since: new Date(m.since).toISOString(), why: m.why }])),
    specBounds: { min: s.spec.min, max: s.spec.max, minBy: bounds.minBy ?? null, maxBy: bounds.maxBy ?? null },
    schedules: scheduleStatus(a, now),
    forecast: forecastStatus(a, now),
    warmPool: s.spec.warmPool?.size ? { size: s.spec.warmPool.size, state: s.spec.warmPool.state, vms: s.warm ?? [], refilling: a.warmFill?.workflowId ?? null } : null,
    iterations: s.iterations,
    recentPolls: s.polls ?? [],
    backoff: (['scale-out', 'scale-in'] as const).flatMap((kind) => {
      const b = s.backoff?.[kind];
      return b ? [{ ...b, kind, failedAt: new Date(b.failedAt).toISOString(), retryAt: new Date(b.retryAt).toISOString() }] : [];
    }),
    runId: workflowInfo().runId,
  };
}
