// Prediction in the autoscaler: the seasonal forecast, refreshed by an activity on its own schedule, decides whether
// prediction is trusted; the recent demand, kept from each poll's reading, gives the demand floor for decide(). The
// backtest runs the same recentDemand and demandFloor (src/policy/prediction.ts).
import { log, patched } from '@temporalio/workflow';
import { objectiveOf, type ClusterSpec } from '../config/spec';
import type { MetricReading } from '../policy/engine';
import type { ForecastResult } from '../policy/forecast';
import { calibratedMargin, countedShort, demandFloor, emptyDemandWindow, floorActs, marginNow, memberCapacity, MIN_SAMPLES, MIN_SCORE_WEIGHT, observePoll, recentDemand, SPREAD_DAY, SPREAD_READINGS, totalDemand, TREND_SHARE } from '../policy/prediction';
import type { ForecastStatus } from './autoscaler-messages';
import { memberCount, record, type Autoscaling } from './autoscaler-state';
import { activitiesFor, describeFailure } from './shared';
import { PATCHES } from './patches';

const DEFAULT_TIME_TO_READY = 300_000;
const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);

/** The metric prediction reads: the named one, else the first with a target. */
function predictionMetric(spec: ClusterSpec) {
  const p = spec.prediction!;
  return p.metric ? spec.metrics.find((m) => m.name === p.metric) : spec.metrics.find((m) => m.target);
}

/** The time from a scale-out to members serving: the spec's, else the median of recent scale-outs, else 5 minutes. */
export function timeToReady(a: Autoscaling): number {
  const given = a.s.spec.prediction?.timeToReady;
  if (given !== undefined) return given;
  const runs = a.s.runs
    .filter((r) => r.kind === 'scale-out' && r.endedAt && r.result?.status === 'succeeded')
    .slice(-5)
    .map((r) => Date.parse(r.endedAt!) - Date.parse(r.startedAt))
    .sort((x, y) => x - y);
  return runs.length ? runs[runs.length >> 1]! : DEFAULT_TIME_TO_READY;
}

/** Makes a new forecast when one is due; a failure or a poor fit sets the forecast aside with its reason. */
export async function refreshForecast(a: Autoscaling, now: number): Promise<void> {
  const { s } = a;
  const p = s.spec.prediction;
  if (!p) {
    s.forecast = undefined;
    return;
  }
  notePatch(a);
  if (s.forecast && now < s.forecast.nextRefresh) return;
  const metric = predictionMetric(s.spec);
  const query = p.query ?? (metric && 'prometheus' in metric.source ? metric.source.prometheus.query : undefined);
  let result: ForecastResult;
  if (!query || !s.spec.prometheus) result = { ok: false, reason: 'no history query (prediction.query) and no Prometheus' };
  else {
    try {
      result = await activitiesFor(s.spec).inspect.forecastDemand({ prometheusUrl: s.spec.prometheus.url, query, historyMs: p.history, stepMs: p.step, horizonMs: p.horizon });
    } catch (err) {
      result = { ok: false, reason: `the forecast could not be made: ${describeFailure(err)}` };
    }
  }
  const made = Date.now();
  if (result.ok && result.forecast.error > p.maxError) {
    result = { ok: false, reason: `poor fit: sMAPE ${(result.forecast.error * 100).toFixed(0)}% on the last day, above maxError ${(p.maxError * 100).toFixed(0)}%` };
  }
  const before = s.forecast;
  // Kept small in state: the values rounded to 4 significant digits.
  s.forecast = result.ok
    ? { madeAt: made, nextRefresh: made + p.refresh, startMs: result.forecast.startMs, stepMs: result.forecast.stepMs, values: result.forecast.values.map((v) => Number(v.toPrecision(4))), error: result.forecast.error }
    : { madeAt: made, nextRefresh: made + p.refresh, reason: result.reason };
  if (!result.ok && before?.reason !== result.reason) {
    const n = memberCount(s);
    record(a, { current: n, desired: n, action: 'forecast', code: 'ForecastSetAside', reason: `forecast set aside: ${result.reason}; ${withoutForecast(a)}`, source: 'forecast' });
    log.warn('forecast set aside', { cluster: a.cluster, reason: result.reason });
  }
}

/**
 * Asks the calibrated-floor patch once a run, first where a forecast is refreshed (its set-aside sentence depends on
 * it). In the loop, never in a query: patched() writes a marker, and histories replay only with their markers where
 * they were written (demandTrend's stays in observeDemandReading for that reason).
 */
function notePatch(a: Autoscaling): void {
  a.calibratedFloor ??= patched(PATCHES.calibratedFloor);
}

/** What runs while the forecast is set aside: the reactive policy alone, or the floor on its calibration (floorStands). */
function withoutForecast(a: Autoscaling): string {
  const p = a.s.spec.prediction;
  // The forecast was just set aside, so the floor acts now only on its calibration.
  if (floorActsNow(a)) return 'the demand floor acts on its calibration, the pool\'s own record';
  if (!a.calibratedFloor || !p || objectiveOf(p) === undefined || p.forecastOnly) return 'the reactive policy runs alone';
  return `the reactive policy runs alone until the demand floor's calibration rests on ${MIN_SCORE_WEIGHT} scores of its own`;
}

// Specs kept in the state of runs begun before the demand floor lack its two settings; those begun before objectives
// carry margin 2 (then the default), and keep it: nothing in their history is calibrated.
const windowOf = (p: NonNullable<ClusterSpec['prediction']>) => (p.window as number | undefined) ?? 1_800_000;
const FIXED_MARGIN_OF_OLD_SPECS = 2;
const marginOf = (p: NonNullable<ClusterSpec['prediction']>) => p.margin ?? FIXED_MARGIN_OF_OLD_SPECS;
/**
 * Whether the demand floor stands now (acts, or in forecastOnly mode would): the forecast fits, or (runs begun under
 * the calibrated-floor patch) an objective's calibration rests on its own scores. policy/prediction.ts, floorActs.
 */
const floorStands = (a: Autoscaling, forecastOnly = false) => floorActs({ forecastFits: !!a.s.forecast?.values, forecastOnly, calibration: a.s.calibration, onCalibration: !!a.calibratedFloor });
/** Whether it acts: it stands and the spec does not only record it. */
const floorActsNow = (a: Autoscaling) => floorStands(a, !!a.s.spec.prediction?.forecastOnly);

/**
 * Keeps the prediction metric's reading, as the pool's total demand, in the recent window the demand floor starts
 * from (values to 4 significant digits: the window is state), and, with an objective, its outcome in the
 * calibration (observePoll, as the backtest does). A failed reading adds nothing.
 */
export function observeDemandReading(a: Autoscaling, readings: Record<string, MetricReading>, members: number, now: number): void {
  const { s } = a;
  const p = s.spec.prediction;
  const metric = p && predictionMetric(s.spec);
  if (!p || !metric?.target) return;
  const r = readings[metric.name];
  const raw = r && totalDemand(metric, r, members);
  const total = raw === undefined ? undefined : Number(raw.toPrecision(4));
  const capacity = memberCapacity(metric.target.value, s.spec.autoscaling.tolerance);
  const objective = objectiveOf(p);
  const memory = { demand: s.demand ?? emptyDemandWindow(), ...(s.calibration ? { calibration: s.calibration } : {}) };
  // In the loop, never in a query: patched() writes a marker.
  a.trendShare ??= patched(PATCHES.demandTrend) ? TREND_SHARE : 0;
  notePatch(a);
  // Runs begun before the calibrated-floor patch keep their short count and their day-long spread.
  const before = a.calibratedFloor ? {} : { count: 'span' as const, spreadHalfLifeMs: SPREAD_DAY };
  const { memory: next } = observePoll(memory, now, total, members, { windowMs: windowOf(p), objective, pollMs: s.spec.autoscaling.pollInterval, capacity, acting: floorActsNow(a), horizonMs: timeToReady(a), trendShare: a.trendShare, ...before });
  s.demand = next.demand;
  // A spec changed to a fixed margin drops the calibration; one changed to another objective keeps it (it adapts).
  if (next.calibration) s.calibration = next.calibration;
  else delete s.calibration;
}

/** The demand floor for decide() now, while it stands (floorStands); in forecastOnly mode, what it would be. */
export function demandFloorNow(a: Autoscaling, now: number): { members: number; text: string; only: boolean; leadsScaleIn?: boolean } | undefined {
  const { s } = a;
  const p = s.spec.prediction;
  if (!p || !floorStands(a)) return undefined;
  const metric = predictionMetric(s.spec);
  if (!metric?.target) return undefined;
  const level = s.demand && recentDemand(s.demand, now, { windowMs: windowOf(p), minSpreadReadings: SPREAD_READINGS, trendShare: a.trendShare ?? 0 });
  if (!level) return undefined;
  const capacity = memberCapacity(metric.target.value, s.spec.autoscaling.tolerance);
  const margin = marginNow({ demand: s.demand!, ...(s.calibration ? { calibration: s.calibration } : {}) }, marginOf(p));
  return { ...demandFloor(level, now, { timeToReadyMs: timeToReady(a), capacity, margin, headroom: p.headroom, unit: metric.name }), only: p.forecastOnly };
}

function objectiveNow(a: Autoscaling): ForecastStatus['objective'] {
  const objective = a.s.spec.prediction && objectiveOf(a.s.spec.prediction);
  const c = a.s.calibration;
  if (objective === undefined || !c) return null;
  return { underProvisioned: objective, quantile: 1 - c.alpha, margin: calibratedMargin(c), scores: Math.round(c.weight), counted: countedShort(c) ?? null, countedMs: c.countedMs ?? 0 };
}

export function forecastStatus(a: Autoscaling, now: number): ForecastStatus | null {
  const { s } = a;
  const p = s.spec.prediction;
  if (!p) return null;
  const f = s.forecast;
  const floor = demandFloorNow(a, now);
  return {
    state: !f ? 'pending' : f.reason ? 'set aside' : p.forecastOnly ? 'forecast only' : 'in use',
    reason: f?.reason ?? null,
    error: f?.error ?? null,
    madeAt: f ? new Date(f.madeAt).toISOString() : null,
    nextRefresh: f ? new Date(f.nextRefresh).toISOString() : null,
    timeToReadyMs: timeToReady(a),
    members: floor?.members ?? null,
    objective: objectiveNow(a),
    text: floor ? `${f?.reason ? 'on its calibration, the forecast set aside: ' : ''}${floor.text} (at ${hhmm(now)})` : floorStands(a) ? `waiting for readings (${MIN_SAMPLES} or more, over half of the ${Math.round(windowOf(p) / 1000)} s window, and a spread from ${SPREAD_READINGS} readings' worth of demand) before the demand floor applies` : null,
  };
}
