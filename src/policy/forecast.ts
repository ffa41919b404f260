// Demand forecasts from a cluster's own history: a seasonal ensemble over daily and weekly cycles (as AWS predictive
// scaling and "seasonal naive" ensembles do), small, pure and checked on its own recent past before it is trusted.
//
// For a future step j, each reference lag ℓ (1, 2, 3 days; 1, 2 weeks — those the history covers) proposes the value
// seen ℓ earlier, scaled by how the last hours compare with the same hours ℓ earlier (clamped to [0.5, 2]). The
// forecast is the median of the proposals, with each weekly lag counted twice: one odd day (an outage, a launch)
// does not lead it, and the day of the week does (a Monday follows last Monday, not Sunday). The same method,
// run on the last day of the history from the days before it, gives the error by which a forecast is trusted.

export interface Series {
  /** Time of values[0] (ms). */
  startMs: number;
  stepMs: number;
  values: ArrayLike<number>;
}

export interface ForecastOptions {
  /** How far ahead to forecast (ms). */
  horizonMs: number;
  /** History needed before a forecast is made at all (ms); default one day. */
  minHistoryMs?: number;
  /** The window that sets the level factor (ms); default 3 hours. */
  levelWindowMs?: number;
}

export interface Forecast {
  /** Time of values[0]: the first step after the history (ms). */
  startMs: number;
  stepMs: number;
  values: number[];
  /** sMAPE (0..2) of the same method on the last day of the history, forecasting each step a day at a time. */
  error: number;
  /** The lags used, in days. */
  lagsDays: number[];
}

export type ForecastResult = { ok: true; forecast: Forecast } | { ok: false; reason: string };

const DAY = 86_400_000;
const DAILY = [1, 2, 3];
const WEEKLY = [7, 14];

/**
 * The median of the first `n` values of `xs`, sorting them in place: insertion sort, since a step has at most seven
 * proposals and a backtest asks for millions of medians (a forecast of a day every hour of 60 days).
 */
function median(xs: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    const x = xs[i]!;
    let j = i - 1;
    for (; j >= 0 && xs[j]! > x; j--) xs[j + 1] = xs[j]!;
    xs[j + 1] = x;
  }
  const m = n >> 1;
  return n % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

function mean(v: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let i = Math.max(0, from); i < Math.min(to, v.length); i++) {
    sum += v[i]!;
    n++;
  }
  return n ? sum / n : NaN;
}

/** Symmetric MAPE of pairs, skipping pairs that are both zero. */
export function smape(pairs: [forecast: number, actual: number][]): number {
  let sum = 0;
  let n = 0;
  for (const [f, a] of pairs) {
    const d = Math.abs(f) + Math.abs(a);
    if (d === 0) continue;
    sum += (2 * Math.abs(f - a)) / d;
    n++;
  }
  return n ? sum / n : 0;
}

/**
 * The proposal of each usable lag for index `j` of the history `v`, level-adjusted by `levels`, written to `out`;
 * returns how many. `j` may lie past the history's end, and a lag may reach there too: those values are the forecasts
 * made already, the first `made` of `ahead` (read in place, not copied after the history: a backtest makes a forecast every hour of its
 * trace).
 */
function proposals(v: ArrayLike<number>, ahead: Float64Array, made: number, j: number, lags: number[], levels: Float64Array, out: Float64Array): number {
  let n = 0;
  for (let k = 0; k < lags.length; k++) {
    const i = j - lags[k]!;
    if (i < 0) continue;
    if (i < v.length) out[n++] = v[i]! * levels[k]!;
    else if (i - v.length < made) out[n++] = ahead[i - v.length]! * levels[k]!;
  }
  return n;
}

// forecastSeries is split into the functions below, one loop each, for V8: a backtest calls it every refresh of
// its trace, and as one function its loops ran on on-stack-replacement code that bailed out at every call (the
// history's start grows past a small integer), which cost more than all the forecasts' arithmetic.

/** The first value that is not a finite number ≥ 0, or -1. */
function firstInvalid(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!) || values[i]! < 0) return i;
  return -1;
}

/** Each lag's level factor at `end`: the mean of the `levelSteps` before it over the same steps a lag earlier, clamped to [0.5, 2]. */
function levelFactors(values: ArrayLike<number>, end: number, lags: number[], levelSteps: number): Float64Array {
  const out = new Float64Array(lags.length);
  const now = mean(values, end - levelSteps, end);
  for (let k = 0; k < lags.length; k++) {
    const then = mean(values, end - levelSteps - lags[k]!, end - lags[k]!);
    out[k] = !(then > 0) || !Number.isFinite(now) ? 1 : Math.min(2, Math.max(0.5, now / then));
  }
  return out;
}

/** The fit check: the same method on the last day (`perDay` steps), every step forecast from the data before that day; its sMAPE. */
function fitError(values: ArrayLike<number>, perDay: number, votes: number[], levelSteps: number, scratch: Float64Array): number {
  const n = values.length;
  const checkFrom = n - perDay;
  const pairs: [number, number][] = [];
  const checkLags = votes.filter((l) => checkFrom - l >= 0);
  if (checkFrom > 0 && checkLags.length) {
    const levels = levelFactors(values, checkFrom, checkLags, levelSteps);
    const none = new Float64Array(0);
    for (let j = checkFrom; j < n; j += Math.max(1, Math.floor(perDay / 96))) {
      const k = proposals(values, none, 0, j, checkLags, levels, scratch);
      if (k) pairs.push([median(scratch, k), values[j]!]);
    }
  }
  return smape(pairs);
}

/** The `steps` after the history, each the median of its proposals (a step with none repeats the one before). */
function ahead(values: ArrayLike<number>, steps: number, votes: number[], levels: Float64Array, scratch: Float64Array): Float64Array {
  const n = values.length;
  const out = new Float64Array(steps);
  for (let j = 0; j < steps; j++) {
    const k = proposals(values, out, j, n + j, votes, levels, scratch);
    out[j] = k ? median(scratch, k) : j > 0 ? out[j - 1]! : values[n - 1]!;
  }
  return out;
}

/** Forecasts the `horizonMs` after the history; refuses with a reason when the history is too short. */
export function forecastSeries(history: Series, o: ForecastOptions): ForecastResult {
  const { stepMs, values } = history;
  const n = values.length;
  const perDay = Math.round(DAY / stepMs);
  const minHistory = o.minHistoryMs ?? DAY;
  if (n * stepMs < minHistory + DAY / 24) {
    return { ok: false, reason: `too little history: ${((n * stepMs) / 3_600_000).toFixed(1)} h of the ${((minHistory + DAY / 24) / 3_600_000).toFixed(0)} h needed` };
  }
  const bad = firstInvalid(values);
  if (bad >= 0) return { ok: false, reason: `history value ${bad} is ${values[bad]}` };
  const lagsDays = [...DAILY, ...WEEKLY].filter((d) => d * perDay + perDay / 24 <= n);
  // A weekly lag counts twice: it knows the day of the week, so two weeks outvote three days at a weekday's start.
  const votes = lagsDays.flatMap((d) => (d >= 7 ? [d, d] : [d])).map((d) => d * perDay);
  const levelSteps = Math.max(1, Math.round((o.levelWindowMs ?? 3 * 3_600_000) / stepMs));
  // One step's proposals, one per vote, reused at every step.
  const scratch = new Float64Array(votes.length);
  const error = fitError(values, perDay, votes, levelSteps, scratch);
  const steps = Math.max(1, Math.ceil(o.horizonMs / stepMs));
  const out = ahead(values, steps, votes, levelFactors(values, n, votes, levelSteps), scratch);
  return { ok: true, forecast: { startMs: history.startMs + n * stepMs, stepMs, values: Array.from(out), error, lagsDays } };
}
