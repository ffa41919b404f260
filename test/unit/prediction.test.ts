// Schedules (cron windows, time zones, DST, overlaps) and forecasts (seasonal cycles, no look-ahead, set-aside reasons).
import { Cron } from 'croner';
import { clusterSpecSchema, scheduleSchema } from '../../src/config/spec';
import { TraceForecaster, type PredictionUnderTest } from '../../src/policy/backtest';
import { forecastSeries, smape } from '../../src/policy/forecast';
import { decide, initialPolicyState } from '../../src/policy/engine';
import { demandFloor, emptyDemandWindow, observeDemand, recentDemand, SPREAD_READINGS, totalDemand, TREND_SHARE } from '../../src/policy/prediction';
import { ScheduleClock } from '../../src/policy/schedules';
import { autoscalingSchema, metricSchema } from '../../src/config/spec';
import { lastFiring, nextFiring, nextScheduleChange, openWindows, scheduledBounds, type ScheduleSpec } from '../../src/policy/schedules';

const sched = (over: Partial<ScheduleSpec> & { cron: string }): ScheduleSpec => ({ name: 'w', timezone: 'UTC', ...over });
const at = (iso: string) => Date.parse(iso);
const H = 3_600_000;

describe('schedules', () => {
  test('a window opens at its firing and lasts until', () => {
    const s = sched({ cron: '0 8 * * 1-5', timezone: 'Europe/Berlin', until: 10 * H, min: 4 });
    // Tuesday 2026-11-24: 08:00 in Berlin is 07:00 UTC.
    expect(openWindows([s], at('2026-11-24T06:59:00Z'))).toEqual([]);
    expect(openWindows([s], at('2026-11-24T07:00:00Z'))).toEqual([{ name: 'w', openedAt: at('2026-11-24T07:00:00Z'), closesAt: at('2026-11-24T17:00:00Z'), min: 4 }]);
    expect(openWindows([s], at('2026-11-24T17:00:00Z'))).toEqual([]);
    // Saturday: closed.
    expect(openWindows([s], at('2026-11-28T09:00:00Z'))).toEqual([]);
  });
  test('across the spring DST change the local time holds: 08:00 Berlin is 07:00 UTC before, 06:00 UTC after', () => {
    const s = sched({ cron: '0 8 * * *', timezone: 'Europe/Berlin', min: 2 });
    expect(lastFiring(s, at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-28T07:00:00Z'));
    expect(lastFiring(s, at('2026-03-29T12:00:00Z'))).toBe(at('2026-03-29T06:00:00Z'));
    // A time the change skips (02:30 on 29 March) fires at 03:30 summer time, once.
    const skipped = sched({ cron: '30 2 * * *', timezone: 'Europe/Berlin', min: 2 });
    expect(lastFiring(skipped, at('2026-03-29T12:00:00Z'))).toBe(at('2026-03-29T01:30:00Z'));
  });
  test('across the autumn change the doubled hour fires once', () => {
    const s = sched({ cron: '30 2 * * *', timezone: 'Europe/Berlin', until: 30 * 60_000, min: 2 });
    const firings = [];
    for (let t = at('2026-10-24T22:00:00Z'); t < at('2026-10-25T06:00:00Z'); t += 60_000) if (lastFiring(s, t) === t) firings.push(new Date(t).toISOString());
    // The hour from 02:00 to 03:00 comes twice; the cron library fires in the second (winter time, 01:30 UTC), once.
    expect(firings).toEqual(['2026-10-25T01:30:00.000Z']);
  });
  test("the firings remembered between calls are croner's own, for times forward, back and far, across DST", () => {
    const crons = [
      { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      { cron: '0 8 * * 1-5', timezone: 'America/New_York' },
      { cron: '*/7 * * * *', timezone: 'Asia/Kolkata' },
      { cron: '0 0 30 2 *', timezone: 'UTC' },
    ];
    let seed = 7;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const c of crons) {
      const direct = new Cron(c.cron, { timezone: c.timezone, legacyMode: true });
      let t = at('2026-03-01T00:00:00Z');
      const asked: [number, number | undefined][] = [];
      let last: number | undefined;
      for (let i = 0; i < 200; i++) {
        // Mostly forward by up to a day or to the last firing itself, sometimes back a week, sometimes a year ahead.
        const r = rand();
        t = r < 0.3 && last !== undefined ? last : t + (r < 0.4 ? -7 * 24 * H : r < 0.43 ? 365 * 24 * H : Math.floor(rand() * 24 * H));
        last = nextFiring(sched(c), t);
        asked.push([t, last]);
      }
      expect(asked.map(([q, f]) => [q, f, direct.nextRun(new Date(q))?.getTime()]).filter(([, f, want]) => f !== want)).toEqual([]);
    }
  });
  test('without until, an action stays in force until its cron fires again (AWS scheduled actions)', () => {
    const up = sched({ name: 'up', cron: '0 8 * * *', min: 5 });
    const down = sched({ name: 'down', cron: '0 18 * * *', min: 1 });
    const b = (iso: string) => scheduledBounds({ min: 1, max: 10 }, openWindows([up, down], at(iso)));
    expect(b('2026-11-24T12:00:00Z')).toEqual({ min: 5, max: 10, minBy: 'up' });
    expect(b('2026-11-24T20:00:00Z')).toEqual({ min: 1, max: 10, minBy: 'down' });
  });
  test('overlaps: per field, the window opened last wins; a min above the max raises the max', () => {
    const day = sched({ name: 'day', cron: '0 8 * * *', until: 10 * H, min: 3, max: 6 });
    const peak = sched({ name: 'peak', cron: '0 12 * * *', until: 2 * H, min: 8 });
    const b = scheduledBounds({ min: 1, max: 10 }, openWindows([day, peak], at('2026-11-24T13:00:00Z')));
    expect(b).toEqual({ min: 8, max: 8, minBy: 'peak', maxBy: 'day' });
  });
  test('the next change is the next opening or closing', () => {
    const s = sched({ cron: '0 8 * * *', until: 2 * H, min: 2 });
    expect(nextScheduleChange([s], at('2026-11-24T09:00:00Z'))).toBe(at('2026-11-24T10:00:00Z'));
    expect(nextScheduleChange([s], at('2026-11-24T10:00:00Z'))).toBe(at('2026-11-25T08:00:00Z'));
  });
  test('the clock answers from its cache until a change is due', () => {
    const c = new ScheduleClock([sched({ cron: '0 8 * * *', until: 2 * H, min: 2 })], { min: 1, max: 4 });
    expect(c.read(at('2026-11-24T07:59:00Z')).bounds.min).toBe(1);
    expect(c.read(at('2026-11-24T08:00:00Z')).bounds.min).toBe(2);
    expect(c.read(at('2026-11-24T10:00:00Z')).bounds.min).toBe(1);
  });
  const bad: [string, object, RegExp][] = [
    ['a 6-field cron', { name: 'x', cron: '0 0 8 * * *', min: 2 }, /not a 5-field cron expression/],
    ['a bad field', { name: 'x', cron: '0 25 * * *', min: 2 }, /cron/],
    ['an unknown time zone', { name: 'x', cron: '0 8 * * *', timezone: 'Mars/Olympus', min: 2 }, /Mars\/Olympus.{0,3} is not an IANA time zone/],
    ['no bound', { name: 'x', cron: '0 8 * * *' }, /needs min, max or desired/],
    ['min above max', { name: 'x', cron: '0 8 * * *', min: 5, max: 2 }, /min 5 is above max 2/],
  ];
  test.each(bad)('%s is refused, naming the field', (_n, raw, message) => {
    const r = scheduleSchema.safeParse(raw);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(message);
  });
  /** A spec with prediction, whatever `over` sets. */
  const withPrediction = (over: Record<string, unknown>) =>
    clusterSpecSchema.safeParse({
        name: 'web',
        vsphere: { url: 'https://v/sdk', credentialRef: 'x', datacenter: 'D', template: '/D/t', folder: '/D/f', resourcePool: '/D/p', network: 'n' },
        loadBalancer: { socket: '/s', backend: 'web', memberPort: 80 },
        prometheus: { url: 'http://p:9090' },
        min: 1,
        max: 4,
        ...over,
    });
  test('prediction needs a total to forecast', () => {
    const r = withPrediction({ metrics: [{ name: 'conns', source: { prometheus: { query: 'avg(x)' } }, target: { value: 4 } }], prediction: {} });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/conns is a per-member average: give prediction.query/);
  });
  test.each([
    ['1m', '15s', false],
    ['75s', '15s', true],
    ['30m', '15s', true],
    ['20s', '5s', false],
  ])('a demand window of %s with polls every %s is %s', (window, pollInterval, ok) => {
    const r = withPrediction({ metrics: [{ name: 'rps', source: { prometheus: { query: 'sum(x)' } }, target: { value: 4, perMember: false } }], autoscaling: { pollInterval }, prediction: { window } });
    expect(r.success).toBe(ok);
    if (!ok) expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['prediction', 'window'], message: expect.stringMatching(/^window \d+ s holds fewer than 5 polls of \d+ s: the demand floor needs 4 readings in it before each new one; make it at least \d+ s$/) })]);
  });
});

describe('forecasts', () => {
  const STEP = 300_000;
  const perDay = 288;
  // Three weeks of a daily cycle (100 ± 80) with a weekend dip, every 5 minutes.
  const cycle = (i: number) => {
    const day = Math.floor(i / perDay) % 7;
    const base = 100 + 80 * Math.sin((2 * Math.PI * (i % perDay)) / perDay);
    return day >= 5 ? base * 0.5 : base;
  };
  const history = (n: number) => Array.from({ length: n }, (_, i) => cycle(i));

  test('recovers a daily and weekly cycle', () => {
    const n = 21 * perDay;
    const r = forecastSeries({ startMs: 0, stepMs: STEP, values: history(n) }, { horizonMs: 6 * H });
    if (!r.ok) throw new Error(r.reason);
    const actual = Array.from({ length: 72 }, (_, k) => cycle(n + k));
    expect(r.forecast.values).toHaveLength(72);
    expect(smape(r.forecast.values.map((f, k) => [f, actual[k]!]))).toBeLessThan(0.02);
    expect(r.forecast.error).toBeLessThan(0.02);
    expect(r.forecast.lagsDays).toEqual([1, 2, 3, 7, 14]);
    expect(r.forecast.startMs).toBe(n * STEP);
  });
  test('a horizon past a day reads its own forecast a day back: the second day repeats the first', () => {
    // A day and two hours of history: only the one-day lag is usable, so beyond a day it reaches the forecast.
    const n = perDay + 24;
    const r = forecastSeries({ startMs: 0, stepMs: STEP, values: history(n) }, { horizonMs: 36 * H });
    if (!r.ok) throw new Error(r.reason);
    expect(r.forecast.lagsDays).toEqual([1]);
    const v = r.forecast.values;
    expect(v).toHaveLength(36 * 12);
    // Day two's steps are the first day's times the one level factor (not a flat line held from the last step).
    const ratios = v.slice(perDay).map((x, k) => x / v[k]!);
    expect(Math.max(...ratios) - Math.min(...ratios)).toBeLessThan(1e-9);
    expect(Math.max(...v.slice(perDay)) - Math.min(...v.slice(perDay))).toBeGreaterThan(50);
    // The first day follows the cycle, off by the level factor of a window that reaches before the history (~9%).
    expect(smape(v.slice(0, perDay).map((f, k) => [f, cycle(n + k)]))).toBeLessThan(0.15);
  });
  test("each step is the median of its lags' proposals, a weekly lag counted twice", () => {
    // Fifteen days, hourly: every hour 100 (so each level factor is 1) but the first two of a few days. The lags
    // (1, 2, 3, 7, 7, 14, 14 days) propose for the next day's hour 0: 30, 10, 20, 90, 90, 80, 80; for hour 1: 90, 10,
    // 70, 80, 80, 20, 20. The medians are 80 (with each weekly lag once it would be 30) and 70 (read unsorted, 80).
    const first: Record<number, [number, number]> = { 14: [30, 90], 13: [10, 10], 12: [20, 70], 8: [90, 80], 1: [80, 20] };
    const values = Array.from({ length: 15 * 24 }, (_, i) => first[Math.floor(i / 24)]?.[i % 24] ?? 100);
    const r = forecastSeries({ startMs: 0, stepMs: H, values }, { horizonMs: 3 * H });
    if (!r.ok) throw new Error(r.reason);
    expect(r.forecast.lagsDays).toEqual([1, 2, 3, 7, 14]);
    expect(r.forecast.values).toEqual([80, 70, 100]);
  });
  test('too little history is a reason, not a forecast', () => {
    const r = forecastSeries({ startMs: 0, stepMs: STEP, values: history(200) }, { horizonMs: H });
    expect(r).toEqual({ ok: false, reason: 'too little history: 16.7 h of the 25 h needed' });
  });
  test('noise on the last day shows as a poor fit', () => {
    const v = history(8 * perDay).map((x, i) => (i >= 7 * perDay ? x * (i % 2 ? 3 : 0.2) : x));
    const r = forecastSeries({ startMs: 0, stepMs: STEP, values: v }, { horizonMs: H });
    expect(r.ok && r.forecast.error).toBeGreaterThan(0.5);
  });
  test('no look-ahead: a forecast at t is the same whatever the trace holds from t on', () => {
    const minutes = 20 * 1440;
    const clean = Array.from({ length: minutes }, (_, i) => cycle(Math.floor(i / 5)));
    const t = 16 * 86_400_000 + 7 * 60_000; // mid-bucket: the bucket in progress must not be read either
    const poisoned = clean.map((v, i) => (i * 60_000 >= t - ((t % STEP)) ? v * 1000 : v));
    const p: PredictionUnderTest = { headroom: 0, stepMs: STEP, historyMs: 14 * 86_400_000, horizonMs: 6 * H, refreshMs: H, maxError: 2, forecastOnly: false, timeToReadyMs: STEP, windowMs: 30 * 60_000, margin: 2, capacity: 11 };
    const a = new TraceForecaster({ stepMs: 60_000, values: clean }, p).at(t);
    const b = new TraceForecaster({ stepMs: 60_000, values: poisoned }, p).at(t);
    expect(a).toBeDefined();
    expect(b).toEqual(a);
  });
});

describe('the demand floor: recent level plus a pooled margin', () => {
  const M = 60_000;
  const o = { windowMs: 30 * M };
  /** The form before the trend (patches.ts, demandTrend): the mean, and the spread around it. */
  const meanForm = { ...o, trendShare: 0 };
  /** A window fed `values` one a minute from minute 0. */
  const fed = (values: number[], opts: { windowMs: number; trendShare?: number } = o) => {
    const w = emptyDemandWindow();
    values.forEach((v, i) => observeDemand(w, i * M, v, opts));
    return w;
  };

  test('on a ramp, the level is the mean moved by half the trend to now, and a ramp is not counted as noise', () => {
    // 100 + 1 a minute for an hour: the last 30 minutes' mean is 144.5 at their mean time (minute 44.5); half the trend
    // carried to minute 59 adds 7.25. The spread, measured around the trend line, is nil; around the mean it is wide.
    const ramp = Array.from({ length: 60 }, (_, i) => 100 + i);
    const nc = recentDemand(fed(ramp), 59 * M, o)!;
    expect(nc.level).toBeCloseTo(151.75, 6);
    expect(nc.sigma).toBeCloseTo(0, 6);
    expect(recentDemand(fed(ramp, meanForm), 59 * M, meanForm)!.level).toBeCloseTo(144.5, 6);
    expect(recentDemand(fed(ramp, meanForm), 59 * M, meanForm)!.sigma).toBeGreaterThan(1);
    expect(TREND_SHARE).toBe(0.5);
  });

  test.each([
    ['too few readings', [100, 100, 100], 3 * M],
    ['readings spanning less than half the window', Array(10).fill(100), 10 * M],
    ['readings older than the window (the loop stopped reading)', Array(40).fill(100), 200 * M],
  ])('no level from %s', (_why, values, now) => {
    expect(recentDemand(fed(values as number[]), now as number, o)).toBeUndefined();
  });

  test('without a trend share (runs begun before it), the level is the window mean; the spread is pooled from each reading against the level before it', () => {
    // Alternating 90/110 for an hour: the level of the last 30 minutes is 100, and each reading strays about 10.
    const w = fed(Array.from({ length: 60 }, (_, i) => (i % 2 ? 110 : 90)), meanForm);
    const nc = recentDemand(w, 59 * M, meanForm)!;
    expect(nc.samples).toBe(30);
    expect(nc.level).toBeCloseTo(100, 6);
    expect(nc.sigma).toBeGreaterThan(9);
    expect(nc.sigma).toBeLessThan(11.5);
    // √level scaling: the same dispersion at a quarter of the level is half the spread.
    expect(Math.sqrt(nc.dispersion * 25)).toBeCloseTo(nc.sigma / 2, 6);
  });

  test('a steady demand has no spread; the old spread decays with a one-day half-life', () => {
    const w = fed([...Array.from({ length: 60 }, (_, i) => (i % 2 ? 150 : 50)), ...Array(60).fill(100)]);
    const before = recentDemand(w, 119 * M, o)!.sigma;
    expect(before).toBeGreaterThan(30);
    for (let i = 120; i < 120 + 2 * 1440; i++) observeDemand(w, i * M, 100, o);
    const after = recentDemand(w, (120 + 2 * 1440 - 1) * M, o)!;
    expect(after.level).toBe(100);
    // Two days of steady readings: the spread's sums weigh the old noise about a quarter, against two days of zeros.
    expect(after.sigma).toBeLessThan(before / 4);
  });

  test("with minSpreadReadings, no level until the spread rests on that many readings' worth of demand", () => {
    const wait = { ...meanForm, minSpreadReadings: SPREAD_READINGS };
    // An hour idle, then a step to 150: idle readings carry no demand, so the ramp would be the whole spread.
    const values = [...Array(60).fill(0), ...Array(60).fill(150)];
    const w = emptyDemandWindow();
    const levels = values.map((v, i) => {
      observeDemand(w, i * M, v, wait);
      return recentDemand(w, i * M, wait);
    });
    // Idle: no spread measured yet (the floor needs some demand), as without the option.
    expect(levels[59]).toBeUndefined();
    // From the step, it waits until the levels summed reach 30 readings at the current level.
    const first = levels.findIndex((l, i) => i >= 60 && l !== undefined);
    expect(first).toBeGreaterThan(60 + SPREAD_READINGS);
    expect(levels.slice(first).every((l) => l !== undefined)).toBe(true);
    // Without it, the level comes as soon as the window allows, with the ramp's spread far above the noise (none).
    expect(recentDemand(w, 119 * M, meanForm)!.sigma).toBeGreaterThan(30);
    const early = emptyDemandWindow();
    values.slice(0, 75).forEach((v, i) => observeDemand(early, i * M, v, meanForm));
    expect(recentDemand(early, 74 * M, meanForm)!.sigma).toBeGreaterThan(50);
    expect(recentDemand(early, 74 * M, wait)).toBeUndefined();
  });

  test('bad readings and readings out of order change nothing', () => {
    const w = fed([100, 100, 100, 100, 100]);
    const copy = JSON.stringify(w);
    observeDemand(w, 10 * M, NaN, o);
    observeDemand(w, 10 * M, -1, o);
    observeDemand(w, 2 * M, 500, o);
    expect(JSON.stringify(w)).toBe(copy);
  });

  test('a per-member reading stands for the pool total times the members', () => {
    const perMember = metricSchema.parse({ name: 'c', source: { haproxy: {} }, target: { value: 10 } });
    const total = metricSchema.parse({ name: 'rps', source: { haproxy: {} }, target: { value: 10, perMember: false } });
    expect(totalDemand(perMember, { value: 7 }, 3)).toBe(21);
    expect(totalDemand(total, { value: 7 }, 3)).toBe(7);
    expect(totalDemand(total, { error: 'down' }, 3)).toBeUndefined();
  });

  test.each([
    // level, sigma, margin, headroom, capacity → members
    [100, 10, 2, 0, 44, 3], // 120 / 44 = 2.7
    [100, 10, 0, 0, 44, 3], // 100 / 44 = 2.3
    [88, 0, 2, 0, 44, 2], // exactly two members' worth
    [100, 10, 2, 0.1, 44, 3], // 132 / 44 = 3
    [100, 10, 2.5, 0.1, 44, 4], // 137.5 / 44 = 3.1
    [0, 0, 2, 0, 44, 0],
  ])('level %d, σ %d, margin %d, headroom %d, %d per member → %d', (level, sigma, margin, headroom, capacity, members) => {
    const f = demandFloor({ level, sigma, dispersion: 1, samples: 30 }, 0, { timeToReadyMs: 3 * M, capacity, margin, headroom, unit: 'rps' });
    expect(f.members).toBe(members);
    expect(f.leadsScaleIn).toBe(true);
  });

  test('the decision says which part won and why', () => {
    const f = demandFloor({ level: 700, sigma: 56, dispersion: 4.5, samples: 120 }, Date.parse('2026-11-24T10:42:00Z'), { timeToReadyMs: 3 * M, capacity: 44, margin: 2, headroom: 0, unit: 'rps' });
    expect(f.text).toBe('forecast 812 rps at 10:45 (+3 min time-to-ready): level 700 over 120 readings + 2σ (σ 56.0), 44.0 per member → 19');
  });
});

describe('decide() with a forecast that leads scale-in', () => {
  const metric = metricSchema.parse({ name: 'rps', source: { haproxy: {} }, target: { value: 40, perMember: false } });
  const as = autoscalingSchema.parse({ tolerance: 0.1, scaleInStabilization: 600, scaleInCooldown: 0, scaleOutCooldown: 0 });
  // Ten minutes ago the reactive policy wanted 10: stabilization alone holds 10.
  const state = { ...initialPolicyState(), recommendations: [{ at: 0, desired: 10 }] };
  const at = (value: number, forecast?: { members: number; leadsScaleIn?: boolean }) =>
    decide({ now: 60_000, current: 10, min: 1, max: 20, metrics: [metric], autoscaling: as, readings: { rps: { value } }, state, forecast: forecast && { text: 'forecast', ...forecast } });

  test.each([
    // reading, forecast members, leads → desired, code
    [200, undefined, undefined, 10, 'Stabilized'], // reactive wants 5; stabilization holds 10
    [200, 7, false, 10, 'Stabilized'], // a floor that does not lead: stabilization still holds
    [200, 7, true, 7, 'Forecast'], // the floor leads: straight down to it
    [200, 3, true, 5, 'BelowTarget'], // never below the reactive recommendation
    [200, 12, true, 12, 'Forecast'], // a floor above the pool scales out
    [600, 3, true, 15, 'AboveTarget'], // the reactive policy wants more: it wins
  ])('reading %d, floor %s (leads %s) → %d (%s)', (value, members, leads, desired, code) => {
    const d = at(value, members === undefined ? undefined : { members, leadsScaleIn: leads });
    expect(d.desired).toBe(desired);
    expect(d.code).toBe(code);
  });

  test('a floor above the pool that leads says so once', () => {
    const d = at(200, { members: 12, leadsScaleIn: true });
    expect(d.reason.split('forecast').length - 1).toBe(1);
    expect(d.reason).toMatch(/forecast; no scale-in below it$/);
  });
});
