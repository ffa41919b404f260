// The demand a member asked for now will meet: the pool's recent level plus a margin for how far demand strays from
// that level minute to minute — a quantile, not a mean, because capacity must cover the busy minutes.
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

export interface NowcastOptions {
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

export interface Nowcast {
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
export function observeDemand(w: DemandWindow, at: number, value: number, o: NowcastOptions): DemandWindow {
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
export function nowcast(w: DemandWindow, now: number, o: NowcastOptions): Nowcast | undefined {
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
