// Schedules (cron windows, time zones, DST, overlaps) and forecasts (seasonal cycles, no look-ahead, set-aside reasons).
import { clusterSpecSchema, scheduleSchema } from '../../src/config/spec';
import { TraceForecaster, type PredictionUnderTest } from '../../src/policy/backtest';
import { forecastSeries, peakBetween, smape } from '../../src/policy/forecast';
import { forecastFloor, ScheduleClock } from '../../src/policy/proactive';
import { lastFiring, nextScheduleChange, openWindows, scheduledBounds, type ScheduleSpec } from '../../src/policy/schedules';

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
  test('prediction needs a total to forecast', () => {
    const r = clusterSpecSchema.safeParse({
      name: 'web',
      vsphere: { url: 'https://v/sdk', credentialRef: 'x', datacenter: 'D', template: '/D/t', folder: '/D/f', resourcePool: '/D/p', network: 'n' },
      loadBalancer: { socket: '/s', backend: 'web', memberPort: 80 },
      prometheus: { url: 'http://p:9090' },
      min: 1,
      max: 4,
      metrics: [{ name: 'conns', source: { prometheus: { query: 'avg(x)' } }, target: { value: 4 } }],
      prediction: {},
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/conns is a per-member average: give prediction.query/);
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
  test('too little history is a reason, not a forecast', () => {
    const r = forecastSeries({ startMs: 0, stepMs: STEP, values: history(200) }, { horizonMs: H });
    expect(r).toEqual({ ok: false, reason: 'too little history: 16.7 h of the 25 h needed' });
  });
  test('noise on the last day shows as a poor fit', () => {
    const v = history(8 * perDay).map((x, i) => (i >= 7 * perDay ? x * (i % 2 ? 3 : 0.2) : x));
    const r = forecastSeries({ startMs: 0, stepMs: STEP, values: v }, { horizonMs: H });
    expect(r.ok && r.forecast.error).toBeGreaterThan(0.5);
  });
  test('peaks and floors', () => {
    const f = { startMs: 0, stepMs: STEP, values: [10, 50, 30, 20] };
    expect(peakBetween(f, 0, STEP)).toBe(50);
    expect(peakBetween(f, 2 * STEP, 10 * STEP)).toBe(30);
    expect(peakBetween(f, 5 * STEP, 6 * STEP)).toBeUndefined();
    // Members asked for now serve after 5 minutes: the floor covers the peak up to then and one step more.
    expect(forecastFloor(f, 0, { timeToReadyMs: STEP, level: 20, headroom: 0.1 })).toMatchObject({ members: 3 });
  });
  test('no look-ahead: a forecast at t is the same whatever the trace holds from t on', () => {
    const minutes = 20 * 1440;
    const clean = Array.from({ length: minutes }, (_, i) => cycle(Math.floor(i / 5)));
    const t = 16 * 86_400_000 + 7 * 60_000; // mid-bucket: the bucket in progress must not be read either
    const poisoned = clean.map((v, i) => (i * 60_000 >= t - ((t % STEP)) ? v * 1000 : v));
    const p: PredictionUnderTest = { level: 10, headroom: 0, stepMs: STEP, historyMs: 14 * 86_400_000, horizonMs: 6 * H, refreshMs: H, maxError: 2, forecastOnly: false, timeToReadyMs: STEP };
    const a = new TraceForecaster({ stepMs: 60_000, values: clean }, p).at(t);
    const b = new TraceForecaster({ stepMs: 60_000, values: poisoned }, p).at(t);
    expect(a).toBeDefined();
    expect(b).toEqual(a);
  });
});
