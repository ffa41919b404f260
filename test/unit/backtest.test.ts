// The backtest's pool model and scores on small traces computed by hand, and the CSV reader's errors.
import { autoscalingSchema, metricSchema } from '../../src/config/spec';
import { parseTraceCsv } from '../../src/config/trace';
import { metricReading, oracle, simulate, type DemandTrace, type PolicyUnderTest } from '../../src/policy/backtest';
import { peerPolicy } from '../../src/policy/peers';

const MIN = 60_000;
const trace = (values: number[]): DemandTrace => ({ stepMs: MIN, values });

describe('the oracle', () => {
  // Needs 1, 1, 3, 1 members; each launched one step (its time-to-ready) ahead, gone when not needed.
  const o = oracle(trace([4, 4, 12, 4]), { capacityPerMember: 4, timeToReadyMs: MIN, drainMs: 0 }, { min: 1, max: 10 });
  test('never falls short', () => {
    expect(o.scores.underProvisionedMinutes).toBe(0);
    expect(o.scores.accuracyUnder).toBe(0);
  });
  test('pays for the member launched a step early: (1 + 3 + 3 + 1) member-minutes', () => expect(o.scores.memberHours).toBeCloseTo(8 / 60, 10));
  test('ready capacity is exactly what is needed: no excess', () => {
    expect(o.scores.accuracyOver).toBe(0);
    expect(Array.from(o.ready)).toEqual([1, 1, 3, 1]);
  });
  test('two actions, one reversal within 10 minutes', () => expect([o.scores.actions, o.scores.reversals]).toEqual([2, 1]));
  test('bounds still hold: max 2 leaves a shortfall', () => {
    const capped = oracle(trace([4, 4, 12, 4]), { capacityPerMember: 4, timeToReadyMs: MIN, drainMs: 0 }, { min: 1, max: 2 });
    expect(capped.scores.underProvisionedMinutes).toBe(1);
    // (12 − 8) / 12 of one minute out of four: 8.33 %.
    expect(capped.scores.accuracyUnder).toBeCloseTo(100 / 12, 6);
  });
});

describe("a policy through the autoscaler's decide()", () => {
  const policy: PolicyUnderTest = {
    name: 'spec',
    min: 1,
    max: 10,
    metric: metricSchema.parse({ name: 'rpm', source: { haproxy: {} }, target: { value: 4, perMember: false } }),
    autoscaling: autoscalingSchema.parse({ pollInterval: 60, tolerance: 0, scaleOutCooldown: 0, scaleInCooldown: 0, scaleInStabilization: 0 }),
  };
  // A poll reads the minute before it (as rate(…[1m]) does). t=0 and t=1m read 4 and hold 1; t=2m reads minute 1's 12
  // → 3 members, ready at 3m (billed from 2m); t=3m reads 12 and holds; t=4m reads 4 → back to 1 at once.
  const sim = simulate(trace([4, 12, 12, 4, 4]), { capacityPerMember: 4, timeToReadyMs: MIN, drainMs: 0 }, policy);
  test('the scale-out is late by one reading and its time-to-ready: two minutes under', () => expect(sim.scores.underProvisionedMinutes).toBe(2));
  test('shortfall (12 − 4) / 12 for two of five minutes: 26.7 %', () => expect(sim.scores.accuracyUnder).toBeCloseTo((100 * (8 / 12) * 2) / 5, 6));
  test('billed from the decision: (1 + 1 + 3 + 3 + 1) member-minutes', () => expect(sim.scores.memberHours).toBeCloseTo(9 / 60, 10));
  test('actions as decided', () => expect(sim.actions).toEqual([{ atMs: 2 * MIN, from: 1, to: 3 }, { atMs: 4 * MIN, from: 3, to: 1 }]));
  test('ready members per step', () => expect(Array.from(sim.ready)).toEqual([1, 1, 1, 3, 1]));

  test('the loop decides nothing while a run is under way, and cooldowns count from its end', () => {
    const slow = simulate(trace([4, 40, 40, 40, 40, 40, 40]), { capacityPerMember: 4, timeToReadyMs: 2 * MIN, drainMs: 0 }, {
      ...policy,
      autoscaling: { ...policy.autoscaling, maxStepOut: 2, scaleOutCooldown: MIN },
    });
    // 2m (reading minute 1): 1 → 3 (ready at 4m); cooldown to 5m; 5m: 3 → 5 (ready at 7m, after the trace).
    expect(slow.actions).toEqual([{ atMs: 2 * MIN, from: 1, to: 3 }, { atMs: 5 * MIN, from: 3, to: 5 }]);
  });

  test('per-member metrics read demand over ready members; none ready reads nothing', () => {
    const perMember = metricSchema.parse({ name: 'conns', source: { haproxy: {} }, target: { value: 4 } });
    expect(metricReading(perMember, 12, 3)).toEqual({ value: 4 });
    expect(metricReading(perMember, 12, 0)).toEqual({ error: 'no member serves' });
    expect(metricReading(policy.metric, 12, 3)).toEqual({ value: 12 });
  });

  test('the peers are specs of the same engine, with their documented numbers', () => {
    const hpa = peerPolicy('hpa', 4, { min: 1, max: 10 });
    expect(hpa.autoscaling).toMatchObject({ pollInterval: 15_000, tolerance: 0.1, maxStepOut: 4, maxStepOutPercent: 100, scaleInStabilization: 300_000 });
    expect(peerPolicy('fixed-step', 4, { min: 1, max: 10 }).autoscaling).toMatchObject({ scaleOutCooldown: 300_000, scaleInCooldown: 300_000, maxStepOut: 1, maxStepIn: 1 });
    expect(peerPolicy('aws', 4, { min: 1, max: 10 }).autoscaling).toMatchObject({ scaleInCooldown: 300_000, scaleOutCooldown: 0 });
  });
});

describe('trace CSV', () => {
  const ok = 'minute,requests\n0,42\n1,62\n2,58\n';
  test('minutes, the second column, scaled', () => {
    const t = parseTraceCsv(ok, { scale: 0.5 });
    expect([t.stepMs, Array.from(t.values), t.column]).toEqual([MIN, [21, 31, 29], 'requests']);
  });
  test('ISO times', () => expect(parseTraceCsv('time,rps\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,2\n').stepMs).toBe(5 * MIN));
  const bad: [string, string, RegExp][] = [
    ['a malformed number', 'minute,requests\n0,42\n1,4x2\n', /row 3: requests "4x2" is not a number/],
    ['NaN', 'minute,requests\n0,42\n1,NaN\n', /row 3: requests "NaN" is not a number/],
    ['a missing cell', 'minute,requests\n0,42\n1\n', /row 3: 1 cell\(s\), the header has 2/],
    ['time going back', 'minute,requests\n0,42\n2,1\n1,5\n', /row 4: time 1 does not come after the row before/],
    ['a gap', 'minute,requests\n0,42\n1,1\n4,5\n', /row 4: a gap of 2 step\(s\) before time 4 \(use --hold-gaps/],
    ['off the grid', 'minute,requests\n0,42\n2,1\n3,5\n', /row 4: time 3 is off the 120 s grid/],
    ['a bad time', 'minute,requests\n0,42\nyesterday,1\n', /row 3: time "yesterday" is neither a number nor an ISO timestamp/],
    ['negative demand', 'minute,requests\n0,42\n1,-1\n', /row 3: requests -1 is negative/],
    ['an absurd value', 'minute,requests\n0,42\n1,1e300\n', /row 3: requests 1e300 is too large to be a demand/],
    ['an unknown column', ok, /no value column "rps" \(columns: requests\)/],
    ['too short', 'minute,requests\n0,1\n', /needs a header and at least two rows/],
  ];
  test.each(bad)('%s', (_name, text, message) => expect(() => parseTraceCsv(text, { column: _name === 'an unknown column' ? 'rps' : undefined })).toThrow(message));
  test('gaps held over with the flag, and reported', () => {
    const t = parseTraceCsv('minute,requests\n0,42\n1,1\n4,5\n', { holdGaps: true });
    expect(Array.from(t.values)).toEqual([42, 1, 1, 1, 5]);
    expect(t.filled).toEqual([{ row: 4, steps: 2 }]);
  });
});
