// The objective: the share of time short of capacity the operator states, the margin calibrated online to meet it,
// the backtest's honest readings (nothing at or after a decision), and the sweep (each point equals a single run).
import path from 'node:path';
import { loadClusterSpec } from '../../src/config/load';
import { parseShare, shareProblem } from '../../src/config/share';
import { clusterSpecSchema, DEFAULT_OBJECTIVE, objectiveOf, predictionSchema, autoscalingSchema, metricSchema } from '../../src/config/spec';
import { demandBefore, simulate, type DemandTrace, type PolicyUnderTest } from '../../src/policy/backtest';
import { ALPHA_BOUNDS, ALPHA_RATE, calibrate as calibrateInPlace, calibratedMargin, type Calibration, countedShort, emptyDemandWindow, floorActs, initialCalibration, MIN_SCORE_WEIGHT, SPREAD_HALF_LIFE_MS, normalQuantile, observePoll, SCORE_RANGE, type RecentDemand } from '../../src/policy/prediction';
import { runBacktest, sweepObjectives } from '../../src/policy/peers';

const MIN = 60_000;
type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;
const DAY = 86_400_000;

describe('shares of time', () => {
  test.each([
    ['1%', 0.01],
    ['0.5%', 0.005],
    [' 10 % ', 0.1],
    [0.02, 0.02],
    ['0.05', 0.05],
  ])('%p is %p', (v, x) => expect(parseShare(v)).toBeCloseTo(x, 12));
  test.each([
    ['abc', /"abc" is not a share of time/],
    ['150%', /"150%" is not a share of time/],
    [5, /"5" is not a share of time/],
    ['60%', /60% is outside 0.01%…50%/],
    ['0%', /0% is outside/],
  ])('%p is refused: %p', (v, message) => expect(shareProblem(v)).toMatch(message));
});

describe('the objective in the spec', () => {
  test('objective and margin together are refused, naming margin', () => {
    const r = predictionSchema.safeParse({ objective: { underProvisioned: '1%' }, margin: 2 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['margin', expect.stringMatching(/give objective or margin, not both/)]]);
  });
  test('a bad objective names its field', () => {
    const r = predictionSchema.safeParse({ objective: { underProvisioned: '200%' } });
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['objective.underProvisioned']);
  });
  test('no objective and no margin: the default objective; a margin: no objective (fixed, as before objectives)', () => {
    expect(objectiveOf(predictionSchema.parse({}))).toBe(DEFAULT_OBJECTIVE);
    expect(objectiveOf(predictionSchema.parse({ margin: 2 }))).toBeUndefined();
    expect(objectiveOf(predictionSchema.parse({ objective: { underProvisioned: '5%' } }))).toBe(0.05);
  });
  test('the predictive example states its objective', () => {
    const spec = loadClusterSpec(path.join(__dirname, '../../examples/web-predictive.yaml'));
    expect(objectiveOf(spec.prediction!)).toBe(0.02);
    expect(clusterSpecSchema.safeParse({ ...spec }).success).toBe(true);
  });
});

describe('the calibration (a quantile of its own scores, its level steered by the outcome)', () => {
  // Readings averaged over one poll (15 s), so each reading speaks for its own stretch; the minute-long case below.
  const o = { objective: 0.05, pollMs: 15_000, capacity: 10, horizonMs: 60_000, readingMs: 15_000 };
  // calibrate() updates in place (a hot loop); these cases compare before and after, so each step takes a copy.
  const calibrate = (c: Calibration, ...rest: Tail<Parameters<typeof calibrateInPlace>>) => calibrateInPlace(structuredClone(c), ...rest);
  const level = (l: number, sigma: number): RecentDemand => ({ level: l, sigma, dispersion: (sigma * sigma) / l, samples: 30 });
  test('starts with α at the objective and, with too few scores, the Gaussian quantile', () => {
    expect(initialCalibration(0.05).alpha).toBe(0.05);
    expect(calibratedMargin(initialCalibration(0.05))).toBeCloseTo(1.6449, 3);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263, 3);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
  });
  test('a prediction is scored one horizon later by the highest reading in between, in spreads above its level', () => {
    let c = calibrate(initialCalibration(0.05), 0, 100, 20, level(100, 10), true, o);
    expect(c.pending).toEqual([[0, 100, 10, 100]]);
    c = calibrate(c, 15_000, 130, 20, undefined, true, o);
    c = calibrate(c, 30_000, 110, 20, undefined, true, o);
    expect(c.weight).toBe(0);
    c = calibrate(c, 60_000, 105, 20, undefined, true, o);
    // Highest reading 130: (130 − 100) / 10 = 3 spreads, in the bin from 3 to 3.25.
    expect(c.weight).toBe(1);
    expect(c.bins[(3 - SCORE_RANGE[0]) / 0.25]).toBe(1);
    expect(c.pending).toEqual([]);
  });
  test('with enough scores, the margin is their quantile at 1 − α, not a Gaussian guess', () => {
    let c = initialCalibration(0.1);
    // 1,000 predictions of level 100, spread 10; each scored by the one reading a horizon later: 90 of them 140 (4σ),
    // the rest 100 (0σ). The 90th percentile falls in the bin of 0σ; at α = 0.05 it is in the bin of 4σ.
    for (let k = 0; k < 1000; k++) c = calibrate(c, k * 60_000, k % 100 < 9 ? 140 : 100, 20, level(100, 10), false, o);
    // 999 scores, decayed with a half-life of a week over the 16.6 hours they span.
    expect(c.weight).toBeGreaterThan(950);
    expect(c.weight).toBeLessThan(999);
    expect(calibratedMargin({ ...c, alpha: 0.1 })).toBeGreaterThanOrEqual(0);
    expect(calibratedMargin({ ...c, alpha: 0.1 })).toBeLessThan(0.25);
    expect(calibratedMargin({ ...c, alpha: 0.05 })).toBeGreaterThanOrEqual(4);
    expect(calibratedMargin({ ...c, alpha: 0.05 })).toBeLessThan(4.25);
  });
  test('short time lowers α by rate × (1 − objective) per poll of it; covered time raises it by rate × objective', () => {
    let c = calibrate(initialCalibration(0.05), 0, 35, 3, undefined, true, o);
    // 30 s, short at both ends: the last reading's 15 s and the 15 s between that no reading covers, both short.
    c = calibrate(c, 30_000, 35, 3, undefined, true, o);
    expect(c.alpha).toBeCloseTo(0.05 - ALPHA_RATE * 2 * 0.95, 12);
    const covered = calibrate(c, 45_000, 25, 3, undefined, true, o);
    expect(covered.alpha).toBeCloseTo(c.alpha + ALPHA_RATE * 0.05, 12);
    // A long stretch short at one end only: its uncovered middle counts half.
    const mixed = calibrate(covered, 105_000, 35, 3, undefined, true, o);
    expect(mixed.alpha).toBeCloseTo(covered.alpha + (ALPHA_RATE * (0.05 * 60_000 - 15_000 - 45_000 / 2)) / 15_000, 12);
  });
  test("'stretch' (poolpilot's): a short one-minute rate counts the time since the reading before, never more than its minute", () => {
    const m = { ...o, readingMs: 60_000 };
    const start = calibrate(initialCalibration(0.05), 0, 5, 3, undefined, true, m);
    const first = calibrate(start, 15_000, 35, 3, undefined, true, m);
    // 15 s since the last reading: 15 s short, not the minute the rate averages.
    expect(first.alpha).toBeCloseTo(0.05 + ALPHA_RATE * (0.05 - 1), 12);
    const second = calibrate(first, 30_000, 35, 3, undefined, true, m);
    expect(second.alpha).toBeCloseTo(first.alpha + ALPHA_RATE * (0.05 - 1), 12);
    // A 50 s gap (within the minute), short at its end: 50 s short.
    const gap = calibrate(second, 80_000, 35, 3, undefined, true, m);
    expect(gap.alpha).toBeCloseTo(second.alpha + (ALPHA_RATE * (0.05 * 50_000 - 50_000)) / 15_000, 12);
  });
  test("'span' (runs begun before the calibrated-floor patch): a short one-minute rate marks that minute, once", () => {
    const m = { ...o, readingMs: 60_000, count: 'span' as const };
    const start = calibrate(initialCalibration(0.05), 0, 5, 3, undefined, true, m);
    const first = calibrate(start, 15_000, 35, 3, undefined, true, m);
    // The whole minute before it is short (60 s), though only 15 s passed since the last reading.
    expect(first.alpha).toBeCloseTo(0.05 + (ALPHA_RATE * (0.05 * 15_000 - 60_000)) / 15_000, 12);
    // The next short reading adds only what the last did not cover: 15 s.
    const second = calibrate(first, 30_000, 35, 3, undefined, true, m);
    expect(second.alpha).toBeCloseTo(first.alpha + ALPHA_RATE * (0.05 - 1), 12);
  });
  test('a scale-out stretch is judged by the members it had, not those it brought', () => {
    const start = calibrate(initialCalibration(0.05), 0, 35, 3, undefined, true, o);
    expect(calibrate(start, 15_000, 35, 4, undefined, true, o).alpha).toBeCloseTo(0.05 - ALPHA_RATE * 0.95, 12);
    expect(calibrate(start, 15_000, 25, 4, undefined, true, o).alpha).toBeCloseTo(0.05 + ALPHA_RATE * 0.05, 12);
  });
  test('α stays within its bounds', () => {
    let c = initialCalibration(0.05);
    for (let i = 0; i < 10_000; i++) c = calibrate(c, i * 15_000, 100, 1, undefined, true, o);
    expect(c.alpha).toBe(ALPHA_BOUNDS[0]);
  });
  test('before the floor has acted nothing moves α; once it has, every stretch does', () => {
    const idle = calibrate(calibrate(initialCalibration(0.05), 0, 50, 1, undefined, false, o), 15_000, 50, 1, undefined, false, o);
    expect(idle.alpha).toBe(0.05);
    expect(idle.engaged).toBeUndefined();
    const acted = calibrate(idle, 30_000, 50, 1, undefined, true, o);
    const after = calibrate(acted, 45_000, 50, 1, undefined, false, o);
    expect(after.engaged).toBe(true);
    expect(after.alpha).toBeCloseTo(acted.alpha - ALPHA_RATE * 0.95, 12);
  });
  test('countedShort: the share of the time counted since the floor engaged that was counted short, what α steers', () => {
    const idle = calibrate(calibrate(initialCalibration(0.05), 0, 50, 1, undefined, false, o), 15_000, 50, 1, undefined, false, o);
    expect(countedShort(idle)).toBeUndefined();
    const acted = calibrate(idle, 30_000, 50, 1, undefined, true, o);
    // 15 s short (50 > 10 per member), then 15 s covered, then a 75 s stretch covered at one end, short at the other:
    // its reading's 15 s short and half of the 60 s between.
    const short = calibrate(acted, 45_000, 50, 1, undefined, false, o);
    const covered = calibrate(short, 60_000, 5, 1, undefined, false, o);
    const mixed = calibrate(covered, 135_000, 50, 1, undefined, false, o);
    expect([short.countedMs, short.countedShortMs]).toEqual([15_000, 15_000]);
    expect(countedShort(covered)).toBe(0.5);
    expect([mixed.countedMs, mixed.countedShortMs]).toEqual([105_000, 15_000 + 15_000 + 30_000]);
    expect(countedShort(mixed)).toBeCloseTo(60 / 105, 12);
  });
  test.each([
    // forecast fits, forecastOnly, calibration scores, acts on the calibration (the patch) → acts
    [true, false, 0, false, true],
    [true, true, 1000, true, false],
    [false, false, 1000, false, false],
    [false, false, 1000, true, true],
    [false, false, 239, true, false],
    [false, false, undefined, true, false],
    [false, true, 1000, true, false],
  ])('floorActs: fits %p, forecastOnly %p, %p scores, on calibration %p → %p', (forecastFits, forecastOnly, scores, onCalibration, acts) => {
    const calibration = scores === undefined ? undefined : { ...initialCalibration(0.02), weight: scores };
    expect(floorActs({ forecastFits, forecastOnly, onCalibration, ...(calibration ? { calibration } : {}) })).toBe(acts);
    expect(MIN_SCORE_WEIGHT).toBe(240);
  });
  test.each([
    ['an objective', 7, 0.02],
    ['a fixed margin', 1, undefined],
  ])("with %s the pooled spread's half-life is %i day(s)", (_n, days, objective) => {
    // Readings of 10, one of 20, then 10 again a day later: the spread's sum decays by 2^(−1 day / half-life).
    const o = { windowMs: 30 * DAY, pollMs: 15_000, capacity: 10, acting: false, horizonMs: 180_000, trendShare: 0, ...(objective !== undefined ? { objective } : {}) };
    let m = { demand: emptyDemandWindow() } as Parameters<typeof observePoll>[0];
    for (let i = 0; i < 8; i++) m = observePoll(m, i * 15_000, i === 7 ? 20 : 10, 1, o).memory;
    const before = m.demand.rr;
    const mean = m.demand.points.reduce((a, [, v]) => a + v, 0) / m.demand.points.length;
    const lastAt = m.demand.at!;
    const at = 7 * 15_000 + DAY;
    m = observePoll(m, at, 10, 1, o).memory;
    expect(before).toBeGreaterThan(50);
    expect(m.demand.rr).toBeCloseTo(before * Math.pow(2, -(at - lastAt) / (days * DAY)) + (10 - mean) ** 2, 9);
    expect(SPREAD_HALF_LIFE_MS).toBe(7 * DAY);
  });
  test('observePoll gives no level while the floor does not act, and keeps the calibration', () => {
    const m = observePoll({ demand: emptyDemandWindow(), calibration: initialCalibration(0.05) }, 15_000, 50, 1, { windowMs: 1_800_000, objective: 0.05, pollMs: 15_000, capacity: 10, acting: false, horizonMs: 180_000, readingMs: 60_000 });
    expect(m.memory.calibration!.alpha).toBe(0.05);
    expect(m.level).toBeUndefined();
  });
});

/** A seeded daily cycle with Gaussian noise of a known size, per minute. */
function syntheticTrace(days: number, noise: number, seed = 7): DemandTrace {
  let s = seed;
  const rand = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const values = Array.from({ length: days * 1440 }, (_, i) => {
    const level = 400 + 300 * Math.sin((2 * Math.PI * (i % 1440)) / 1440);
    return Math.max(0, level + noise * Math.sqrt(level) * gauss());
  });
  return { stepMs: MIN, values, startMs: Date.parse('2026-01-05T00:00:00Z') };
}

const predictive = (objective: number | undefined, margin = 2): PolicyUnderTest => ({
  name: 'spec',
  min: 1,
  max: 100,
  metric: metricSchema.parse({ name: 'rpm', source: { haproxy: {} }, target: { value: 40, perMember: false } }),
  autoscaling: autoscalingSchema.parse({ pollInterval: 15, tolerance: 0.1, scaleOutCooldown: 60, scaleInCooldown: 120, scaleInStabilization: 600 }),
  prediction: { headroom: 0, stepMs: 300_000, historyMs: 14 * DAY, horizonMs: 6 * 3_600_000, refreshMs: 3_600_000, maxError: 0.5, forecastOnly: false, timeToReadyMs: 3 * MIN, windowMs: 1_800_000, objective, margin, capacity: 44 },
});
const model = { capacityPerMember: 44, timeToReadyMs: 3 * MIN, drainMs: 15_000 };

describe('calibration on demand with known noise', () => {
  // Two noise levels: a fixed margin gives a different shortfall on each; the calibrated one meets the objective on both.
  const quiet = syntheticTrace(20, 1.5);
  const loud = syntheticTrace(20, 6);
  test.each([0.01, 0.05])('objective %p: the measured share under lies within half and one and a half times it, on both', (objective) => {
    for (const tr of [quiet, loud]) {
      const { timeshareUnder, countedUnder } = simulate(tr, model, predictive(objective)).scores;
      const under = timeshareUnder / 100;
      expect(under).toBeGreaterThan(objective / 2);
      expect(under).toBeLessThan(objective * 1.5);
      // What the calibration counted from its readings, the share it steers, lands nearer still.
      expect(Math.abs(countedUnder! / 100 - objective)).toBeLessThan(objective * 0.25);
    }
  });
  test('a fixed margin does not carry over: its shortfall differs by more than 2× between the two', () => {
    const a = simulate(quiet, model, predictive(undefined, 1)).scores.timeshareUnder;
    const b = simulate(loud, model, predictive(undefined, 1)).scores.timeshareUnder;
    expect(Math.max(a, b) / Math.min(a, b)).toBeGreaterThan(2);
    // A fixed margin has no calibration, so nothing counted.
    expect(simulate(quiet, model, predictive(undefined, 1)).scores.countedUnder).toBeUndefined();
  });
});

describe('no look-ahead', () => {
  test('a poll reads the step before it: (t − step, t], never the step under way', () => {
    const tr: DemandTrace = { stepMs: MIN, values: [10, 20, 40, 80] };
    expect(demandBefore(tr, MIN)).toBe(10);
    expect(demandBefore(tr, 2 * MIN)).toBe(20);
    expect(demandBefore(tr, 2 * MIN + 15_000)).toBeCloseTo(20 + 20 * 0.25, 9);
  });
  test('a decision at t reads nothing at or after t: traces equal before day 16 give the same actions before it', () => {
    const a = syntheticTrace(18, 3);
    const values = Array.from(a.values);
    const cut = 16 * 1440;
    for (let i = cut; i < values.length; i++) values[i] = values[i]! * 3;
    const b = { ...a, values };
    const before = (s: ReturnType<typeof simulate>) => s.actions.filter((x) => x.atMs < cut * MIN);
    const sa = simulate(a, model, predictive(0.02));
    const sb = simulate(b, model, predictive(0.02));
    expect(before(sb)).toEqual(before(sa));
    expect(sb.actions.length).not.toEqual(sa.actions.length);
  });
});

describe('the sweep', () => {
  const spec = loadClusterSpec(path.join(__dirname, '../../examples/web-predictive.yaml'));
  const tr = syntheticTrace(16, 3);
  const options = { cloneMs: MIN, bootMs: 2 * MIN, max: 100, compare: [] };
  test("each point equals a single run at that objective, against the trace's one oracle", () => {
    const points = sweepObjectives(tr, spec, options, [0.01, 0.05]);
    for (const p of points) {
      const single = runBacktest(tr, spec, { ...options, objective: p.objective }).policies[0]!;
      expect(p.spec.scores).toEqual(single.scores);
      expect(p.spec.name).toBe(`spec @ ${p.objective * 100}%`);
    }
    // A looser objective costs fewer member-hours and is short more often.
    expect(points[1]!.spec.scores.memberHours).toBeLessThan(points[0]!.spec.scores.memberHours);
    expect(points[1]!.spec.scores.underProvisionedMinutes).toBeGreaterThan(points[0]!.spec.scores.underProvisionedMinutes);
  });
  test('a spec without prediction has nothing to sweep, and says so', () => {
    const plain = loadClusterSpec(path.join(__dirname, '../../examples/web.yaml'));
    expect(() => sweepObjectives(tr, plain, options, [0.01])).toThrow(/has no prediction: an objective calibrates/);
  });
});
