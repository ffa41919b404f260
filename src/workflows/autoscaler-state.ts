// The autoscaler's live state and what is derived from it: member count, the decision log, conditions and status.
import { log } from '@temporalio/workflow';
import { deriveConditions, phaseOf, type ClusterFacts } from '../policy/conditions';
import { appendDecision, repeatsLast, type DecisionRecord } from '../policy/decision-log';
import { cooldownRemaining, initialPolicyState } from '../policy/engine';
import { ScheduleClock, type ScheduleView } from '../policy/schedules';
import { projectedSize } from '../policy/requests';
import { fromSummary, type Member, type MemberSummary } from '../policy/inventory';
import type { AutoscalerInput, AutoscalerState, DeleteRequest, RunRecord } from './autoscaler-messages';
import { metricsSink } from './metrics-sink';

/** One run of the autoscaler workflow: the state it carries across continue-as-new, and what lives only in this run. */
export interface Autoscaling {
  s: AutoscalerState;
  cluster: string;
  /** The scaling run under way. */
  current?: RunRecord;
  /** True while the run under way serves the queue's head (which leaves the queue only once it ran). */
  servingQueue?: boolean;
  deleting?: DeleteRequest;
  /** Set by a message that should end the sleep at once. */
  wake: boolean;
  /** The warm pool's refill under way in this run, and how many it prepares (continue-as-new waits for it). */
  warmFill?: { workflowId: string; count: number };
  /** The schedules' clock, for the spec it was made for. */
  clock?: { spec: AutoscalerState['spec']; clock: ScheduleClock };
  /** The share of the demand window's trend its level carries (patches.ts, demandTrend): set by the loop, read by queries. */
  trendShare?: number;
  /** Whether the demand floor may act on its calibration with the forecast set aside (patches.ts, calibratedFloor): set by the loop. */
  calibratedFloor?: boolean;
  /** What was last sent to the worker's metrics, and when (not state: a new run or worker sends again). */
  reported?: { key: string; at: number };
}

export function startState(input: AutoscalerInput): AutoscalerState {
  const s: AutoscalerState = input.state ?? {
    spec: input.spec,
    opCounter: (input.opFloor ?? 0) + 1,
    paused: false,
    initialized: false,
    policy: initialPolicyState(),
    queue: [],
    decisions: [],
    runs: [],
    members: [],
    readings: {},
    lastReconcileAt: 0,
    iterations: 0,
    searchAttributes: input.searchAttributes ?? true,
  };
  return fromEarlierRuns(s);
}

/**
 * States carried from earlier versions, brought to today's form once, at start (nothing else reads the old forms):
 * members kept as summaries, runs kept as a sentence alone, and the one error kept before conditions.
 */
function fromEarlierRuns(s: AutoscalerState): AutoscalerState {
  const cluster = s.spec.name;
  const members = s.members as (Member | MemberSummary)[];
  s.members = members.map((m) => ('op' in m ? m : fromSummary(cluster, m)));
  for (const r of s.runs) {
    if (r.result || !r.endedAt) continue;
    // The sentences those versions wrote: "N joined", "N removed, K failed: …", "failed: …".
    const failed = !r.outcome || r.outcome.startsWith('failed');
    r.result = { status: failed ? 'failed' : r.outcome!.includes('failed:') ? 'partial' : 'succeeded', done: failed ? 0 : r.count, failed: failed ? r.count : 0 };
  }
  if (s.lastError && !s.failedRun && !s.reconcileError) s.failedRun = { workflowId: 'a run before the upgrade', outcome: s.lastError, partial: false };
  s.lastError = undefined;
  return s;
}

/** The schedules' clock for the current spec (a new spec, a new clock). */
export function clock(a: Autoscaling): ScheduleClock {
  if (!a.clock || a.clock.spec !== a.s.spec) a.clock = { spec: a.s.spec, clock: new ScheduleClock(a.s.spec.schedules ?? [], a.s.spec) };
  return a.clock.clock;
}

/** The bounds in force now: the spec's, or an open schedule window's. */
export function boundsNow(a: Autoscaling, now = Date.now()): ScheduleView['bounds'] {
  return a.s.spec.schedules?.length ? clock(a).read(now).bounds : { min: a.s.spec.min, max: a.s.spec.max };
}

/** Members with a VM: a pool entry without one is reconcile's to remove, not capacity. */
export const memberCount = (s: AutoscalerState) => s.members.filter((m) => m.vm).length;
export const projected = (a: Autoscaling) => projectedSize(memberCount(a.s), a.s.queue);

/** Logs a decision; a policy hold that repeats the last entry is left out. */
export function record(a: Autoscaling, d: Omit<DecisionRecord, 'at'>): void {
  if (d.action === 'hold' && repeatsLast(a.s.decisions, d)) return;
  appendDecision(a.s.decisions, { at: new Date().toISOString(), ...d }, a.s.spec.autoscaling.decisionLog);
  log.info('decision', { cluster: a.cluster, ...d });
  metricsSink.decision(a.cluster, d.action, d.source);
}

export function clusterFacts(a: Autoscaling, now: number): ClusterFacts {
  const { s } = a;
  const cd = cooldownRemaining(s.policy, s.spec.autoscaling, now);
  return {
    now,
    paused: s.paused,
    running: a.current ? { kind: a.current.kind, workflowId: a.current.workflowId } : undefined,
    failedRun: s.failedRun,
    backoff: s.backoff,
    cluster: a.cluster,
    reconcileError: s.reconcileError,
    metricCount: s.spec.metrics.length,
    failingMetrics: Object.entries(s.readings).flatMap(([name, r]) => (r.error ? [{ name, error: r.error }] : [])),
    cooldown: { scaleOutMs: cd.scaleOut, scaleInMs: cd.scaleIn },
    lastDecisionCode: s.lastDecisionCode,
    current: memberCount(s),
    ...boundsNow(a, now),
  };
}

/** Re-derives the conditions so their transition times are kept in state (called as facts change). */
export function refreshConditions(a: Autoscaling): void {
  a.s.conditions = deriveConditions(clusterFacts(a, Date.now()), a.s.conditions);
}

/** Tells the worker's /metrics the cluster's size, bounds, phase and metric health (no command; skipped on replay). */
export function reportMetrics(a: Autoscaling): void {
  const now = Date.now();
  const facts = clusterFacts(a, now);
  const conditions = a.s.conditions ?? deriveConditions(facts, undefined);
  const g = {
    cluster: a.cluster,
    phase: phaseOf(facts, conditions),
    current: facts.current,
    desired: projected(a),
    min: facts.min,
    max: facts.max,
    paused: a.s.paused,
    suspended: (['scale-out', 'scale-in'] as const).filter((k) => a.s.backoff?.[k]?.suspended),
    metricsUp: Object.fromEntries(Object.entries(a.s.readings).map(([name, r]) => [name, !r.error])),
  };
  // Sent when something changed, else once a minute (the worker forgets a cluster not heard from in 10 minutes):
  // a thousand clusters polling every 10 s would otherwise send a hundred unchanged reports a second.
  const key = JSON.stringify(g);
  if (a.reported && a.reported.key === key && now - a.reported.at < REPORT_EVERY_MS) return;
  a.reported = { key, at: now };
  metricsSink.cluster(g);
}

const REPORT_EVERY_MS = 60_000;
