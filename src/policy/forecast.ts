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
 * made already, `ahead` (read in place, not copied after the history: a backtest makes a forecast every hour of its
 * trace).
 */
function proposals(v: ArrayLike<number>, ahead: number[], j: number, lags: number[], levels: number[], out: Float64Array): number {
  let n = 0;
  for (let k = 0; k < lags.length; k++) {
    const i = j - lags[k]!;
    const x = i < 0 ? undefined : i < v.length ? v[i] : ahead[i - v.length];
    if (x !== undefined) out[n++] = x * levels[k]!;
  }
  return n;
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
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!) || values[i]! < 0) return { ok: false, reason: `history value ${i} is ${values[i]}` };
  const lagsDays = [...DAILY, ...WEEKLY].filter((d) => d * perDay + perDay / 24 <= n);
  // A weekly lag counts twice: it knows the day of the week, so two weeks outvote three days at a weekday's start.
  const votes = lagsDays.flatMap((d) => (d >= 7 ? [d, d] : [d])).map((d) => d * perDay);
  const levelSteps = Math.max(1, Math.round((o.levelWindowMs ?? 3 * 3_600_000) / stepMs));
  const levelAt = (end: number, lags: number[]) =>
    lags.map((lag) => {
      const now = mean(values, end - levelSteps, end);
      const then = mean(values, end - levelSteps - lag, end - lag);
      if (!(then > 0) || !Number.isFinite(now)) return 1;
      return Math.min(2, Math.max(0.5, now / then));
    });

  // One step's proposals, one per vote, reused at every step.
  const scratch = new Float64Array(votes.length);

  // The fit check: the same method on the last day, every step forecast from the data before that day.
  const checkFrom = n - perDay;
  const pairs: [number, number][] = [];
  const checkLags = votes.filter((l) => checkFrom - l >= 0);
  if (checkFrom > 0 && checkLags.length) {
    const levels = levelAt(checkFrom, checkLags);
    for (let j = checkFrom; j < n; j += Math.max(1, Math.floor(perDay / 96))) {
      const k = proposals(values, [], j, checkLags, levels, scratch);
      if (k) pairs.push([median(scratch, k), values[j]!]);
    }
  }

  const levels = levelAt(n, votes);
  const steps = Math.max(1, Math.ceil(o.horizonMs / stepMs));
  const out: number[] = [];
  for (let j = n; j < n + steps; j++) {
    const k = proposals(values, out, j, votes, levels, scratch);
    out.push(k ? median(scratch, k) : j > n ? out[j - n - 1]! : values[n - 1]!);
  }
  return { ok: true, forecast: { startMs: history.startMs + n * stepMs, stepMs, values: out, error: smape(pairs), lagsDays } };
}

