// Scale-out and scale-in workflows with mocked activities: the saga undoes each member that failed, newest step
// first; scale-in drains before it removes, and cuts what the grace period leaves.
import type { ScaleInResult } from '../../src/workflows/scale-in';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import { spec, withWorker, useLocalEnv, World } from './world';

const local = useLocalEnv();

test('scale-out: a member that never turns healthy is undone — out of the pool, off, destroyed — and the rest join', async () => {
  const world = new World();
  world.unhealthy.add('so-1-2');
  const r = await withWorker(local.env, world, 'tq-so', () =>
    local.env.client.workflow.execute('scaleOut', { args: [{ spec: spec('so'), op: 1, count: 3 }], taskQueue: 'tq-so', workflowId: 'scale-out:so:1' }),
  ) as ScaleOutResult;
  expect(r.joined.map((j) => j.name).sort()).toEqual(['so-1-1', 'so-1-3']);
  expect(r.failed).toEqual([expect.objectContaining({ name: 'so-1-2', step: 'waiting-healthy' })]);
  const undo = world.calls.filter((c) => c.endsWith('so-1-2')).slice(-3);
  expect(undo).toEqual(['removePoolMember so-1-2', 'powerOffVm so-1-2', 'destroyVm so-1-2']);
  expect(world.members('so')).toEqual(['so-1-1', 'so-1-3']);
  expect([...world.pool.keys()].sort()).toEqual(['so-1-1', 'so-1-3']);
});

test('scale-out: when every member fails the run fails, and nothing is left behind', async () => {
  const world = new World();
  world.cloneFails = true;
  const err = await withWorker(local.env, world, 'tq-so2', () =>
    local.env.client.workflow.execute('scaleOut', { args: [{ spec: spec('sf'), op: 1, count: 2 }], taskQueue: 'tq-so2', workflowId: 'scale-out:sf:1' }),
  ).catch((e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
  expect(err).toMatch(/scale-out 1 of cluster sf: no member joined .*everything it made was undone/);
  // The undo of a clone that never happened still runs and finds nothing: power off, then destroy, per member.
  expect(world.calls.filter((c) => c.startsWith('destroyVm'))).toHaveLength(2);
  expect(world.vms.size).toBe(0);
});

test('scale-in: victims are drained first, then removed, powered off and destroyed; sessions over the grace are cut', async () => {
  const world = new World();
  await withWorker(local.env, world, 'tq-si', () => local.env.client.workflow.execute('scaleOut', { args: [{ spec: spec('si'), op: 1, count: 3 }], taskQueue: 'tq-si', workflowId: 'scale-out:si:1' }));
  world.sessionsAfterDrain = 2;
  world.calls = [];
  const r = (await withWorker(local.env, world, 'tq-si', () =>
    local.env.client.workflow.execute('scaleIn', { args: [{ spec: spec('si'), op: 2, count: 2 }], taskQueue: 'tq-si', workflowId: 'scale-in:si:2' }),
  )) as ScaleInResult;
  // YOUNGEST_FIRST: the highest index goes first when members are of the same age.
  expect(r.removed.map((m) => m.name).sort()).toEqual(['si-1-2', 'si-1-3']);
  expect(r.removed.every((m) => !m.drained && m.sessionsCut === 2)).toBe(true);
  for (const name of ['si-1-2', 'si-1-3']) {
    expect(world.calls.filter((c) => c.endsWith(` ${name}`))).toEqual([`drainPoolMember ${name}`, `waitForDrain ${name}`, `removePoolMember ${name}`, `powerOffVm ${name}`, `destroyVm ${name}`]);
  }
  expect(world.members('si')).toEqual(['si-1-1']);
});
