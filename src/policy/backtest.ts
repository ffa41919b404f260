// The backtest: recorded demand replayed through a pool model and a policy — the same decide() the autoscaler runs.
//
// The pool model follows the autoscaler's loop: a poll every pollInterval reads the metric the demand implies and
// decides; a scale-out run lasts until its members are ready (clone + boot + one health interval) and a scale-in run
// until its members are drained, and the loop decides nothing while a run is under way; cooldowns count from a run's
// end. Capacity is what ready members serve; cost is every member that exists (cloning, booting, serving, draining).
// Scores follow the SPEC Research Group's elasticity metrics (Herbst et al., "Ready for Rain?", 2015) plus cost.
import type { AutoscalingSpec, MetricSpec } from '../config/spec';
import { decide, initialPolicyState, type MetricReading, type PolicyState } from './engine';
import { forecastSeries, smape, type Forecast } from './forecast';
import { countedShort, demandFloor, emptyDemandWindow, floorActs, marginNow, observePoll, type PollObservation, type PredictionMemory, totalDemand } from './prediction';
import { ScheduleClock } from './schedules';
import type { ScheduleSpec } from './schedules';

export interface DemandTrace {
  /** Time between samples (ms); every sample holds for one step. */
  stepMs: number;
  /** Demand per step in the metric's unit, for the whole pool (e.g. requests per minute, open connections). */
  values: ArrayLike<number>;
  /** Wall time of the first step (ms since the epoch), for schedules; default 0. */
  startMs?: number;
}

/** Prediction as the spec configures it, in the units the simulation needs. */
export interface PredictionUnderTest {
  headroom: number;
  stepMs: number;
  historyMs: number;
  horizonMs: number;
  refreshMs: number;
  maxError: number;
  forecastOnly: boolean;
  /** The time-to-ready the forecast reads ahead by. */
  timeToReadyMs: number;
  /** The recent window whose level the demand floor starts from (ms). */
  windowMs: number;
  /** The share of time under-provisioned the floor's margin is calibrated to; undefined: the fixed margin. */
  objective?: number;
  /** Standard deviations of demand over that level the floor covers, when no objective calibrates it. */
  margin: number;
  /** Demand a member carries before the reactive policy scales out (target × (1 + tolerance)). */
  capacity: number;
}

export interface PoolModel {
  /** Demand one ready member serves. */
  capacityPerMember: number;
  /** From a scale-out decision to the member serving: clone + boot + one health interval. */
  timeToReadyMs: number;
  /** A scale-in member stops taking traffic at once and exists for this long (the drain) before it is gone. */
  drainMs: number;
}

export interface PolicyUnderTest {
  name: string;
  min: number;
  max: number;
  /** Members at the start (default min). */
  initial?: number;
  /** The one metric the demand feeds: per member (demand / ready members) unless a target says perMember: false. */
  metric: MetricSpec;
  autoscaling: AutoscalingSpec;
  schedules?: ScheduleSpec[];
  prediction?: PredictionUnderTest;
}

export interface ScalingAction {
  atMs: number;
  from: number;
  to: number;
}

export interface Scores {
  /** Minutes in which ready capacity was below demand (time-weighted). */
  underProvisionedMinutes: number;
  memberHours: number;
  /** memberHours / the oracle's memberHours (1 for the oracle itself). */
  memberHoursVsOracle: number;
  /** Mean shortfall relative to demand, % (SPEC RG θ_U); demand is floored at one member's capacity. */
  accuracyUnder: number;
  /** Mean excess relative to demand, % (SPEC RG θ_O), with the same floor. */
  accuracyOver: number;
  /** % of time under-provisioned (SPEC RG τ_U). */
  timeshareUnder: number;
  /** % of time over-provisioned (SPEC RG τ_O). */
  timeshareOver: number;
  /** Scaling runs. */
  actions: number;
  /** Direction changes within 10 minutes of the run before. */
  reversals: number;
  /** With prediction: sMAPE (%) of the forecasts against the demand that came, over each forecast's refresh period. */
  forecastError?: number;
  /** With prediction: % of polls at which a forecast was in use (others: too little history, or a poor fit). */
  forecastInUse?: number;
  /**
   * With an objective: % of the time short as the demand floor's calibration counted it from the readings, since it
   * engaged: the share it steers to the objective. timeshareUnder scores whole minutes of the trace, the readings are
   * one-minute rates taken every poll, so the two differ by what the readings cannot see (docs/objective.md).
   */
  countedUnder?: number;
}

export interface Simulation {
  name: string;
  scores: Scores;
  /** Mean ready members over each step, for charts. */
  ready: Float32Array;
  actions: ScalingAction[];
}

export const REVERSAL_WINDOW_MS = 10 * 60_000;

/** Accumulates the scores' integrals over stretches of constant supply; the one place that scores a policy. */
class Tally {
  underMs = 0;
  overMs = 0;
  shortfall = 0;
  excess = 0;
  billedMs = 0;
  readonly ready: Float32Array;
  constructor(
    private readonly trace: DemandTrace,
    private readonly cap: number,
  ) {
    this.ready = new Float32Array(trace.values.length);
  }

  /** Adds [t0, t1) with `ready` members serving and `billed` members existing. */
  add(t0: number, t1: number, ready: number, billed: number): void {
    const { stepMs, values } = this.trace;
    const supply = ready * this.cap;
    this.billedMs += billed * (t1 - t0);
    let t = t0;
    while (t < t1) {
      const s = Math.floor(t / stepMs);
      const end = Math.min(t1, (s + 1) * stepMs);
      const dt = end - t;
      const d = values[s]!;
      const base = d > this.cap ? d : this.cap;
      if (supply < d) {
        this.underMs += dt;
        this.shortfall += ((d - supply) / base) * dt;
      } else if (supply > d) {
        this.overMs += dt;
        this.excess += ((supply - d) / base) * dt;
      }
      this.ready[s]! += (ready * dt) / stepMs;
      t = end;
    }
  }

  scores(totalMs: number, actions: ScalingAction[]): Scores {
    let reversals = 0;
    for (let i = 1; i < actions.length; i++) {
      const a = actions[i]!;
      const b = actions[i - 1]!;
      if (Math.sign(a.to - a.from) !== Math.sign(b.to - b.from) && a.atMs - b.atMs <= REVERSAL_WINDOW_MS) reversals++;
    }
    return {
      underProvisionedMinutes: this.underMs / 60_000,
      memberHours: this.billedMs / 3_600_000,
      memberHoursVsOracle: NaN,
      accuracyUnder: (100 * this.shortfall) / totalMs,
      accuracyOver: (100 * this.excess) / totalMs,
      timeshareUnder: (100 * this.underMs) / totalMs,
      timeshareOver: (100 * this.overMs) / totalMs,
      actions: actions.length,
      reversals,
    };
  }
}

/**
 * The demand a poll at `t` reads: the mean over the step before it, (t − step, t], as a one-step rate does (Prometheus'
 * rate(…[1m]) at t). Never the step under way: its end lies in the future.
 */
export function demandBefore(trace: DemandTrace, t: number): number {
  const { stepMs, values } = trace;
  const s = Math.floor(t / stepMs);
  const into = t - s * stepMs;
  const cur = values[Math.min(s, values.length - 1)]!;
  if (s === 0) return values[0]!;
  const prev = values[s - 1]!;
  return into === 0 ? prev : prev + ((cur - prev) * into) / stepMs;
}

/** What the metric reads with `ready` members serving `demand`: the value the autoscaler would poll. */
export function metricReading(metric: MetricSpec, demand: number, ready: number): MetricReading {
  const total = metric.target !== undefined && !metric.target.perMember;
  if (total) return { value: demand };
  // A per-member average over no members is undefined, as HAProxy's and Prometheus' averages are.
  return ready > 0 ? { value: demand / ready } : { error: 'no member serves' };
}

/**
 * The peak demand of each `stepMs` bucket (whole buckets only): what the forecaster learns from, since capacity must
 * cover a step's busiest minute, not its mean. Live, the history query is `max_over_time((query)[step:1m])`.
 */
export function peakBuckets(trace: DemandTrace, stepMs: number): Float64Array {
  const per = Math.max(1, Math.round(stepMs / trace.stepMs));
  const out = new Float64Array(Math.floor(trace.values.length / per));
  for (let k = 0; k < out.length; k++) {
    let peak = 0;
    for (let i = k * per; i < (k + 1) * per; i++) peak = Math.max(peak, trace.values[i]!);
    out[k] = peak;
  }
  return out;
}

/**
 * The forecasts of one trace under one set of prediction settings, made once and shared by every simulation of it (a
 * sweep runs the same trace many times): the forecast made at refresh k, from the whole buckets before k × refresh.
 */
const forecastCache = new WeakMap<ArrayLike<number>, Map<string, (Forecast | null)[]>>();

/**
 * Forecasts made over a trace from its own past only: at each refresh (every `refreshMs` from the trace's start, as
 * the autoscaler refreshes on its own clock), from the whole buckets before that moment.
 */
export class TraceForecaster {
  private readonly series: Float64Array;
  private readonly stepMs: number;
  private readonly made: (Forecast | null)[];
  private refresh = -1;
  current?: Forecast;
  private readonly pairs: [number, number][] = [];
  used = 0;
  polls = 0;

  constructor(
    trace: DemandTrace,
    private readonly p: PredictionUnderTest,
  ) {
    this.stepMs = Math.max(trace.stepMs, Math.round(p.stepMs / trace.stepMs) * trace.stepMs);
    this.series = peakBuckets(trace, this.stepMs);
    let byTrace = forecastCache.get(trace.values);
    if (!byTrace) forecastCache.set(trace.values, (byTrace = new Map()));
    const key = [this.stepMs, p.historyMs, p.horizonMs, p.refreshMs, p.maxError].join();
    let made = byTrace.get(key);
    if (!made) byTrace.set(key, (made = []));
    this.made = made;
  }

  private make(k: number): Forecast | null {
    const t = k * this.p.refreshMs;
    const end = Math.floor(t / this.stepMs);
    const from = Math.max(0, end - Math.round(this.p.historyMs / this.stepMs));
    const r = forecastSeries({ startMs: from * this.stepMs, stepMs: this.stepMs, values: this.series.subarray(from, end) }, { horizonMs: this.p.horizonMs });
    return r.ok && r.forecast.error <= this.p.maxError ? r.forecast : null;
  }

  /** The forecast in force at `t` (ms from the trace's start); undefined when set aside. */
  at(t: number): Forecast | undefined {
    const k = Math.floor(t / this.p.refreshMs);
    if (k !== this.refresh) {
      this.refresh = k;
      if (this.made[k] === undefined) this.made[k] = this.make(k);
      this.current = this.made[k] ?? undefined;
      // Scored against what came in the period it serves, once that is known.
      if (this.current) {
        const first = Math.round(this.current.startMs / this.stepMs);
        const last = Math.min(this.series.length, Math.floor(((k + 1) * this.p.refreshMs) / this.stepMs));
        for (let j = first; j < last && j - first < this.current.values.length; j++) this.pairs.push([this.current.values[j - first]!, this.series[j]!]);
      }
    }
    this.polls++;
    if (this.current) this.used++;
    return this.current;
  }

  error(): number {
    return 100 * smape(this.pairs);
  }
}

/** Replays `trace` through `policy` with the autoscaler's own decide(), schedules and forecasts. */
export function simulate(trace: DemandTrace, model: PoolModel, policy: PolicyUnderTest): Simulation {
  const { stepMs, values } = trace;
  const start = trace.startMs ?? 0;
  const totalMs = values.length * stepMs;
  const as = policy.autoscaling;
  const poll = Math.max(as.pollInterval, 1000);
  const metrics = [policy.metric];
  /** The one reading per poll, in one object reused (decide() reads it, keeps nothing of it). */
  const readings: Record<string, MetricReading> = {};
  const tally = new Tally(trace, model.capacityPerMember);
  const actions: ScalingAction[] = [];
  const clock = policy.schedules?.length ? new ScheduleClock(policy.schedules, policy) : undefined;
  const forecaster = policy.prediction ? new TraceForecaster(trace, policy.prediction) : undefined;
  /** Windows whose `desired` was applied already: by name and opening time. */
  const applied = new Set<string>();
  let state: PolicyState = initialPolicyState();
  /** The readings the loop took and the calibration, for the demand floor (as the workflow keeps them: only at the polls it decides). */
  let memory: PredictionMemory = { demand: emptyDemandWindow() };
  let ready = Math.min(Math.max(policy.initial ?? policy.min, policy.min), policy.max);
  let billed = ready;
  /** The run under way: the loop decides nothing until it ends, when `ready` and `billed` change by these. */
  let run: { endsAt: number; ready: number; billed: number } | undefined;
  const act = (at: number, to: number) => {
    actions.push({ atMs: at, from: ready, to });
    if (to > ready) {
      billed += to - ready;
      run = { endsAt: at + model.timeToReadyMs, ready: to - ready, billed: 0 };
    } else {
      // Drained members take no new traffic at once and are billed until they are gone.
      run = { endsAt: at + model.drainMs, ready: 0, billed: to - ready };
      ready = to;
    }
  };
  /** What observePoll is told at each poll: one object, `acting` set per poll (it keeps nothing of it). */
  const pr = policy.prediction;
  const obs: PollObservation | undefined = pr && { windowMs: pr.windowMs, objective: pr.objective, pollMs: poll, capacity: pr.capacity, acting: false, horizonMs: pr.timeToReadyMs, readingMs: stepMs };
  let t = 0;
  let nextPoll = 0;
  while (t < totalMs) {
    const next = Math.min(nextPoll, run ? run.endsAt : Infinity, totalMs);
    if (next > t) tally.add(t, next, ready, billed);
    t = next;
    if (run && run.endsAt <= t) {
      ready += run.ready;
      billed += run.billed;
      // Cooldowns count from the end of the run, as runOperation sets lastActionEnd.
      state.lastActionEnd = run.endsAt;
      run = undefined;
    }
    if (t >= totalMs || t < nextPoll) continue;
    nextPoll += poll;
    if (run) continue;
    let { min, max } = policy;
    if (clock) {
      const view = clock.read(start + t);
      ({ min, max } = view.bounds);
      // A window's desired size is asked for once, when it opens, like an operator's request.
      const fresh = view.open.find((w) => w.desired !== undefined && !applied.has(`${w.name}@${w.openedAt}`));
      if (fresh) {
        applied.add(`${fresh.name}@${fresh.openedAt}`);
        const to = Math.min(Math.max(fresh.desired!, min), max);
        if (to !== ready) {
          act(t, to);
          continue;
        }
      }
    }
    // Outside the bounds (a schedule moved them): straight back within them, as the autoscaler's bounds step does.
    if (ready < min || ready > max) {
      act(t, Math.min(Math.max(ready, min), max));
      continue;
    }
    const p = policy.prediction;
    const reading = metricReading(policy.metric, demandBefore(trace, t), ready);
    const f = forecaster?.at(t);
    let floor: ReturnType<typeof demandFloor> | undefined;
    if (p && obs) {
      obs.acting = floorActs({ forecastFits: !!f, forecastOnly: p.forecastOnly, calibration: memory.calibration, onCalibration: true });
      const { memory: next, level } = observePoll(memory, t, totalDemand(policy.metric, reading, ready), ready, obs);
      memory = next;
      if (level) floor = demandFloor(level, t, { timeToReadyMs: p.timeToReadyMs, capacity: p.capacity, margin: marginNow(memory, p.margin), headroom: p.headroom, explain: false });
    }
    readings[policy.metric.name] = reading;
    const d = decide({ now: t, current: ready, min, max, metrics, autoscaling: as, readings, state, forecast: floor }, { explain: false, consumeState: true });
    state = d.state;
    if (d.action !== 'none') act(t, d.desired);
  }
  const scores = tally.scores(totalMs, actions);
  if (forecaster) {
    scores.forecastError = forecaster.error();
    scores.forecastInUse = forecaster.polls ? (100 * forecaster.used) / forecaster.polls : 0;
  }
  const counted = countedShort(memory.calibration);
  if (counted !== undefined) scores.countedUnder = 100 * counted;
  return { name: policy.name, scores, ready: tally.ready, actions };
}

/**
 * Perfect foresight: exactly the members each step needs, each launched one time-to-ready ahead of its need and gone
 * the moment it is not needed — the least member-hours with no shortfall the bounds allow.
 */
export function oracle(trace: DemandTrace, model: PoolModel, bounds: { min: number; max: number }, name = 'oracle'): Simulation {
  const { stepMs, values } = trace;
  const n = values.length;
  const needed = new Int32Array(n);
  for (let s = 0; s < n; s++) needed[s] = Math.min(Math.max(Math.ceil(values[s]! / model.capacityPerMember - 1e-9), bounds.min), bounds.max);
  const lead = Math.ceil(model.timeToReadyMs / stepMs);
  // billed[s] = max(needed[s .. s+lead]): a member needed within one time-to-ready must exist already (monotone deque).
  const billed = new Int32Array(n);
  const window: number[] = [];
  for (let s = n - 1; s >= 0; s--) {
    while (window.length && needed[window[window.length - 1]!]! <= needed[s]!) window.pop();
    window.push(s);
    while (window[0]! > s + lead) window.shift();
    billed[s] = needed[window[0]!]!;
  }
  const tally = new Tally(trace, model.capacityPerMember);
  const actions: ScalingAction[] = [];
  for (let s = 0; s < n; s++) {
    if (s > 0 && billed[s] !== billed[s - 1]) actions.push({ atMs: s * stepMs, from: billed[s - 1]!, to: billed[s]! });
    tally.add(s * stepMs, (s + 1) * stepMs, needed[s]!, billed[s]!);
  }
  return { name, scores: tally.scores(n * stepMs, actions), ready: tally.ready, actions };
}

/** Sets each simulation's memberHoursVsOracle. */
export function relativeToOracle(sims: Simulation[], o: Simulation): void {
  for (const s of sims) s.scores.memberHoursVsOracle = o.scores.memberHours > 0 ? s.scores.memberHours / o.scores.memberHours : NaN;
}
