// Which VMs are a cluster's: the ownership mark decides; names alone only for members from before marks.
import { isOurs, joinInventory, warmInventory, type PoolView, type VmView } from '../../src/policy/inventory';

const vm = (name: string, owner?: string): VmView => ({ name, powerState: 'poweredOn', toolsRunning: true, ip: '10.0.0.9', ...(owner !== undefined ? { owner } : {}) });
const served = (name: string): PoolView => ({ name, address: '10.0.0.9', status: 'UP', sessions: 0 });

describe('isOurs', () => {
  const cases: [string, string | undefined, boolean, boolean][] = [
    ['marked for the cluster', 'web', false, true],
    ['marked for the cluster, serving', 'web', true, true],
    ['marked for another cluster, even serving under our name', 'api', true, false],
    ['unmarked, not serving: a hand-made VM named like a member', '', false, false],
    ['unmarked, serving under its name: a member from before marks', '', true, true],
    ['read before marks existed (a recorded result): by name, as then', undefined, false, true],
  ];
  test.each(cases)('%s', (_n, owner, inPool, want) => expect(isOurs('web', owner === undefined ? {} : { owner }, inPool)).toBe(want));
});

describe('joinInventory and warmInventory honour the mark', () => {
  test('a VM named like a member without the mark is not a member unless it serves', () => {
    const vms = [vm('web-1-1', 'web'), vm('web-2-1', ''), vm('web-3-1', ''), vm('web-4-1', 'api')];
    const members = joinInventory('web', vms, [served('web-1-1'), served('web-3-1')]);
    expect(members.map((m) => [m.name, Boolean(m.vm), Boolean(m.pool)])).toEqual([
      ['web-1-1', true, true],
      ['web-3-1', true, true],
    ]);
  });

  test('results recorded before marks join by name, as they did', () => {
    const members = joinInventory('web', [vm('web-1-1'), vm('web-2-1')], []);
    expect(members.map((m) => m.name)).toEqual(['web-1-1', 'web-2-1']);
  });

  test('warm VMs are taken by their mark alone', () => {
    const vms = [vm('web-w5-1', 'web'), vm('web-w5-2', ''), vm('web-w6-1', 'api'), vm('web-w7-1')];
    expect(warmInventory('web', vms).map((v) => v.name)).toEqual(['web-w5-1', 'web-w7-1']);
  });
});
