// Operator requests and alarms, as tables of named cases a reader can check by hand.
import { autoscalingSchema } from '../../src/config/spec';
import { initialPolicyState } from '../../src/policy/engine';
import { admitAlarm, boundedRun, memberRemovalProblem, operatorRequestProblem, projectedSize, type AlarmContext, type ScaleRequest } from '../../src/policy/requests';
import { appendDecision, repeatsLast, type DecisionRecord } from '../../src/policy/decision-log';

const T0 = 1_800_000_000_000;
const as = autoscalingSchema.parse({ scaleOutCooldown: '60s', scaleInCooldown: '5m', maxStepOut: 2 });
const ctx = (over: Partial<AlarmContext> = {}): AlarmContext => ({ now: T0, current: 3, min: 1, max: 6, autoscaling: as, policy: initialPolicyState(), busy: false, paused: false, ...over });
const alarm = (kind: ScaleRequest['kind'], n: number): ScaleRequest => ({ kind, n, origin: 'alarm', source: 'HighConns' });

describe('an alarm goes through the policy', () => {
  const cases: [string, ScaleRequest, Partial<AlarmContext>, string, number | null][] = [
    ['taken: +1 from 3', alarm('scale-out', 1), {}, 'alarm HighConns taken: 3 → 4', 4],
    ['max step 2 caps +5', alarm('scale-out', 5), {}, 'alarm HighConns taken: 3 → 5 (asked 8; bounds and max step → 5)', 5],
    ['max 6 caps +2 from 5', alarm('scale-out', 2), { current: 5 }, 'alarm HighConns taken: 5 → 6 (asked 7; bounds and max step → 6)', 6],
    ['at max: dropped', alarm('scale-out', 1), { current: 6 }, 'alarm HighConns dropped: already at max 6', null],
    ['at min: dropped', alarm('scale-in', 1), { current: 1 }, 'alarm HighConns dropped: already at min 1', null],
    ['a run under way: dropped', alarm('scale-out', 1), { busy: true }, 'alarm HighConns dropped: a scaling run is under way or queued', null],
    ['paused: dropped', alarm('scale-out', 1), { paused: true }, 'alarm HighConns dropped: automatic scaling is paused', null],
    ['scale-out cooldown, 7 s left', alarm('scale-out', 1), { policy: { ...initialPolicyState(), lastActionEnd: T0 - 53_000 } }, 'alarm HighConns dropped: scale-out cooldown, 7 s left', null],
    ['scale-out cooldown over: taken', alarm('scale-out', 1), { policy: { ...initialPolicyState(), lastActionEnd: T0 - 60_000 } }, 'alarm HighConns taken: 3 → 4', 4],
    ['scale-in cooldown runs longer', alarm('scale-in', 1), { policy: { ...initialPolicyState(), lastActionEnd: T0 - 60_000 } }, 'alarm HighConns dropped: scale-in cooldown, 240 s left', null],
    ['set-desired to the current size: no change', alarm('set-desired', 3), {}, 'alarm HighConns dropped: the cluster already has 3 member(s)', null],
    ['set-desired 0 is bounded by min 1', alarm('set-desired', 0), {}, 'alarm HighConns taken: 3 → 1 (asked 0; bounds and max step → 1)', 1],
  ];
  test.each(cases)('%s', (_name, req, over, reason, target) => {
    const v = admitAlarm(req, ctx(over));
    expect(v.reason).toBe(reason);
    expect(v.taken ? v.target : null).toBe(target);
  });
  test('a taken alarm says the run it becomes', () => {
    expect(admitAlarm(alarm('scale-in', 2), ctx())).toEqual({ taken: true, kind: 'scale-in', n: 2, target: 1, reason: 'alarm HighConns taken: 3 → 1' });
  });
});

describe("an operator's request runs as asked, bounds permitting", () => {
  const b = { cluster: 'web', min: 1, max: 4 };
  const cases: [string, ScaleRequest['kind'], unknown, number, string | undefined][] = [
    ['+1 from 3', 'scale-out', 1, 3, undefined],
    ['+2 from 3 is above max', 'scale-out', 2, 3, 'scale-out by 2 would make 5 members, above max 4 of cluster web (3 after queued requests)'],
    ['-3 from 3 is below min', 'scale-in', 3, 3, 'scale-in by 3 would leave 0 members, below min 1 of cluster web (3 after queued requests)'],
    ['desired 9 is outside', 'set-desired', 9, 3, 'desired 9 is outside [min 1, max 4] of cluster web'],
    ['a fraction', 'scale-out', 1.5, 3, 'scale-out needs a whole number, not 1.5'],
    ['a string', 'scale-out', '2', 3, 'scale-out needs a whole number, not "2"'],
    ['zero', 'scale-in', 0, 3, 'scale-in needs a count of at least 1, not 0'],
  ];
  test.each(cases)('%s', (_name, kind, n, projected, problem) => expect(operatorRequestProblem(kind, n, projected, b)).toBe(problem));
  test('queued requests add up', () => {
    expect(projectedSize(2, [{ kind: 'scale-out', n: 3, source: 'cli' }, { kind: 'scale-in', n: 1, source: 'cli' }])).toBe(4);
    expect(projectedSize(2, [{ kind: 'scale-out', n: 3, source: 'cli' }, { kind: 'set-desired', n: 1, source: 'cli' }])).toBe(1);
  });
  test('a queued request is bounded when it runs', () => {
    expect(boundedRun({ kind: 'scale-out', n: 3, source: 'cli' }, 3, 1, 4)).toEqual({ target: 4, why: 'scale-out 3 requested by cli, bounded to [1, 4] → 4' });
    expect(boundedRun({ kind: 'scale-out', n: 1, source: 'HighConns', origin: 'alarm' }, 2, 1, 4)).toEqual({ target: 3, why: 'alarm HighConns' });
  });
});

describe('the decision log', () => {
  const d = (over: Partial<DecisionRecord>): DecisionRecord => ({ at: 'x', current: 2, desired: 2, action: 'hold', code: 'WithinTolerance', reason: 'conns 4.1 vs target 4/member: within 10% tolerance → 2', source: 'policy', ...over });
  test('a hold with the same code and sizes repeats the last, whatever its digits', () => expect(repeatsLast([d({})], d({ reason: 'conns 3.9 vs target 4/member: within 10% tolerance → 2' }))).toBe(true));
  test('another code is news', () => expect(repeatsLast([d({})], d({ code: 'ScaleOutCooldown' }))).toBe(false));
  test('other sizes are news', () => expect(repeatsLast([d({})], d({ current: 3, desired: 3 }))).toBe(false));
  test('entries from before codes compare by sentence', () => {
    expect(repeatsLast([d({ code: undefined })], d({ code: undefined }))).toBe(true);
    expect(repeatsLast([d({ code: undefined })], d({ code: undefined, reason: 'other' }))).toBe(false);
  });
  test('the log keeps the newest entries', () => {
    const log: DecisionRecord[] = [];
    for (let i = 0; i < 5; i++) appendDecision(log, d({ current: i }), 3);
    expect(log.map((e) => e.current)).toEqual([2, 3, 4]);
  });
});

describe('removing named members: by name, once, within the bounds', () => {
  const b = { cluster: 'web', min: 2, max: 4 };
  const known = ['web-1-0', 'web-1-1', 'web-2-0'];
  const cases: [string, string[], boolean, string[], number, string | undefined][] = [
    ['one of three, min 2', ['web-1-0'], false, [], 3, undefined],
    ['two of three, min 2: below min', ['web-1-0', 'web-1-1'], false, [], 3, 'removing web-1-0, web-1-1 would leave 1 members, below min 2 of cluster web; --replace puts a new member in each one\'s place'],
    ['two of three replaced: room for two more under max 4? no', ['web-1-0', 'web-1-1'], true, [], 3, 'replacing web-1-0, web-1-1 needs room for 2 new member(s) first: 5 is above max 4 of cluster web'],
    ['one replaced at min: fine', ['web-1-0'], true, [], 2, undefined],
    ['a member that is not there', ['web-9-9'], false, [], 3, 'web-9-9 is not a member of cluster web (its members: web-1-0, web-1-1, web-2-0)'],
    ['a member already queued to go', ['web-1-0'], false, ['web-1-0'], 3, 'web-1-0 is already queued to be removed from cluster web'],
    ['the same member twice', ['web-1-0', 'web-1-0'], false, [], 4, 'a member is named twice'],
    ['no member named', [], false, [], 3, 'name at least one member to remove'],
  ];
  test.each(cases)('%s', (_n, members, replace, queued, projected, problem) => {
    expect(memberRemovalProblem(members, replace, known, queued, projected, b)).toBe(problem);
  });
  test('a replacement keeps the projected size; a removal lowers it', () => {
    const removal: ScaleRequest = { kind: 'scale-in', n: 1, source: 'cli', members: ['web-1-0'] };
    expect(projectedSize(3, [removal])).toBe(2);
    expect(projectedSize(3, [{ ...removal, replace: true }])).toBe(3);
  });
});
