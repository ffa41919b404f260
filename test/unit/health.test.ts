// Health replacement: what counts as broken, how long it must last, and the hourly limit.
import { healthSchema } from '../../src/config/spec';
import { HOUR_MS, planReplacements, trackHealth } from '../../src/policy/health';
import { fromSummary, memberProblem, pickVictims, summarize, type Member } from '../../src/policy/inventory';

const T0 = 1_800_000_000_000;
const ok: Member = { name: 'web-1-1', op: 1, index: 1, vm: { name: 'web-1-1', powerState: 'poweredOn', toolsRunning: true, ip: '10.0.0.5' }, pool: { name: 'web-1-1', address: '10.0.0.5', status: 'UP', sessions: 0 } };
const withVm = (vm: Partial<NonNullable<Member['vm']>>): Member => ({ ...ok, vm: { ...ok.vm!, ...vm } });
const withPool = (status: string): Member => ({ ...ok, pool: { ...ok.pool!, status } });

describe('what counts as broken: one rule for victim choice, health and status', () => {
  const cases: [string, Member, string | undefined][] = [
    ['serving', ok, undefined],
    ['DOWN in the balancer', withPool('DOWN'), 'DOWN in the balancer'],
    ['VM powered off', withVm({ powerState: 'poweredOff' }), 'its VM is poweredOff'],
    ['Tools stopped', withVm({ toolsRunning: false }), 'VMware Tools stopped running'],
    ['no IP', withVm({ ip: undefined }), 'its VM reports no IP'],
    ['in maintenance (an operator chose it)', withPool('MAINT'), undefined],
    ['draining (a scale-in)', withPool('DRAIN'), undefined],
    ['checking after it was added again', withPool('CHECKING'), undefined],
    ['not in the pool yet (a run adds it)', { ...ok, pool: undefined }, undefined],
    ['no VM', { ...ok, vm: undefined }, 'it has no VM'],
  ];
  test.each(cases)('%s', (_n, m, why) => expect(memberProblem(m)).toBe(why));

  test('scale-in takes the broken first, by the same rule', () => {
    const young = { ...withVm({ toolsRunning: false }), name: 'web-1-2', index: 2 };
    const maint = { ...withPool('MAINT'), name: 'web-2-1', op: 2 };
    // Youngest first would pick web-2-1; the member whose Tools stopped is broken and goes first.
    expect(pickVictims([ok, young, maint], 2).map((m) => m.name)).toEqual(['web-1-2', 'web-2-1']);
  });

  test('a summary from an earlier state reads back as the same member', () => {
    const cases: Member[] = [ok, { ...ok, pool: undefined }, { ...ok, vm: undefined }, withVm({ toolsRunning: false })];
    for (const m of cases) {
      const back = fromSummary('web', summarize(m));
      expect(summarize(back)).toEqual(summarize(m));
      expect(memberProblem(back)).toBe(memberProblem(m));
    }
    // States from before Tools were kept: not known to have stopped.
    expect(memberProblem(fromSummary('web', { name: 'web-1-1', ip: '10.0.0.5', power: 'poweredOn', pool: 'UP', sessions: 0 }))).toBeUndefined();
  });
});

describe('tracking and replacing', () => {
  const health = healthSchema.parse({ gracePeriod: '60s', maxReplacementsPerHour: 2 });
  const down = (name: string): Member => ({ ...withPool('DOWN'), name });
  test('a problem keeps the time it began; a healed member is forgotten', () => {
    const a = trackHealth({}, [down('web-1-1'), ok], T0);
    const b = trackHealth(a, [down('web-1-1'), { ...ok, name: 'web-1-2' }], T0 + 30_000);
    expect(b).toEqual({ 'web-1-1': { since: T0, why: 'DOWN in the balancer' } });
    expect(trackHealth(b, [ok], T0 + 40_000)).toEqual({});
  });
  test('not before the grace period', () => {
    const marks = trackHealth({}, [down('web-1-1')], T0);
    expect(planReplacements(marks, T0 + 59_000, health, []).due).toEqual([]);
    expect(planReplacements(marks, T0 + 60_000, health, []).due).toEqual([{ name: 'web-1-1', why: 'DOWN in the balancer', forMs: 60_000 }]);
  });
  test('the hourly limit holds the rest, oldest problems first', () => {
    const marks = { 'web-1-3': { since: T0, why: 'x' }, 'web-1-1': { since: T0 + 1000, why: 'x' }, 'web-1-2': { since: T0 + 2000, why: 'x' } };
    const now = T0 + 120_000;
    const plan = planReplacements(marks, now, health, [now - HOUR_MS + 1000, now - HOUR_MS - 1]);
    // One replacement inside the last hour: room for one more.
    expect([plan.due.map((d) => d.name), plan.held, plan.recent]).toEqual([['web-1-3'], ['web-1-1', 'web-1-2'], [now - HOUR_MS + 1000]]);
  });
  test('turned off: nothing is replaced', () => {
    const marks = trackHealth({}, [down('web-1-1')], T0);
    expect(planReplacements(marks, T0 + HOUR_MS, { ...health, replace: false }, [])).toEqual({ due: [], held: [], recent: [] });
  });
});
