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
// The spread is pooled over about a day (a decaying sum), not taken from the window alone: half an hour of readings
// gives a noisy spread, and a noisy margin costs both ways. Its unit is demand: the variance of a reading around the
// window's level per unit of level (for Poisson arrivals, the scale of one count), so the margin grows with √level,
// as counting noise does, and one figure serves both a quiet night and a busy noon.

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
}

export interface RecentDemand {
  /** Mean demand over the window. */
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
/** Readings' worth of demand the pooled spread rests on before the demand floor applies (about √(2/30) ≈ 26% error). */
export const SPREAD_READINGS = 30;

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
  if (drop) w.points.splice(0, drop);
  if (w.points.length >= MIN_SAMPLES) {
    const m = meanOf(w.points);
    const decay = w.at === undefined ? 1 : Math.pow(2, -(at - w.at) / (o.halfLifeMs ?? DAY));
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
  const points = from ? w.points.slice(from) : w.points;
  if (points.length < MIN_SAMPLES || points[points.length - 1]![0] - points[0]![0] < o.windowMs / 2 || !(w.level > 0)) return undefined;
  const level = meanOf(points);
  if (o.minSpreadReadings && !(w.level >= o.minSpreadReadings * level)) return undefined;
  const dispersion = w.rr / w.level;
  return { level, sigma: Math.sqrt(dispersion * level), dispersion, samples: points.length };
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
  const u = o.unit ? ` ${o.unit}` : '';
  const head = o.headroom ? `, ${Math.round(o.headroom * 100)}% headroom` : '';
  const text = `forecast ${num(demand)}${u} at ${hhmm(now + o.timeToReadyMs)} (+${Math.round(o.timeToReadyMs / 60_000)} min time-to-ready): level ${num(nc.level)} over ${nc.samples} readings + ${o.margin}σ (σ ${num(nc.sigma)})${head}, ${num(o.capacity)} per member → ${members}`;
  return { members, text, leadsScaleIn: true };
}
