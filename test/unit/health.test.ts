// Health replacement: what counts as broken, how long it must last, and the hourly limit.
import { healthSchema } from '../../src/config/spec';
import { healthProblem, HOUR_MS, planReplacements, trackHealth, type MemberHealthView } from '../../src/policy/health';

const T0 = 1_800_000_000_000;
const ok: MemberHealthView = { name: 'web-1-1', power: 'poweredOn', pool: 'UP', tools: true, ip: '10.0.0.5' };

describe('what counts as broken', () => {
  const cases: [string, Partial<MemberHealthView>, string | undefined][] = [
    ['serving', {}, undefined],
    ['DOWN in the balancer', { pool: 'DOWN' }, 'DOWN in the balancer'],
    ['VM powered off', { power: 'poweredOff' }, 'its VM is poweredOff'],
    ['Tools stopped', { tools: false }, 'VMware Tools stopped running'],
    ['no IP', { ip: undefined }, 'its VM reports no IP'],
    ['in maintenance (an operator chose it)', { pool: 'MAINT' }, undefined],
    ['draining (a scale-in)', { pool: 'DRAIN' }, undefined],
    ['checking after it was added again', { pool: 'CHECKING' }, undefined],
    ['no VM (reconcile removes its server)', { power: 'no VM', pool: 'DOWN' }, undefined],
    ['Tools unknown (a state from before)', { tools: undefined }, undefined],
  ];
  test.each(cases)('%s', (_n, over, why) => expect(healthProblem({ ...ok, ...over })).toBe(why));
});

describe('tracking and replacing', () => {
  const health = healthSchema.parse({ gracePeriod: '60s', maxReplacementsPerHour: 2 });
  const down = (name: string): MemberHealthView => ({ ...ok, name, pool: 'DOWN' });
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
