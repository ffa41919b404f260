// The policies poolpilot is compared with, written as specs of its own engine, and a whole backtest run over them.
import { autoscalingSchema, metricSchema, objectiveOf, type AutoscalingSpec, type ClusterSpec, type MetricSpec } from '../config/spec';
import { memberCapacity } from './prediction';
import { oracle, relativeToOracle, simulate, type DemandTrace, type PolicyUnderTest, type PoolModel, type PredictionUnderTest, type Simulation } from './backtest';
import { WrongRequestError } from '../config/wrong-request';

export const PEERS = ['fixed-step', 'hpa', 'aws', 'oracle'] as const;
export type PeerName = (typeof PEERS)[number];

/** The per-member level a policy aims at: a target's value, or a threshold's high. */
export function targetPerMember(m: MetricSpec): number {
  if (m.target) return m.target.value;
  return m.threshold?.high ?? m.threshold?.low ?? NaN;
}

const autoscaling = (over: Record<string, unknown>): AutoscalingSpec => autoscalingSchema.parse(over);
const peerMetric = (name: string, target: number, threshold?: Record<string, unknown>): MetricSpec =>
  metricSchema.parse({ name, source: { haproxy: {} }, ...(threshold ? { threshold } : { target: { value: target, perMember: true } }) });

/**
 * Each peer tracks the same per-member level as the spec, with its own documented defaults.
 * - fixed-step: NSX ALB server autoscale driven by alerts (ServerAutoScalePolicy 30.2.1 defaults:
 *   max_scaleout_adjustment_step 1, max_scalein_adjustment_step 1, scaleout_cooldown 300 s, scalein_cooldown 300 s),
 *   as Senlin / Heat / Tacker scaling policies with CHANGE_IN_CAPACITY ±1 on alarms: an alarm evaluated every 60 s
 *   that must hold for one 60 s period; scale-in below half the level, so one member less never crosses it again.
 * - hpa: Kubernetes HPA defaults: 15 s sync period, 10% tolerance, scale-up at most max(100%, 4 pods) per 15 s,
 *   no scale-up stabilization, 300 s scale-down stabilization.
 * - aws: EC2 Auto Scaling target tracking: 60 s metrics, scale out as soon as the target is exceeded, 300 s scale-in
 *   cooldown, scale in only after 15 minutes below target (the 15-datapoint low alarm), 10% below target.
 */
export function peerPolicy(name: Exclude<PeerName, 'oracle'>, level: number, bounds: { min: number; max: number; initial?: number }): PolicyUnderTest {
  switch (name) {
    case 'fixed-step':
      return {
        name,
        ...bounds,
        metric: peerMetric('load', level, { high: level, low: level / 2, for: 60, scaleOut: { value: 1 }, scaleIn: { value: 1 } }),
        autoscaling: autoscaling({ pollInterval: 60, maxStepOut: 1, maxStepIn: 1, scaleOutCooldown: 300, scaleInCooldown: 300, scaleInStabilization: 0 }),
      };
    case 'hpa':
      return {
        name,
        ...bounds,
        metric: peerMetric('load', level),
        autoscaling: autoscaling({ pollInterval: 15, tolerance: 0.1, maxStepOut: 4, maxStepOutPercent: 100, scaleOutCooldown: 0, scaleInCooldown: 0, scaleInStabilization: 300 }),
      };
    case 'aws':
      return {
        name,
        ...bounds,
        metric: peerMetric('load', level),
        autoscaling: autoscaling({ pollInterval: 60, tolerance: 0.1, scaleOutCooldown: 0, scaleInCooldown: 300, scaleInStabilization: 900 }),
      };
  }
}

export interface BacktestOptions {
  /** The metric the demand feeds (default: the spec's first). */
  metric?: string;
  /** Demand one member serves (default: the metric's target × (1 + tolerance), or its threshold's high). */
  capacityPerMember?: number;
  cloneMs: number;
  bootMs: number;
  /** Default: the spec's drain grace period. */
  drainMs?: number;
  /** Override the spec's bounds (a sweep, or a trace larger than the spec's max). */
  min?: number;
  max?: number;
  compare: PeerName[];
  /** The share of time under-provisioned the spec's prediction aims at, over the spec's own (--objective). */
  objective?: number;
  /** Score the spec alone (a sweep's point): no spec-reactive-only. */
  specOnly?: boolean;
}

export interface BacktestResult {
  model: PoolModel;
  metric: string;
  bounds: { min: number; max: number };
  /** The spec first (named `spec`), then `spec-reactive-only` when the spec has schedules or prediction, then the peers. */
  policies: Simulation[];
}

/** A problem with the spec or options for a backtest: one sentence naming it. */
export class BacktestInputError extends WrongRequestError {
  override name = 'BacktestInputError';
}

/** The spec's policy and the peers over one trace; member-hours relative to the oracle (always simulated). */
export function runBacktest(trace: DemandTrace, spec: ClusterSpec, o: BacktestOptions): BacktestResult {
  if (spec.metrics.length === 0) throw new BacktestInputError(`cluster ${spec.name} has no metrics: its policy never scales, so there is nothing to backtest`);
  const metric = o.metric ? spec.metrics.find((m) => m.name === o.metric) : spec.metrics[0];
  if (!metric) throw new BacktestInputError(`cluster ${spec.name} has no metric "${o.metric}" (it has ${spec.metrics.map((m) => m.name).join(', ')})`);
  const level = targetPerMember(metric);
  // A target tracker holds while the load per member is within target × (1 + tolerance): that is the most the spec
  // means a member to carry. A threshold policy's is its high threshold.
  const capacityPerMember = o.capacityPerMember ?? (metric.target ? memberCapacity(level, spec.autoscaling.tolerance) : level);
  if (!(capacityPerMember > 0)) throw new BacktestInputError(`metric ${metric.name} implies no capacity per member; give --capacity-per-member`);
  const bounds = { min: o.min ?? spec.min, max: o.max ?? spec.max };
  if (bounds.min > bounds.max) {
    // Name where each bound came from: the spec's, or the command line's override.
    const from = (k: 'min' | 'max') => (o[k] !== undefined ? `--${k} ${bounds[k]}` : `the spec's ${k} ${bounds[k]}`);
    throw new BacktestInputError(`${from('min')} is above ${from('max')}`);
  }
  const model: PoolModel = { capacityPerMember, timeToReadyMs: o.cloneMs + o.bootMs + spec.loadBalancer.healthCheck.interval, drainMs: o.drainMs ?? spec.drainGracePeriod };
  const start = { ...bounds, initial: Math.min(Math.max(spec.initial ?? bounds.min, bounds.min), bounds.max) };
  const reactive: PolicyUnderTest = { name: 'spec', ...start, metric, autoscaling: spec.autoscaling };
  const p = spec.prediction;
  // The trace is in the backtest metric's unit, so its target is the level that turns forecast demand into members.
  const prediction: PredictionUnderTest | undefined = p && {
    headroom: p.headroom,
    stepMs: p.step,
    historyMs: p.history,
    horizonMs: p.horizon,
    refreshMs: p.refresh,
    maxError: p.maxError,
    forecastOnly: p.forecastOnly,
    timeToReadyMs: p.timeToReady ?? model.timeToReadyMs,
    windowMs: p.window,
    objective: o.objective ?? objectiveOf(p),
    margin: p.margin ?? 0,
    capacity: memberCapacity(level, spec.autoscaling.tolerance),
  };
  const aheadOfDemand = spec.schedules.length > 0 || !!prediction;
  const policies = [simulate(trace, model, { ...reactive, schedules: spec.schedules, prediction })];
  // The gain of schedules and prediction, visible in one run: the same spec without them.
  if (aheadOfDemand && !o.specOnly) policies.push(simulate(trace, model, { ...reactive, name: 'spec-reactive-only' }));
  let theOracle: Simulation | undefined;
  for (const peer of o.compare) {
    if (peer === 'oracle') policies.push((theOracle = oracle(trace, model, bounds)));
    else policies.push(simulate(trace, model, peerPolicy(peer, level, start)));
  }
  relativeToOracle(policies, theOracle ?? oracle(trace, model, bounds));
  return { model, metric: metric.name, bounds, policies };
}

export interface SweepPoint {
  objective: number;
  spec: Simulation;
}

/**
 * The spec at each objective, against the one oracle of the trace (so each point equals a single run with
 * `objective` set). The peers do not depend on the objective: runBacktest scores them once, beside the sweep.
 */
export function sweepObjectives(trace: DemandTrace, spec: ClusterSpec, o: BacktestOptions, objectives: number[]): SweepPoint[] {
  if (!spec.prediction) throw new BacktestInputError(`cluster ${spec.name} has no prediction: an objective calibrates the prediction's demand floor, so there is nothing to sweep`);
  return objectives.map((objective) => {
    const r = runBacktest(trace, spec, { ...o, compare: [], specOnly: true, objective });
    return { objective, spec: { ...r.policies[0]!, name: `spec @ ${+(objective * 100).toPrecision(3)}%` } };
  });
}
