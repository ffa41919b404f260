// The decision engine, as tables of named cases a reader can check by hand.
import { applyAdjustment, cooldownRemaining, decide, initialPolicyState, type PolicyInput, type PolicyState } from '../../src/policy/engine';
import { autoscalingSchema, metricSchema, type AutoscalingSpec, type MetricSpec } from '../../src/config/spec';

const T0 = 1_800_000_000_000;
const conns = (value = 100, perMember = true): MetricSpec => metricSchema.parse({ name: 'conns', source: { prometheus: { query: 'q' } }, target: { value, perMember } });
const rps = (value = 500): MetricSpec => metricSchema.parse({ name: 'rps', source: { prometheus: { query: 'q2' } }, target: { value, perMember: false } });
const thr = (t: object): MetricSpec => metricSchema.parse({ name: 'cpu', source: { haproxy: {} }, threshold: t });

function input(over: Partial<Omit<PolicyInput, 'autoscaling'>> & { autoscaling?: Partial<AutoscalingSpec> } = {}): PolicyInput {
  return {
    now: T0,
    current: 3,
    min: 1,
    max: 10,
    metrics: [conns()],
    readings: {},
    state: initialPolicyState(),
    ...over,
    // Overrides are already in milliseconds: they go over the parsed defaults, not through the parser.
    autoscaling: { ...autoscalingSchema.parse({}), scaleInStabilization: 0, scaleOutCooldown: 0, scaleInCooldown: 0, ...(over.autoscaling ?? {}) },
  };
}

describe('target tracking (the HPA rule)', () => {
  const cases: [string, Partial<Omit<PolicyInput, 'autoscaling'>> & { autoscaling?: Partial<AutoscalingSpec> }, number, RegExp | null][] = [
    ['per member: 212 vs 100 with 3 members → ceil(3 × 2.12) = 7', { readings: { conns: { value: 212 } } }, 7, /conns 212 vs target 100\/member → 3 → 7/],
    ['per member: exactly on target holds', { readings: { conns: { value: 100 } } }, 3, null],
    ['inside the 10% tolerance band holds (109)', { readings: { conns: { value: 109 } } }, 3, /within 10% tolerance/],
    ['just outside the band acts (111 → ceil(3.33) = 4)', { readings: { conns: { value: 111 } } }, 4, null],
    ['tolerance 0 acts on 101', { readings: { conns: { value: 101 } }, autoscaling: { tolerance: 0 } }, 4, null],
    ['below target scales in: 50 → ceil(1.5) = 2', { readings: { conns: { value: 50 } } }, 2, null],
    ['total metric: 1800 rps at 500/member → ceil(3.6) = 4', { metrics: [rps()], readings: { rps: { value: 1800 } } }, 4, null],
    ['total metric within tolerance: 1550 over 3 × 500', { metrics: [rps()], readings: { rps: { value: 1550 } } }, 3, null],
    ['max caps: 10000 → 10', { readings: { conns: { value: 10000 } } }, 10, /capped by max 10/],
    ['min floors: 0 → 1', { readings: { conns: { value: 0 } } }, 1, /raised to min 1/],
  ];
  test.each(cases)('%s', (_name, over, desired, reason) => {
    const d = decide(input(over));
    expect(d.desired).toBe(desired);
    // A null reason leaves the sentence unchecked; a pattern must match it.
    expect(reason === null || reason.test(d.reason)).toBe(true);
  });
});

describe('thresholds held for a duration, with adjustment types', () => {
  const spec = { high: 80, low: 20, for: 30, scaleOut: { type: 'CHANGE_IN_CAPACITY', value: 2 }, scaleIn: { type: 'CHANGE_IN_CAPACITY', value: 1 } };
  const run = (values: [number, number][], t: object = spec, current = 3) => {
    let state: PolicyState = initialPolicyState();
    let last = decide(input({ metrics: [thr(t)], current, readings: { cpu: { value: values[0]![1] } }, now: T0 + values[0]![0] * 1000, state }));
    for (const [sec, v] of values) {
      last = decide(input({ metrics: [thr(t)], current, readings: { cpu: { value: v } }, now: T0 + sec * 1000, state }));
      state = last.state;
    }
    return last;
  };
  test('above high for less than the duration holds', () => expect(run([[0, 90], [20, 95]]).desired).toBe(3));
  test('above high for the duration: +2 (CHANGE_IN_CAPACITY)', () => expect(run([[0, 90], [30, 95]]).desired).toBe(5));
  test('a dip below high restarts the timer', () => expect(run([[0, 90], [20, 50], [40, 90], [60, 90]]).desired).toBe(3));
  test('below low for the duration: -1', () => expect(run([[0, 10], [31, 5]]).desired).toBe(2));
  test('EXACT_CAPACITY goes to the value', () => expect(run([[0, 90], [30, 90]], { ...spec, scaleOut: { type: 'EXACT_CAPACITY', value: 8 } }).desired).toBe(8));
  test('CHANGE_IN_PERCENTAGE 50% of 4 → +2', () => expect(run([[0, 90], [30, 90]], { ...spec, scaleOut: { type: 'CHANGE_IN_PERCENTAGE', value: 50 } }, 4).desired).toBe(6));
  test('CHANGE_IN_PERCENTAGE 10% of 4 rounds to 0, min_step 1 makes it +1', () => expect(run([[0, 90], [30, 90]], { ...spec, scaleOut: { type: 'CHANGE_IN_PERCENTAGE', value: 10, minStep: 1 } }, 4).desired).toBe(5));
  test('CHANGE_IN_PERCENTAGE with min_step 3', () => expect(run([[0, 90], [30, 90]], { ...spec, scaleOut: { type: 'CHANGE_IN_PERCENTAGE', value: 10, minStep: 3 } }, 4).desired).toBe(7));
  test('applyAdjustment, scale in by percentage', () => expect(applyAdjustment(10, { type: 'CHANGE_IN_PERCENTAGE', value: 25, minStep: 1 }, -1)).toBe(8));
});

describe('bounds and brakes', () => {
  test('max step out: 3 → 7 capped to 5', () => {
    const d = decide(input({ readings: { conns: { value: 212 } }, autoscaling: { maxStepOut: 2 } }));
    expect(d.desired).toBe(5);
    expect(d.reason).toMatch(/conns 212 vs target 100\/member → 3 → 7.*capped by max step 2 → 5/);
  });
  test('max step in: 6 → 2 capped to 5', () => expect(decide(input({ current: 6, readings: { conns: { value: 30 } }, autoscaling: { maxStepIn: 1 } })).desired).toBe(5));
  test('scale-out cooldown holds within its window', () => {
    const state = { ...initialPolicyState(), lastActionEnd: T0 - 10_000 };
    const d = decide(input({ state, readings: { conns: { value: 212 } }, autoscaling: { scaleOutCooldown: 30_000 } }));
    expect(d).toMatchObject({ desired: 3, action: 'none' });
    expect(d.reason).toMatch(/scale-out cooldown, 20s left/);
  });
  test('scale-out after its cooldown', () => {
    const state = { ...initialPolicyState(), lastActionEnd: T0 - 31_000 };
    expect(decide(input({ state, readings: { conns: { value: 212 } }, autoscaling: { scaleOutCooldown: 30_000 } })).action).toBe('scale-out');
  });
  test('scale-in cooldown is separate from scale-out cooldown', () => {
    const state = { ...initialPolicyState(), lastActionEnd: T0 - 40_000 };
    const a = { scaleOutCooldown: 30_000, scaleInCooldown: 60_000 };
    expect(decide(input({ state, readings: { conns: { value: 10 } }, autoscaling: a })).action).toBe('none');
    expect(decide(input({ state, readings: { conns: { value: 300 } }, autoscaling: a })).action).toBe('scale-out');
    expect(cooldownRemaining(state, { ...autoscalingSchema.parse({}), ...a }, T0)).toEqual({ scaleOut: 0, scaleIn: 20_000 });
  });
  test('a pool below min is raised despite the cooldown', () => {
    const state = { ...initialPolicyState(), lastActionEnd: T0 };
    expect(decide(input({ current: 0, min: 2, state, readings: { conns: { value: 0 } }, autoscaling: { scaleOutCooldown: 60_000 } })).desired).toBe(2);
  });
  test('stabilization: scale in only to the highest recommendation of the window', () => {
    const autoscaling = { scaleInStabilization: 300_000 };
    let state = initialPolicyState();
    state = decide(input({ now: T0, current: 6, readings: { conns: { value: 90 } }, state, autoscaling })).state; // 6 → ceil(5.4) = 6
    state = decide(input({ now: T0 + 60_000, current: 6, readings: { conns: { value: 60 } }, state, autoscaling })).state; // → 4, held at 6
    const d = decide(input({ now: T0 + 120_000, current: 6, readings: { conns: { value: 30 } }, state, autoscaling }));
    expect(d.desired).toBe(6);
    expect(d.reason).toMatch(/stabilized/);
    const later = decide(input({ now: T0 + 400_000, current: 6, readings: { conns: { value: 30 } }, state: d.state, autoscaling }));
    expect(later.desired).toBe(2); // the 6 and the 4 have left the window; only the 2 from t=120 s is left
  });
  test('scale-out is not delayed by stabilization', () => {
    const state = { ...initialPolicyState(), recommendations: [{ at: T0 - 1000, desired: 1 }] };
    expect(decide(input({ state, readings: { conns: { value: 200 } }, autoscaling: { scaleInStabilization: 300_000 } })).desired).toBe(6);
  });
});

describe('several metrics and missing metrics', () => {
  test('the largest recommendation wins', () => {
    const d = decide(input({ metrics: [conns(), rps()], readings: { conns: { value: 50 }, rps: { value: 2600 } } }));
    expect(d.desired).toBe(6);
    expect(d.recommendations).toEqual({ conns: 2, rps: 6 });
  });
  test('a failed metric never causes a scale-in', () => {
    const d = decide(input({ metrics: [conns(), rps()], readings: { conns: { value: 10 }, rps: { error: 'Prometheus at x did not answer' } } }));
    expect(d.desired).toBe(3);
    expect(d.reason).toMatch(/no scale-in while rps is unavailable/);
  });
  test('a failed metric does not block a scale-out another metric asks for', () => {
    expect(decide(input({ metrics: [conns(), rps()], readings: { conns: { value: 200 }, rps: { error: 'x' } } })).desired).toBe(6);
  });
  test('all metrics failing holds and counts the failures', () => {
    const d = decide(input({ readings: { conns: { error: 'returned no data' } } }));
    expect(d).toMatchObject({ desired: 3, action: 'none' });
    expect(d.state.metricFailures).toBe(1);
    expect(d.reason).toMatch(/conns unavailable \(returned no data\)/);
  });
  test('NaN is a failure, not a value', () => expect(decide(input({ current: 5, readings: { conns: { value: NaN } } })).desired).toBe(5));
  test('a missing reading is a failure', () => expect(decide(input({ current: 5, readings: {} })).desired).toBe(5));
  test('fallback capacity after N consecutive failures (KEDA)', () => {
    const autoscaling = { fallback: { failureThreshold: 3, capacity: 6 } };
    let state = initialPolicyState();
    let d;
    for (let i = 0; i < 3; i++) {
      d = decide(input({ readings: { conns: { error: 'down' } }, state, autoscaling }));
      state = d.state;
    }
    expect(d!.desired).toBe(6);
    expect(d!.reason).toMatch(/3 failed reads in a row → fallback capacity 6/);
  });
  test('a fallback below the current size does not scale in', () => {
    const state = { ...initialPolicyState(), metricFailures: 5 };
    expect(decide(input({ current: 8, readings: {}, state, autoscaling: { fallback: { failureThreshold: 1, capacity: 2 } } })).desired).toBe(8);
  });
  test('a good read resets the failure count', () => {
    const state = { ...initialPolicyState(), metricFailures: 5 };
    expect(decide(input({ readings: { conns: { value: 100 } }, state })).state.metricFailures).toBe(0);
  });
});

describe("the backtest's way of calling decide() (no sentence, state handed over) decides as the autoscaler's does", () => {
  const deepFreeze = (s: PolicyState): PolicyState => {
    for (const t of Object.values(s.thresholds)) Object.freeze(t);
    for (const r of s.recommendations) Object.freeze(r);
    Object.freeze(s.thresholds);
    Object.freeze(s.recommendations);
    return Object.freeze(s);
  };
  test('400 polls of two metrics (a target and a threshold), with gaps, stabilization and cooldowns: the same decisions and states', () => {
    const metrics = [conns(), thr({ high: 80, low: 20, for: 30, scaleOut: { type: 'CHANGE_IN_CAPACITY', value: 2 }, scaleIn: { type: 'CHANGE_IN_CAPACITY', value: 1 } })];
    const autoscaling = { scaleInStabilization: 120_000, scaleOutCooldown: 30_000, scaleInCooldown: 60_000 };
    let copied = initialPolicyState();
    let consumed = initialPolicyState();
    let current = 3;
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const codes = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const now = T0 + i * 15_000;
      // A slow wave with noise; every 23rd poll the connection count fails to read.
      const wave = 100 + 80 * Math.sin(i / 20) + 30 * (next() - 0.5);
      const readings = { ...(i % 23 === 0 ? {} : { conns: { value: wave } }), cpu: { value: wave / 2 } };
      // The copying call must not touch its input: frozen, any write would throw.
      const a = decide(input({ now, current, metrics, readings, state: deepFreeze(copied), autoscaling }));
      const handed = consumed;
      const b = decide(input({ now, current, metrics, readings, state: consumed, autoscaling }), { explain: false, consumeState: true });
      expect(b.state).toBe(handed);
      expect({ desired: b.desired, action: b.action, code: b.code, recommendations: b.recommendations }).toEqual({ desired: a.desired, action: a.action, code: a.code, recommendations: a.recommendations });
      expect(b.state).toEqual(a.state);
      expect(a.reason).not.toBe('');
      expect(b.reason).toBe('');
      codes.add(a.code);
      copied = a.state;
      consumed = b.state;
      if (a.action !== 'none') {
        current = a.desired;
        copied = { ...copied, lastActionEnd: now };
        consumed.lastActionEnd = now;
      }
    }
    // The sequence reached the rules this is about, not one verdict 400 times.
    expect([...codes].sort()).toEqual(expect.arrayContaining(['AboveTarget', 'NoScaleInWhileMetricFails', 'ScaleOutCooldown', 'Stabilized', 'ThresholdLow']));
  });
});
