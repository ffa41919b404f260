// Prediction, as the autoscaler and the backtest both apply it. The words, used the same way in code, docs and status:
// - the *recent demand*: the pool's level over the last window, and how far a reading strays from it (its spread);
// - the *demand floor*: the members that cover the recent level plus `margin` spreads, the demand a member asked for
//   now will meet (a quantile, not a mean, because capacity must cover the busy minutes);
// - the *forecast*: the seasonal model of the metric's history (src/policy/forecast.ts); its fit on the last day
//   decides whether prediction is trusted, and its state shows as `forecast` in the status.
//
// Why the recent level and not the seasonal forecast: a member is ready minutes after it is asked for, and over
// minutes the best guide to demand is what it is now. Measured on the NASA trace (3 minutes to ready), the seasonal
// forecast as a floor, or as a factor on the recent level, cost more member-hours for no fewer short minutes than the
// recent level alone; the seasonal forecast decides whether prediction is trusted at all (its fit on the last day).
//
// The spread is pooled over about a week with an objective, a day with a fixed margin (a decaying sum,
// SPREAD_HALF_LIFE_MS), not taken from the window alone: half an hour of readings gives a noisy spread, and a noisy
// margin costs both ways. Its unit is demand: the variance of a reading around the window's level per unit of level
// (for Poisson arrivals, the scale of one count), so the margin grows with √level, as counting noise does, and one
// figure serves both a quiet night and a busy noon.

import { DEMAND_WINDOW_MIN_READINGS } from '../config/limits';
import type { MetricSpec } from '../config/spec';
import type { MetricReading } from './engine';

export interface DemandWindow {
  /** [time (ms), pool demand] of the readings inside the window, oldest first. */
  points: [number, number][];
  /** Decaying sum of each reading's squared distance from the window's level before it. */
  rr: number;
  /** Decaying sum of that level. */
  level: number;
  /** When the sums were last decayed (ms). */
  at?: number;
}

export interface DemandWindowOptions {
  /** The recent window whose mean is the level (ms). */
  windowMs: number;
  /** Half-life of the pooled spread (ms); default one day. */
  halfLifeMs?: number;
  /**
   * Readings' worth of demand at the current level the pooled spread must rest on before a level is given (default
   * 0: none beyond MIN_SAMPLES). The first readings after a start, or after long idle, are few and a ramp is most of
   * them, so the spread they give is far too wide: on the lab, a pool started into a step of load was sent to its
   * max. Counted in demand (the decaying sum of levels), not in readings, so idle readings do not count. SPREAD_READINGS
   * is what poolpilot uses.
   */
  minSpreadReadings?: number;
  /** The share of the window's trend the level carries to now (default TREND_SHARE; 0: the mean, as before it). */
  trendShare?: number;
}

export interface RecentDemand {
  /** Demand now, as the window's readings tell it: their mean, moved by half their trend to now. */
  level: number;
  /** Standard deviation of a reading around that level: √(dispersion × level). */
  sigma: number;
  /** Pooled variance per unit of level. */
  dispersion: number;
  /** Readings in the window. */
  samples: number;
}

export const emptyDemandWindow = (): DemandWindow => ({ points: [], rr: 0, level: 0 });

const DAY = 86_400_000;
/** Readings needed in the window before a level is trusted, and before a reading counts toward the spread. */
export const MIN_SAMPLES = DEMAND_WINDOW_MIN_READINGS;
/** The share of the window's trend the level carries to now (see recentDemand). */
export const TREND_SHARE = 0.5;
/** Readings' worth of demand the pooled spread rests on before the demand floor applies (about √(2/30) ≈ 26% error). */
export const SPREAD_READINGS = 30;

/**
 * 2^(−elapsed / halfLife): what a decaying sum keeps after `elapsed`. The last answer of each half-life is kept: polls
 * come at one interval, so the elapsed time repeats, and Math.pow at every poll of a backtest was a tenth of its CPU.
 */
const halvings = new Map<number, [elapsed: number, kept: number]>();
function halving(elapsed: number, halfLife: number): number {
  const last = halvings.get(halfLife);
  if (last?.[0] === elapsed) return last[1];
  const kept = Math.pow(2, -elapsed / halfLife);
  halvings.set(halfLife, [elapsed, kept]);
  return kept;
}

/**
 * The readings' mean, and that mean moved by `share` of their least-squares trend from their mean time to `now` (at
 * least 0). One pass, times taken from the last reading so their squares stay small: it runs twice a poll.
 */
function alongTrend(points: [number, number][], from: number, now: number, share: number): { mean: number; level: number } {
  const n = points.length - from;
  const t0 = points[points.length - 1]![0];
  let st = 0;
  let sv = 0;
  let stt = 0;
  let stv = 0;
  for (let i = from; i < points.length; i++) {
    const t = points[i]![0] - t0;
    const v = points[i]![1];
    st += t;
    sv += v;
    stt += t * t;
    stv += t * v;
  }
  const mean = sv / n;
  const sxx = stt - (st * st) / n;
  const slope = sxx > 0 ? (stv - (st * sv) / n) / sxx : 0;
  return { mean, level: Math.max(0, mean + share * slope * (now - t0 - st / n)) };
}

function meanOf(points: [number, number][]): number {
  let s = 0;
  for (const [, v] of points) s += v;
  return s / points.length;
}

/**
 * Adds a reading of the pool's total demand at `at`: first to the pooled spread (its distance from the level of
 * the readings before it), then to the window, dropping readings older than the window. Updates `w` in place (it
 * runs at every poll of every backtest step) and returns it; a reading at or before the last, or a value that is not
 * a finite number ≥ 0, changes nothing.
 */
export function observeDemand(w: DemandWindow, at: number, value: number, o: DemandWindowOptions): DemandWindow {
  if (!Number.isFinite(value) || value < 0) return w;
  const last = w.points[w.points.length - 1];
  if (last && at <= last[0]) return w;
  let drop = 0;
  while (drop < w.points.length && w.points[drop]![0] <= at - o.windowMs) drop++;
  // shift(), not splice(): V8 moves an array's start in place, where splice copies the rest and allocates.
  for (let i = 0; i < drop; i++) w.points.shift();
  if (w.points.length >= MIN_SAMPLES) {
    // Measured around the window's trend line (with a trend share; before it, around the mean): a ramp is not noise,
    // and counting it as noise kept the margin wide for a day after each steep rise or fall.
    const m = (o.trendShare ?? TREND_SHARE) > 0 ? alongTrend(w.points, 0, at, 1).level : meanOf(w.points);
    const decay = w.at === undefined ? 1 : halving(at - w.at, o.halfLifeMs ?? DAY);
    w.rr = w.rr * decay + (value - m) ** 2;
    w.level = w.level * decay + m;
    w.at = at;
  }
  w.points.push([at, value]);
  return w;
}

/**
 * The recent level and spread at `now`, or undefined until the window holds MIN_SAMPLES readings spanning at least
 * half of it, with a spread measured from `minSpreadReadings` readings' worth of demand at that level (so a fresh
 * start, or readings stopped for longer than the window, wait).
 */
export function recentDemand(w: DemandWindow, now: number, o: DemandWindowOptions): RecentDemand | undefined {
  let from = 0;
  while (from < w.points.length && w.points[from]![0] <= now - o.windowMs) from++;
  const n = w.points.length - from;
  if (n < MIN_SAMPLES || w.points[w.points.length - 1]![0] - w.points[from]![0] < o.windowMs / 2 || !(w.level > 0)) return undefined;
  const { mean, level } = alongTrend(w.points, from, now, o.trendShare ?? TREND_SHARE);
  if (o.minSpreadReadings && !(w.level >= o.minSpreadReadings * mean)) return undefined;
  const dispersion = w.rr / w.level;
  // Half of the window's least-squares trend, carried from the readings' mean time to now: the mean alone lags a ramp
  // by half the window; the whole trend overshoots on a noisy slope. Half was the better trade on all three public
  // traces the backtest was judged on (NASA 1995, WorldCup 1998, Twitter), at every peer's shortfall.
  return { level, sigma: Math.sqrt(dispersion * mean), dispersion, samples: n };
}

/** The pool's total demand a reading stands for: a total as it is, a per-member average times the members. */
export function totalDemand(metric: MetricSpec, reading: MetricReading, members: number): number | undefined {
  if (reading.value === undefined || !Number.isFinite(reading.value)) return undefined;
  return metric.target && !metric.target.perMember ? reading.value : reading.value * members;
}

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** What a member carries before a target tracker scales out: the target × (1 + tolerance). */
export const memberCapacity = (target: number, tolerance: number): number => target * (1 + tolerance);

export interface DemandFloorOptions {
  /** From a scale-out to the member serving (ms): for the sentence, the level is what such a member meets. */
  timeToReadyMs: number;
  /** Demand one member carries before the reactive policy scales out: the target × (1 + tolerance). */
  capacity: number;
  /** Standard deviations of demand above its recent level to cover. */
  margin: number;
  /** Extra capacity over that (fraction). */
  headroom: number;
  unit?: string;
  /** Write the sentence (default); the backtest's hot loop does not read it. */
  explain?: boolean;
}

/**
 * The members that cover the demand expected one time-to-ready from now: the recent level plus `margin` standard
 * deviations of a reading around it, over what a member carries. It leads scale-in too (decide() scales in to it
 * without waiting out stabilization, never below the reactive recommendation): it already looks past the noise that
 * stabilization waits out.
 */
export function demandFloor(nc: RecentDemand, now: number, o: DemandFloorOptions): { members: number; text: string; leadsScaleIn: true } {
  const demand = (nc.level + o.margin * nc.sigma) * (1 + o.headroom);
  const members = Math.max(0, Math.ceil(demand / o.capacity - 1e-9));
  if (o.explain === false) return { members, text: '', leadsScaleIn: true };
  const u = o.unit ? ` ${o.unit}` : '';
  const head = o.headroom ? `, ${Math.round(o.headroom * 100)}% headroom` : '';
  const text = `forecast ${num(demand)}${u} at ${hhmm(now + o.timeToReadyMs)} (+${Math.round(o.timeToReadyMs / 60_000)} min time-to-ready): level ${num(nc.level)} over ${nc.samples} readings + ${+o.margin.toFixed(2)}σ (σ ${num(nc.sigma)})${head}, ${num(o.capacity)} per member → ${members}`;
  return { members, text, leadsScaleIn: true };
}

// The objective: the share of time the operator accepts with less ready capacity than demand (e.g. 0.01). The
// margin of the demand floor, in spreads, is then not a constant: it is a quantile of this cluster's own prediction
// errors, and the level of that quantile is steered by the pool's own outcomes, as adaptive conformal inference does
// (Gibbs & Candès, "Adaptive Conformal Inference Under Distribution Shift", 2021). Two loops:
// - scores: each poll's level and spread are a prediction of the demand one time-to-ready ahead (a member asked for
//   now serves then, and one let go now is missed until then); when that time has passed, the highest reading in it,
//   in spreads above the level, is the prediction's score. Scores go into a decaying histogram, so the margin is an
//   empirical quantile of real errors — ramps, bursts and heavy tails included — not a Gaussian guess.
// - the level: the quantile is taken at 1 − α, and α moves by `ALPHA_RATE × (objective − short)` per poll's worth
//   of time, where `short` is whether the pool was short over the stretch. So the pool's long-run share of time
//   short converges to the objective, whatever the reactive policy, the cooldowns or the runs add to the predictor's
//   own misses. A slow rate: a burst that leaves the pool short for minutes moves α a little, and the histogram's
//   shape, not a swing of the margin, carries the tails.

/** ACI's step on α, per poll's worth of time (see above). */
export const ALPHA_RATE = 0.0005;
/**
 * α's bounds: above 0 (α ≤ 0 asks for the histogram's top, whatever it holds), and below 1, since a pool is short
 * less often than its predictor misses (the reactive policy and whole members cover some misses), a loose objective
 * needs quantiles below the median.
 */
export const ALPHA_BOUNDS = [0.0002, 0.98] as const;
/** The score histogram: bins of SCORE_BIN spreads from SCORE_RANGE[0]; scores beyond fall into the end bins. */
export const SCORE_RANGE = [-4, 16] as const;
const SCORE_BIN = 0.25;
const BINS = (SCORE_RANGE[1] - SCORE_RANGE[0]) / SCORE_BIN;
/** Half-life of a score's weight: about a week, so a weekly cycle is in it and last month's traffic is not. */
const SCORE_HALF_LIFE_MS = 7 * 86_400_000;
/** Polls' worth of scores the histogram holds before its quantile replaces the Gaussian one. */
export const MIN_SCORE_WEIGHT = 240;
/** The span a reading averages over, unless told: the examples' queries and the backtest's minutes are rates over 1m. */
export const READING_MS = 60_000;
/**
 * The pooled spread's half-life with an objective: the scores' own, a week, so the margin (a quantile of scores in
 * spreads) and the spread it multiplies rest on the same stretch of history. With a day, one burst-filled day (a
 * World Cup match) widened the spread for the day after, on top of the quantile that already carries such tails:
 * measured, against each peer at its own shortfall, WorldCup vs AWS +3.9% member-hours → +1.5%, vs the HPA +0.5% →
 * +0.1%, NASA and Twitter within 1.2 points either way (docs/objective.md). A fixed margin keeps a day (SPREAD_DAY).
 */
export const SPREAD_HALF_LIFE_MS = SCORE_HALF_LIFE_MS;
/** The pooled spread's half-life with a fixed margin, and in runs begun before the calibrated-floor patch. */
export const SPREAD_DAY = DAY;
/** The most polls' worth one stretch counts for (a gap in the readings must not swing α). */
const MAX_STRETCH_POLLS = 20;

/**
 * How much time a short reading counts as short:
 * - 'stretch' (poolpilot's): the time since the reading before, at most the span it averages. Each reading speaks
 *   for its own poll, so the count is the share of readings that were short.
 * - 'span': the whole span it averages (a one-minute rate: the minute before it), counted once however many readings
 *   overlap it. Runs begun before the 'calibrated-floor' patch keep it.
 * Why 'stretch': a reading averages a short minute with the minutes around it, so marking its whole span counted
 * more short time than the pool had where short minutes come in runs, and a loose objective landed far under what
 * was asked (17.76% asked, 13.44% measured on NASA); 'stretch' lands within 4% of it there, and within the bar at 1%
 * and 5% on all three public traces (docs/objective.md).
 */
export type ShortCount = 'stretch' | 'span';

export interface Calibration {
  /** ACI's α: the quantile of the scores the floor covers is 1 − α. */
  alpha: number;
  /** The decaying histogram of scores: each bin's weight, in polls. Full precision: rounding would stall a sum. */
  bins: number[];
  /** Its total weight, and when it was last decayed (ms). */
  weight: number;
  decayedAt?: number;
  /** Predictions awaiting their outcome: [made at (ms), level, spread, highest reading since]. */
  pending: [number, number, number, number][];
  /**
   * Whether the floor has acted yet. From then on every stretch moves α, the floor's or not: the objective is the
   * pool's share of time short over all time, so stretches the floor could not help (the forecast set aside) are
   * made up while it acts. Before it, nothing counts: a new cluster's first day is not held against it.
   */
  engaged?: boolean;
  /** The end of the last span a reading showed short (ms). */
  shortEnd?: number;
  /**
   * Since it engaged: the time counted (ms) and the part of it counted short, as ShortCount says: the share α steers
   * to the objective (countedShort). Shown to operators beside the objective, and in the backtest beside the share it
   * scores, which counts whole minutes of the trace where the readings see one-minute rates.
   */
  countedMs?: number;
  countedShortMs?: number;
  /** The last outcome: when (ms), the pool's total demand, the members then ready. */
  at?: number;
  total?: number;
  members?: number;
}

/** Φ⁻¹(p) (Acklam's rational approximation, error < 1.2e-9): the margin while too few scores are known. */
export function normalQuantile(p: number): number {
  const a = [-39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472, 2.50662827745924];
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857];
  const c = [-0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373, 4.37466414146497, 2.93816398269878];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const lo = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    return p < lo ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

const clampAlpha = (a: number) => Math.min(Math.max(a, ALPHA_BOUNDS[0]), ALPHA_BOUNDS[1]);

/** Where the calibration starts: α at the objective, no scores. */
export const initialCalibration = (objective: number): Calibration => ({ alpha: clampAlpha(objective), bins: new Array<number>(BINS).fill(0), weight: 0, pending: [] });

/** The margin the floor covers now, in spreads: the scores' quantile at 1 − α (the Gaussian one until enough are known). */
export function calibratedMargin(c: Calibration): number {
  const p = 1 - c.alpha;
  if (c.weight < MIN_SCORE_WEIGHT) return normalQuantile(p);
  const want = p * c.weight;
  let sum = 0;
  for (let i = 0; i < BINS; i++) {
    const w = c.bins[i]!;
    if (sum + w >= want && w > 0) return SCORE_RANGE[0] + (i + (want - sum) / w) * SCORE_BIN;
    sum += w;
  }
  return SCORE_RANGE[1];
}

export interface CalibrationOptions {
  objective: number;
  pollMs: number;
  /** Demand one member carries. */
  capacity: number;
  /** How far ahead the floor's level predicts: the time to ready (ms). */
  horizonMs: number;
  /** The span a reading averages over (ms): a rate over the last minute is one minute's demand. */
  readingMs: number;
  /** How a short reading counts (default 'stretch'). */
  count?: ShortCount;
}

/** Adds one score (one poll's weight), decaying the histogram to `at` first. Updates `c` in place. */
function addScore(c: Calibration, at: number, score: number): void {
  if (c.decayedAt !== undefined && at > c.decayedAt) {
    const k = halving(at - c.decayedAt, SCORE_HALF_LIFE_MS);
    for (let i = 0; i < BINS; i++) c.bins[i] = c.bins[i]! * k;
    c.weight *= k;
  }
  c.decayedAt = at;
  const i = Math.min(Math.max(Math.floor((score - SCORE_RANGE[0]) / SCORE_BIN), 0), BINS - 1);
  c.bins[i] = c.bins[i]! + 1;
  c.weight += 1;
}

/**
 * One reading of the pool's total demand at `at`, with `members` ready and the recent demand (`level`, undefined
 * while the window is not ready): settles the predictions one horizon old into scores, keeps this poll's as a
 * prediction, and, once the floor has acted (`acting` now or before: `engaged`), moves α by the stretch since the
 * last reading. A short reading counts as `o.count` says (ShortCount), never more than the span it averages over
 * (`readingMs`); the middle of a stretch longer than that (a run, during which the loop does not read) counts by
 * both ends. Short is demand above the supply that held: the fewer of the two member counts (a scale-out's members
 * serve only at its end; a scale-in's stop at its start). Updates `c` in place (it runs at every poll of every
 * backtest step) and returns it.
 */
export function calibrate(c: Calibration, at: number, total: number, members: number, level: RecentDemand | undefined, acting: boolean, o: CalibrationOptions): Calibration {
  let kept = 0;
  for (const p of c.pending) {
    p[3] = Math.max(p[3], total);
    if (at - p[0] >= o.horizonMs) addScore(c, at, p[2] > 0 ? (p[3] - p[1]) / p[2] : 0);
    else c.pending[kept++] = p;
  }
  c.pending.length = kept;
  if (level) c.pending.push([at, level.level, level.sigma, total]);
  if (acting) c.engaged = true;
  const { at: prevAt, total: prevTotal, members: prevMembers } = c;
  if (c.engaged && prevAt !== undefined && prevTotal !== undefined && prevMembers !== undefined && at > prevAt) {
    const supply = Math.min(prevMembers, members) * o.capacity + 1e-9;
    const span = o.readingMs;
    const stretch = at - prevAt;
    const shortNow = total > supply;
    const shortBefore = prevTotal > supply;
    let shortMs = !shortNow ? 0 : o.count === 'span' ? at - Math.max(at - span, c.shortEnd ?? -Infinity) : Math.min(stretch, span);
    if (stretch > span) shortMs += ((stretch - span) * ((shortBefore ? 1 : 0) + (shortNow ? 1 : 0))) / 2;
    if (shortNow) c.shortEnd = at;
    c.countedMs = (c.countedMs ?? 0) + stretch;
    c.countedShortMs = (c.countedShortMs ?? 0) + shortMs;
    // α moves by ALPHA_RATE per poll's worth: objective × the time passed, less the time short.
    const weight = Math.min(1, (MAX_STRETCH_POLLS * o.pollMs) / stretch);
    c.alpha = clampAlpha(c.alpha + (ALPHA_RATE * weight * (o.objective * stretch - shortMs)) / o.pollMs);
  }
  if (c.engaged) {
    c.at = at;
    c.total = total;
    c.members = members;
  }
  return c;
}

/** The share of time short the calibration has counted since it engaged (0–1); undefined before it has counted any. */
export const countedShort = (c: Calibration | undefined): number | undefined => (c?.countedMs ? (c.countedShortMs ?? 0) / c.countedMs : undefined);

/** Whether the calibration rests on this cluster's own scores, not the Gaussian stand-in. */
export const calibrationTrusted = (c: Calibration | undefined): boolean => !!c && c.weight >= MIN_SCORE_WEIGHT;

/**
 * Whether the demand floor acts at a poll: never in forecastOnly mode; while the seasonal forecast fits; and, with
 * an objective (`onCalibration`), once the calibration rests on its own scores, whether the forecast fits or not.
 * Why: the forecast's fit stands in for "is prediction to be trusted here", and an objective's calibration measures
 * that directly (its margin is a quantile of this cluster's own misses, steered by its own time short). Measured: on
 * NASA the forecast is set aside 16% of the time, and most of the time short at 1% asked fell there, with the
 * reactive policy alone (1.69% measured at 1% asked; 1.35% with the calibrated-floor patch's three changes). A fresh
 * cluster still waits for its scores (MIN_SCORE_WEIGHT polls), and the forecast's fit until then.
 */
export function floorActs(o: { forecastFits: boolean; forecastOnly: boolean; calibration?: Calibration; onCalibration: boolean }): boolean {
  return !o.forecastOnly && (o.forecastFits || (o.onCalibration && calibrationTrusted(o.calibration)));
}

/** What prediction keeps between polls: the recent readings and, with an objective, the calibration. */
export interface PredictionMemory {
  demand: DemandWindow;
  calibration?: Calibration;
}

export interface PollObservation {
  /** The recent readings' window. */
  windowMs: number;
  /** The objective (share of time under-provisioned), or undefined for a fixed margin. */
  objective?: number;
  pollMs: number;
  /** Demand one member carries. */
  capacity: number;
  /** Whether the demand floor acts now (the forecast is trusted and not forecastOnly). */
  acting: boolean;
  /** How far ahead the floor predicts: the time to ready (ms). */
  horizonMs: number;
  /** As DemandWindowOptions.trendShare. */
  trendShare?: number;
  /** As CalibrationOptions.readingMs (default READING_MS). */
  readingMs?: number;
  /** As CalibrationOptions.count. */
  count?: ShortCount;
  /** The pooled spread's half-life (default: SPREAD_HALF_LIFE_MS with an objective, SPREAD_DAY without). */
  spreadHalfLifeMs?: number;
}

/**
 * One poll, as the autoscaler and the backtest both take it: the reading of the pool's total demand (undefined when
 * it failed) goes into the recent window and, with an objective, into the calibration (a score for the prediction
 * one horizon old, the outcome against what the `members` ready members carry). Returns the memory and the recent
 * demand the floor starts from (undefined while the floor does not act or the window is not ready).
 */
export function observePoll(m: PredictionMemory, at: number, total: number | undefined, members: number, o: PollObservation): { memory: PredictionMemory; level?: RecentDemand } {
  // Options built without spreads: this runs at every poll of every backtest step. An absent trendShare is undefined.
  const { windowMs, trendShare } = o;
  const halfLifeMs = o.spreadHalfLifeMs ?? (o.objective !== undefined ? SPREAD_HALF_LIFE_MS : SPREAD_DAY);
  const demand = total === undefined ? m.demand : observeDemand(m.demand, at, total, { windowMs, halfLifeMs, trendShare });
  const recent = total === undefined ? undefined : recentDemand(demand, at, { windowMs, minSpreadReadings: SPREAD_READINGS, trendShare });
  const level = o.acting ? recent : undefined;
  let calibration = m.calibration;
  if (o.objective !== undefined) {
    calibration ??= initialCalibration(o.objective);
    if (total !== undefined) calibration = calibrate(calibration, at, total, members, recent, !!level, { objective: o.objective, pollMs: o.pollMs, capacity: o.capacity, horizonMs: o.horizonMs, readingMs: o.readingMs ?? READING_MS, count: o.count });
  }
  const memory = calibration ? { demand, calibration } : { demand };
  return level ? { memory, level } : { memory };
}

/** The margin the floor covers now: the calibrated one with an objective, else the spec's fixed margin. */
export const marginNow = (m: PredictionMemory, fixed: number): number => (m.calibration ? calibratedMargin(m.calibration) : fixed);
