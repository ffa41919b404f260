// A cluster's conditions, as Kubernetes shows an HPA's: each a function of what holds now, so it clears with its cause.
//
// AbleToScale: can a run change the pool now (no suspension, failed run or reconcile outstanding; cooldowns are named).
// ScalingActive: is the policy deciding (metrics configured and readable, not paused).
// ScalingLimited: did the last policy decision want more than max or less than min.
// The phase shown beside them is derived from the same facts.

import { holdReason, type Backoffs } from './backoff';

export type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
export type ConditionStatus = 'True' | 'False';

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  /** A stable CamelCase code. */
  reason: string;
  message: string;
  /** When the status last changed (ISO). */
  lastTransitionTime: string;
}

export type Phase = 'ACTIVE' | 'PENDING_SCALE_OUT' | 'PENDING_SCALE_IN' | 'PAUSED' | 'ERROR';

/** What the autoscaler knows now; every field is current, none is history. */
export interface ClusterFacts {
  now: number;
  paused: boolean;
  running?: { kind: 'scale-out' | 'scale-in'; workflowId: string };
  /** The latest run, if it failed in full or in part; cleared by the next run that fully succeeds. */
  failedRun?: { workflowId: string; outcome: string; partial: boolean };
  /** Directions held back by failed runs (backing off, or suspended by a permanent fault). */
  backoff?: Backoffs;
  cluster?: string;
  /** The latest reconcile's error; cleared by the next reconcile that succeeds. */
  reconcileError?: string;
  metricCount: number;
  /** Metrics whose latest read failed. */
  failingMetrics: { name: string; error: string }[];
  cooldown: { scaleOutMs: number; scaleInMs: number };
  /** The code of the latest policy decision (DecisionCode), if any. */
  lastDecisionCode?: string;
  current: number;
  min: number;
  max: number;
}

type Draft = Omit<Condition, 'lastTransitionTime'>;

function ableToScale(f: ClusterFacts): Draft {
  const c = (status: ConditionStatus, reason: string, message: string): Draft => ({ type: 'AbleToScale', status, reason, message });
  // A suspension comes first: its reason is the fault's code (CredentialMissing, TemplateNotFound…), what to fix.
  const suspended = (['scale-out', 'scale-in'] as const).flatMap((kind) => (f.backoff?.[kind]?.suspended ? [{ kind, b: f.backoff[kind]! }] : []));
  if (suspended.length) {
    const message = suspended.map(({ kind, b }) => holdReason(kind, b, f.now, f.cluster ?? 'CLUSTER')).join('; ');
    return c('False', suspended[0]!.b.code ?? 'ScalingSuspended', message);
  }
  if (f.reconcileError) return c('False', 'ReconcileFailed', `the last reconcile of vSphere and the balancer failed: ${f.reconcileError}`);
  if (f.failedRun) {
    const waiting = (['scale-out', 'scale-in'] as const).flatMap((kind) => {
      const b = f.backoff?.[kind];
      return b && b.retryAt > f.now ? [`${kind} backs off: next attempt in ${Math.ceil((b.retryAt - f.now) / 1000)} s (failure ${b.failures} in a row)`] : [];
    });
    return c('False', f.failedRun.partial ? 'RunPartlyFailed' : 'RunFailed', `${f.failedRun.workflowId}: ${f.failedRun.outcome}${waiting.length ? `; ${waiting.join('; ')}` : ''}`);
  }
  if (f.running) return c('True', 'ScalingInProgress', `${f.running.workflowId} is running`);
  const { scaleOutMs: o, scaleInMs: i } = f.cooldown;
  if (o > 0 && i > 0) return c('True', 'BackoffBoth', `cooldowns: scale-out ${Math.ceil(o / 1000)} s, scale-in ${Math.ceil(i / 1000)} s left`);
  if (o > 0) return c('True', 'BackoffScaleOut', `scale-out cooldown: ${Math.ceil(o / 1000)} s left`);
  if (i > 0) return c('True', 'BackoffScaleIn', `scale-in cooldown: ${Math.ceil(i / 1000)} s left`);
  return c('True', 'ReadyForNewScale', 'the last run succeeded and no cooldown runs');
}

function scalingActive(f: ClusterFacts): Draft {
  const c = (status: ConditionStatus, reason: string, message: string): Draft => ({ type: 'ScalingActive', status, reason, message });
  if (f.paused) return c('False', 'ScalingDisabled', 'automatic decisions are paused; operator requests still run');
  if (f.metricCount === 0) return c('False', 'NoMetrics', 'the spec has no metrics: only operator requests and alarms scale it');
  if (f.failingMetrics.length === f.metricCount) return c('False', 'FailedGetMetrics', f.failingMetrics.map((m) => `${m.name}: ${m.error}`).join('; '));
  if (f.failingMetrics.length) return c('True', 'SomeMetricsFailing', `deciding on the rest; no scale-in while ${f.failingMetrics.map((m) => `${m.name} (${m.error})`).join(', ')} fails`);
  return c('True', 'ValidMetrics', `the policy reads ${f.metricCount} metric(s)`);
}

function scalingLimited(f: ClusterFacts): Draft {
  const c = (status: ConditionStatus, reason: string, message: string): Draft => ({ type: 'ScalingLimited', status, reason, message });
  if (f.lastDecisionCode === 'CappedAtMax') return c('True', 'TooManyReplicas', `the policy wants more than max ${f.max}`);
  if (f.lastDecisionCode === 'RaisedToMin') return c('True', 'TooFewReplicas', `the policy wants fewer than min ${f.min}`);
  return c('False', 'DesiredWithinRange', `the desired count is within [${f.min}, ${f.max}]`);
}

/** The conditions for `facts`; a condition keeps its transition time while its status stays the same. */
export function deriveConditions(facts: ClusterFacts, previous: readonly Condition[] = []): Condition[] {
  const at = new Date(facts.now).toISOString();
  return [ableToScale(facts), scalingActive(facts), scalingLimited(facts)].map((d) => {
    const before = previous.find((p) => p.type === d.type);
    return { ...d, lastTransitionTime: before && before.status === d.status ? before.lastTransitionTime : at };
  });
}

/** One word for the list view: a run under way, else ERROR while the cluster cannot scale, else PAUSED or ACTIVE. */
export function phaseOf(facts: ClusterFacts, conditions: readonly Condition[]): Phase {
  if (facts.running) return facts.running.kind === 'scale-out' ? 'PENDING_SCALE_OUT' : 'PENDING_SCALE_IN';
  if (conditions.some((c) => c.type === 'AbleToScale' && c.status === 'False')) return 'ERROR';
  return facts.paused ? 'PAUSED' : 'ACTIVE';
}
