// The decision engine: a pure function of (state, readings, spec, now) → desired members and why. No I/O, no clock.
import type { Adjustment, AutoscalingSpec, MetricSpec } from '../config/spec';

export interface MetricReading {
  value?: number;
  error?: string;
}

export interface PolicyState {
  /** Per threshold metric: since when it has been above high / below low (ms). */
  thresholds: Record<string, { aboveSince?: number; belowSince?: number }>;
  /** Recent raw recommendations, for the scale-in stabilization window. */
  recommendations: { at: number; desired: number }[];
  /** Consecutive polls in which every metric failed. */
  metricFailures: number;
  /** When the last scaling action ended (ms); cooldowns count from here. */
  lastActionEnd?: number;
}

export const initialPolicyState = (): PolicyState => ({ thresholds: {}, recommendations: [], metricFailures: 0 });

export interface PolicyInput {
  now: number;
  /** Members the cluster has now. */
  current: number;
  min: number;
  max: number;
  metrics: MetricSpec[];
  autoscaling: AutoscalingSpec;
  readings: Record<string, MetricReading>;
  state: PolicyState;
  /**
   * Members a forecast wants ready one time-to-ready from now (AWS's "forecast and scale"): the decision is at least
   * this many, never fewer than the reactive policy wants, so a forecast alone never scales in below it.
   */
  forecast?: {
    members: number;
    text: string;
    /**
     * The forecast looks past the noise stabilization waits out: a scale-in goes to max(reactive, forecast) at once.
     * Still never below what the reactive policy recommends now.
     */
    leadsScaleIn?: boolean;
  };
}

/**
 * What settled a decision, as a stable code beside the sentence: the winning metric's verdict, or the rule that
 * changed it last (stabilization, bounds, max step, cooldown). Logs and conditions compare codes, never sentences.
 */
export type DecisionCode =
  | 'NoMetrics'
  | 'MetricsUnavailable'
  | 'Fallback'
  | 'AboveTarget'
  | 'BelowTarget'
  | 'WithinTolerance'
  | 'ThresholdHigh'
  | 'ThresholdLow'
  | 'WithinThresholds'
  | 'NoScaleInWhileMetricFails'
  | 'Stabilized'
  | 'CappedAtMax'
  | 'RaisedToMin'
  | 'MaxStep'
  | 'ScaleOutCooldown'
  | 'ScaleInCooldown'
  | 'Forecast';

export interface Decision {
  desired: number;
  action: 'none' | 'scale-out' | 'scale-in';
  code: DecisionCode;
  /** The sentence an operator reads; empty when decide() was asked not to explain (the backtest's hot loop). */
  reason: string;
  /** Each metric's own recommendation (null: unavailable). */
  recommendations: Record<string, number | null>;
  state: PolicyState;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 10 ? 2 : 1));
const ceil = (x: number) => Math.ceil(x - 1e-9);

/** Applies a Senlin/Heat-style adjustment in `direction` (+1 out, -1 in). */
export function applyAdjustment(current: number, adj: Adjustment, direction: 1 | -1): number {
  switch (adj.type) {
    case 'EXACT_CAPACITY':
      return Math.round(adj.value);
    case 'CHANGE_IN_CAPACITY':
      return current + direction * Math.round(adj.value);
    case 'CHANGE_IN_PERCENTAGE': {
      // Truncate the percentage, but never change by less than min_step (Senlin's rule).
      const step = Math.max(Math.floor((current * adj.value) / 100), adj.minStep);
      return current + direction * step;
    }
  }
}

function recommend(
  m: MetricSpec,
  value: number,
  current: number,
  tolerance: number,
  now: number,
  thresholds: PolicyState['thresholds'],
  explain: boolean,
): { desired: number | null; code: DecisionCode; text: string } {
  // Sentences are built only when asked (`explain`): the backtest calls this millions of times and reads none.
  if (m.target) {
    const { value: target, perMember } = m.target;
    if (current === 0 && perMember) return { desired: null, code: 'MetricsUnavailable', text: explain ? `${m.name} ${fmt(value)} per member, but there are no members` : '' };
    // Per member: value is the pool's average. Total: value is the pool's sum, and the average is value/current.
    const ratio = perMember ? value / target : value / (target * Math.max(current, 1));
    const what = explain ? `${m.name} ${fmt(value)}${perMember ? '' : ' total'} vs target ${fmt(target)}${perMember ? '/member' : ' per member'}` : '';
    if (current > 0 && Math.abs(ratio - 1) <= tolerance) return { desired: current, code: 'WithinTolerance', text: explain ? `${what}: within ${fmt(tolerance * 100)}% tolerance → ${current}` : '' };
    const desired = perMember ? ceil(current * ratio) : ceil(value / target);
    return { desired, code: desired > current ? 'AboveTarget' : desired < current ? 'BelowTarget' : 'WithinTolerance', text: explain ? `${what} → ${current} → ${desired}` : '' };
  }
  const t = m.threshold!;
  // Timers only for threshold metrics: a target's state stays empty, and the copy of it each poll costs nothing.
  const timers = (thresholds[m.name] ??= {});
  timers.aboveSince = t.high !== undefined && value > t.high ? (timers.aboveSince ?? now) : undefined;
  timers.belowSince = t.low !== undefined && value < t.low ? (timers.belowSince ?? now) : undefined;
  const held = (since: number | undefined) => since !== undefined && now - since >= t.for;
  if (held(timers.aboveSince)) {
    const desired = applyAdjustment(current, t.scaleOut, 1);
    return { desired, code: 'ThresholdHigh', text: explain ? `${m.name} ${fmt(value)} > high ${fmt(t.high!)} for ${Math.round((now - timers.aboveSince!) / 1000)}s → ${t.scaleOut.type} ${fmt(t.scaleOut.value)} → ${desired}` : '' };
  }
  if (held(timers.belowSince)) {
    const desired = applyAdjustment(current, t.scaleIn, -1);
    return { desired, code: 'ThresholdLow', text: explain ? `${m.name} ${fmt(value)} < low ${fmt(t.low!)} for ${Math.round((now - timers.belowSince!) / 1000)}s → ${t.scaleIn.type} ${fmt(t.scaleIn.value)} → ${desired}` : '' };
  }
  if (!explain) return { desired: current, code: 'WithinThresholds', text: '' };
  const pending = timers.aboveSince !== undefined ? ` (above high for ${Math.round((now - timers.aboveSince) / 1000)}s of ${t.for / 1000}s)` : timers.belowSince !== undefined ? ` (below low for ${Math.round((now - timers.belowSince) / 1000)}s of ${t.for / 1000}s)` : '';
  return { desired: current, code: 'WithinThresholds', text: `${m.name} ${fmt(value)} within thresholds${pending} → ${current}` };
}

/** The largest scale-out from `current`: maxStepOut members or maxStepOutPercent of current, the larger (HPA's selectPolicy Max). */
export function maxStepOut(as: AutoscalingSpec, current: number): number | undefined {
  const pct = as.maxStepOutPercent !== undefined ? Math.max(1, Math.ceil((current * as.maxStepOutPercent) / 100)) : undefined;
  if (pct === undefined) return as.maxStepOut;
  return as.maxStepOut === undefined ? pct : Math.max(pct, as.maxStepOut);
}

export interface DecideOptions {
  /** Build the human sentence (default). The backtest turns it off: it runs decide() millions of times. */
  explain?: boolean;
  /**
   * The caller hands input.state over and never reads it again, so decide() updates it in place and returns it,
   * instead of copying it (default false: decide() never changes its input). The backtest's hot loop does: copying the
   * stabilization window's recommendations (40 at a 15 s poll and 10 minutes) at every poll was a fifth of its CPU.
   */
  consumeState?: boolean;
}

/** How many of the recommendations are at or before `since`: they are kept oldest first. */
function staleRecommendations(r: PolicyState['recommendations'], since: number): number {
  let i = 0;
  while (i < r.length && r[i]!.at <= since) i++;
  return i;
}

/** A copy of the threshold timers (decide() never changes its input); a plain loop: the backtest calls this per poll. */
function copyTimers(t: PolicyState['thresholds']): PolicyState['thresholds'] {
  const out: PolicyState['thresholds'] = {};
  for (const k in t) out[k] = { ...t[k] };
  return out;
}

/** The state decide() works on: a copy of the input's, or (consumeState) the input's own; without stale recommendations. */
function workingState(prior: PolicyState, since: number, consume: boolean): PolicyState {
  const stale = staleRecommendations(prior.recommendations, since);
  if (!consume) return { thresholds: copyTimers(prior.thresholds), recommendations: prior.recommendations.slice(stale), metricFailures: prior.metricFailures, lastActionEnd: prior.lastActionEnd };
  // shift(), not splice(): V8 moves an array's start in place, where splice copies the rest and allocates.
  for (let i = 0; i < stale; i++) prior.recommendations.shift();
  return prior;
}

export function decide(input: PolicyInput, opts: DecideOptions = {}): Decision {
  const { now, current, min, max, metrics, autoscaling: as, readings } = input;
  const state = workingState(input.state, now - as.scaleInStabilization, opts.consumeState === true);
  // The sentence's parts, each pushed only when explaining: no closure per note, since the backtest calls this per poll.
  const explain = opts.explain !== false;
  const parts: string[] = [];
  const recs: Record<string, number | null> = {};
  const failed: string[] = [];
  let code: DecisionCode = 'NoMetrics';
  let best: number | undefined;
  let available = 0;
  for (const m of metrics) {
    const r = readings[m.name];
    if (!r || r.value === undefined || !Number.isFinite(r.value)) {
      recs[m.name] = null;
      failed.push(m.name);
      if (explain) parts.push(`${m.name} unavailable (${r?.error ?? 'no reading'})`);
      // A threshold timer must not survive a gap in the data.
      delete state.thresholds[m.name];
      continue;
    }
    const rec = recommend(m, r.value, current, as.tolerance, now, state.thresholds, explain);
    recs[m.name] = rec.desired;
    if (rec.desired !== null) available++;
    if (explain) parts.push(rec.text);
    // The largest recommendation wins, and names the decision.
    if (rec.desired !== null && (best === undefined || rec.desired > best)) {
      best = rec.desired;
      code = rec.code;
    }
  }
  state.metricFailures = metrics.length > 0 && available === 0 ? state.metricFailures + 1 : 0;

  let desired: number;
  if (metrics.length === 0) {
    desired = current;
    if (explain) parts.push(`no metrics configured → ${current}`);
  } else if (available === 0) {
    desired = current;
    code = 'MetricsUnavailable';
    const fb = as.fallback;
    if (fb && state.metricFailures >= fb.failureThreshold && fb.capacity > current) {
      desired = fb.capacity;
      code = 'Fallback';
      if (explain) parts.push(`${state.metricFailures} failed reads in a row → fallback capacity ${fb.capacity}`);
    } else {
      if (explain) parts.push(`hold ${current}`);
    }
  } else {
    desired = best!;
    if (available > 1 && explain) parts.push(`largest recommendation ${desired}`);
    if (failed.length && desired < current) {
      desired = current;
      code = 'NoScaleInWhileMetricFails';
      if (explain) parts.push(`no scale-in while ${failed.join(', ')} ${failed.length > 1 ? 'are' : 'is'} unavailable → ${current}`);
    }
  }

  // Stabilization: scale in only to the highest recommendation of the window — unless a forecast leads the scale-in.
  state.recommendations.push({ at: now, desired });
  const fc = input.forecast;
  /** Whether the forecast's sentence is in the reason already (it leads the scale-in and holds the pool). */
  let forecastNoted = false;
  if (desired < current && fc?.leadsScaleIn) {
    if (fc.members > desired) {
      desired = Math.min(fc.members, current);
      code = 'Forecast';
      forecastNoted = true;
      if (explain) parts.push(`${fc.text}; no scale-in below it`);
    }
  } else if (desired < current) {
    let highest = desired;
    for (const r of state.recommendations) if (r.desired > highest) highest = r.desired;
    if (highest > desired) {
      const stabilized = Math.min(highest, current);
      if (explain) parts.push(`stabilized to the highest recommendation of the last ${Math.round(as.scaleInStabilization / 1000)}s → ${stabilized}`);
      desired = stabilized;
      code = 'Stabilized';
    }
  }

  if (fc && fc.members > desired) {
    desired = fc.members;
    code = 'Forecast';
    if (!forecastNoted && explain) parts.push(fc.text);
  }

  if (desired > max) {
    if (explain) parts.push(`capped by max ${max} → ${max}`);
    desired = max;
    code = 'CappedAtMax';
  }
  if (desired < min) {
    if (explain) parts.push(`raised to min ${min} → ${min}`);
    desired = min;
    code = 'RaisedToMin';
  }

  const outOfBounds = current < min || current > max;
  const stepOut = maxStepOut(as, current);
  if (desired > current && stepOut !== undefined && desired - current > stepOut) {
    desired = current + stepOut;
    code = 'MaxStep';
    if (explain) parts.push(`capped by max step ${stepOut} → ${desired}`);
  }
  if (desired < current && as.maxStepIn !== undefined && current - desired > as.maxStepIn) {
    desired = current - as.maxStepIn;
    code = 'MaxStep';
    if (explain) parts.push(`capped by max step ${as.maxStepIn} → ${desired}`);
  }

  // Cooldowns count from the end of the last action; bringing the pool back within [min, max] does not wait.
  if (!outOfBounds && state.lastActionEnd !== undefined && desired !== current) {
    const out = desired > current;
    const left = state.lastActionEnd + (out ? as.scaleOutCooldown : as.scaleInCooldown) - now;
    if (left > 0) {
      if (explain) parts.push(`${out ? 'scale-out' : 'scale-in'} cooldown, ${Math.ceil(left / 1000)}s left → hold ${current}`);
      desired = current;
      code = out ? 'ScaleOutCooldown' : 'ScaleInCooldown';
    }
  }

  const action = desired > current ? 'scale-out' : desired < current ? 'scale-in' : 'none';
  return { desired, action, code, reason: explain ? parts.join('; ') : '', recommendations: recs, state };
}

/** Milliseconds of cooldown left for each direction. */
export function cooldownRemaining(state: PolicyState, as: AutoscalingSpec, now: number): { scaleOut: number; scaleIn: number } {
  if (state.lastActionEnd === undefined) return { scaleOut: 0, scaleIn: 0 };
  return {
    scaleOut: Math.max(0, state.lastActionEnd + as.scaleOutCooldown - now),
    scaleIn: Math.max(0, state.lastActionEnd + as.scaleInCooldown - now),
  };
}
