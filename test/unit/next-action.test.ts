// The autoscaler loop's order, as a table of named cases: each says what the loop knows and which step comes next.
import { autoscalingSchema, metricSchema } from '../../src/config/spec';
import type { BackoffState } from '../../src/policy/backoff';
import { initialPolicyState } from '../../src/policy/engine';
import { nextAction, type LookFacts, type LoopFacts, type PollFacts } from '../../src/policy/next-action';

const T0 = 1_800_000_000_000;
const base: LoopFacts = { now: T0, cluster: 'web', members: 3, bounds: { min: 1, max: 10 }, backoff: {} };
const look = (over: Partial<LookFacts> = {}): LookFacts => ({ now: T0, members: 3, bounds: { min: 1, max: 10 }, ...over });
const poll = (value: number, over: Partial<PollFacts> = {}): PollFacts => ({
  now: T0,
  paused: false,
  metrics: [metricSchema.parse({ name: 'conns', source: { prometheus: { query: 'q' } }, target: { value: 100, perMember: true } })],
  autoscaling: { ...autoscalingSchema.parse({}), scaleInStabilization: 0, scaleOutCooldown: 0, scaleInCooldown: 0 },
  readings: { conns: { value } },
  policy: initialPolicyState(),
  ...over,
});
const backingOff = (kind: 'scale-out' | 'scale-in', over: Partial<BackoffState> = {}) => ({ [kind]: { failures: 2, failedAt: T0 - 1000, retryAt: T0 + 60_000, suspended: false, message: 'boom', ...over } as BackoffState });
const operator = { kind: 'scale-out' as const, n: 2, source: 'cli', at: T0 };
const alarm = { ...operator, origin: 'alarm' as const, source: 'high-cpu' };
const due = [{ name: 'web-1-1', why: 'DOWN in the balancer', forMs: 90_000 }];
const replacement = (over: Partial<NonNullable<LookFacts['replacement']>['plan']> = {}) => ({ plan: { due: [], held: [], recent: [], ...over }, gracePeriodMs: 60_000, maxPerHour: 3 });

// [name, facts, step kind, run (kind count code) or undefined, entry codes]
const cases: [string, LoopFacts, string, string | undefined, string[]][] = [
  ['a delete comes before everything, scaling to zero when asked', { ...base, deleting: { scaleToZero: true, warmPool: true }, queueHead: operator }, 'delete', undefined, []],
  ['the operator queue comes before the look', { ...base, queueHead: operator }, 'run', 'scale-out 2 OperatorRequest', []],
  ['a queued request with nothing to do leaves the queue', { ...base, queueHead: { ...operator, kind: 'set-desired', n: 3 } }, 'dequeue', undefined, []],
  ['an operator request is not held by a backoff', { ...base, backoff: backingOff('scale-out'), queueHead: operator }, 'run', 'scale-out 2 OperatorRequest', []],
  ['a queued alarm is held by its backoff, and nothing behind it runs', { ...base, backoff: backingOff('scale-out'), queueHead: alarm }, 'sleep', undefined, ['BackingOff']],
  ['a queued request is bounded by max', { ...base, queueHead: { ...operator, n: 20 } }, 'run', 'scale-out 7 OperatorRequest', []],
  ['an empty queue asks for a look', base, 'look', undefined, []],
  ['a schedule window asks for its size', { ...base, look: look({ scheduleAsk: { name: 'day', desired: 6 } }) }, 'run', 'scale-out 3 ScheduleDesired', []],
  ['below min comes before health', { ...base, look: look({ members: 0, replacement: replacement({ due }) }) }, 'run', 'scale-out 1 BelowMin', []],
  ['above a schedule window max', { ...base, look: look({ members: 5, bounds: { min: 1, max: 4, maxBy: 'night' } }) }, 'run', 'scale-in 1 AboveMax', []],
  ['a held bounds run goes on to the poll', { ...base, backoff: backingOff('scale-in'), look: look({ members: 5, bounds: { min: 1, max: 4 } }) }, 'poll', undefined, ['BackingOff']],
  ['a suspended direction is held with its own code', { ...base, backoff: backingOff('scale-out', { suspended: true, code: 'BadCredentials' }), look: look({ members: 0 }) }, 'poll', undefined, ['ScalingSuspended']],
  ['broken members past the grace period are replaced', { ...base, look: look({ replacement: replacement({ due }) }) }, 'replace', 'scale-out 1 ReplaceUnhealthy', []],
  ['over the hourly limit: a hold, then the poll', { ...base, look: look({ replacement: replacement({ held: ['web-1-2'], recent: [T0 - 1, T0 - 2, T0 - 3] }) }) }, 'poll', undefined, ['ReplacementLimit']],
  ['a held schedule size goes on to the poll', { ...base, backoff: backingOff('scale-out'), look: look({ scheduleAsk: { name: 'day', desired: 6 } }) }, 'poll', undefined, ['BackingOff']],
  ['nothing before the policy: the poll', { ...base, look: look() }, 'poll', undefined, []],
  ['the policy scales out on the metric', { ...base, look: look(), poll: poll(212) }, 'run', 'scale-out 4 AboveTarget', []],
  ['on target: a hold with the policy code', { ...base, look: look(), poll: poll(100) }, 'sleep', undefined, ['WithinTolerance']],
  ['paused: no decision', { ...base, look: look(), poll: poll(212, { paused: true }) }, 'sleep', undefined, []],
  ['a forecast floor above the metric', { ...base, look: look(), poll: poll(100, { forecast: { members: 6, text: 'forecast 6', only: false } }) }, 'run', 'scale-out 3 Forecast', []],
  ['forecast only: shown beside the hold, not applied', { ...base, look: look(), poll: poll(100, { forecast: { members: 6, text: 'forecast 6', only: true } }) }, 'sleep', undefined, ['ForecastOnly']],
  ['holds before the poll are not logged again with its answer', { ...base, backoff: backingOff('scale-out'), look: look({ scheduleAsk: { name: 'day', desired: 6 } }), poll: poll(100) }, 'sleep', undefined, ['WithinTolerance']],
  ['the policy held by its direction backoff', { ...base, backoff: backingOff('scale-out'), look: look(), poll: poll(212) }, 'sleep', undefined, ['BackingOff']],
];

test.each(cases)('%s', (_name, facts, step, run, codes) => {
  const next = nextAction(facts);
  expect(next.step.kind).toBe(step);
  const r = 'run' in next.step ? next.step.run : undefined;
  expect(r && `${r.kind} ${r.count} ${r.code}`).toBe(run);
  expect(next.entries.map((e) => e.code)).toEqual(codes);
});

test("a queued removal of named members is the queue head's step, held by no backoff, with replace as asked", () => {
  const removal = { kind: 'scale-in' as const, n: 1, source: 'cli', at: T0, members: ['web-4-0'], replace: true };
  for (const backoff of [{}, backingOff('scale-in'), backingOff('scale-out')]) {
    expect(nextAction({ ...base, backoff, queueHead: removal }).step).toEqual({ kind: 'remove', members: ['web-4-0'], replace: true, reason: 'replacing web-4-0 requested by cli' });
  }
  expect(nextAction({ ...base, queueHead: { ...removal, replace: false } }).step).toMatchObject({ kind: 'remove', replace: false, reason: 'removal of web-4-0 requested by cli' });
});

test('the policy step carries its new state; the steps before the policy do not', () => {
  expect(nextAction({ ...base, look: look() }).policy).toBeUndefined();
  const p = nextAction({ ...base, look: look(), poll: poll(212) }).policy;
  expect(p?.code).toBe('AboveTarget');
  expect(p?.state.recommendations.length).toBeGreaterThan(0);
});

test("a poll's lag is measured only when nothing else took the iteration", () => {
  expect(nextAction({ ...base, look: look() }).offSchedule).toBe(false);
  expect(nextAction({ ...base, queueHead: operator }).offSchedule).toBe(true);
  expect(nextAction({ ...base, backoff: backingOff('scale-in'), look: look({ members: 5, bounds: { min: 1, max: 4 } }) }).offSchedule).toBe(true);
});

test('a delete without scale-to-zero leaves members and warm VMs alone', () => {
  expect(nextAction({ ...base, deleting: { scaleToZero: false, warmPool: true } }).step).toEqual({ kind: 'delete', scaleToZero: false, scaleIn: 0, emptyWarmPool: false });
  expect(nextAction({ ...base, deleting: { scaleToZero: true, warmPool: true } }).step).toEqual({ kind: 'delete', scaleToZero: true, scaleIn: 3, emptyWarmPool: true });
});
