// The warm pool in the autoscaler (mocked activities): filled in the background; a scale-out takes warm VMs first
// (renamed into members, powered on) and clones only the rest; the pool is refilled; a scale-in returns drained
// members to it; scale-to-zero empties it.
import type { WorkflowHandle } from '@temporalio/client';
import type { AutoscalerInput, AutoscalerStatus, RequestInput } from '../../src/workflows/autoscaler-messages';
import { spec, until, withWorker, useLocalEnv, World } from './world';

const local = useLocalEnv();

const status = (h: WorkflowHandle) => h.query<AutoscalerStatus>('status');
const request = (h: WorkflowHandle, r: RequestInput) => h.executeUpdate('request', { args: [r] });
const settled = (h: WorkflowHandle, members: number, warm: number) =>
  until(`${members} members and ${warm} warm`, 20_000, async () => {
    const st = await status(h);
    return st.current === members && !st.currentOperation && st.queue.length === 0 && st.warmPool?.vms.length === warm && !st.warmPool.refilling ? st : undefined;
  });

test('warm first, refilled in the background, reused on scale-in, emptied by scale-to-zero', async () => {
  const world = new World();
  const name = 'wp';
  const s = spec(name, { min: 1, max: 6, metrics: [], warmPool: { size: 2, state: 'poweredOff', reuseOnScaleIn: true }, autoscaling: { pollInterval: '500ms', reconcileInterval: '1s' } });
  const input: AutoscalerInput = { spec: s, searchAttributes: false };
  const handle = await local.env.client.workflow.start('autoscaler', { args: [input], taskQueue: 'tq-wp', workflowId: `autoscaler:${name}` });
  await withWorker(local.env, world, 'tq-wp', async () => {
    const filled = await settled(handle, 1, 2);
    // Prepared: booted once (an IP seen), then powered off; never in the balancer.
    expect(world.warm(name)).toEqual(filled.warmPool!.vms.map((v) => `${v.name} poweredOff`).sort());
    expect([...world.pool.keys()]).toEqual(world.members(name));
    const warmNames = filled.warmPool!.vms.map((v) => v.name);

    world.calls = [];
    await request(handle, { kind: 'scale-out', n: 3, source: 'test' });
    const after = await settled(handle, 4, 2);
    // Two taken warm (renamed into members, powered on), one cloned.
    const taken = world.calls.filter((c) => c.startsWith('renameVm')).slice(0, 2);
    expect(taken.map((c) => c.split(' ')[1]).sort()).toEqual(warmNames.sort());
    const run = after.runs.find((r) => r.kind === 'scale-out' && r.count === 3)!;
    const op = Number(run.workflowId.split(':')[2]);
    expect(world.calls.filter((c) => c.startsWith('cloneVm') && c.includes(`${name}-${op}-`))).toEqual([`cloneVm ${name}-${op}-3`]);
    expect(world.members(name)).toHaveLength(4);
    // Refilled with new warm VMs.
    expect(after.warmPool!.vms.map((v) => v.name).some((n) => warmNames.includes(n))).toBe(false);

    // Take the pool empty again, with refills failing: then a scale-in returns its victims to the pool.
    world.cloneFails = true;
    await request(handle, { kind: 'scale-out', n: 2, source: 'test' });
    await until('6 members and no warm VM', 20_000, async () => {
      const st = await status(handle);
      return st.current === 6 && !st.currentOperation && !st.warmPool!.refilling && st.warmPool!.vms.length === 0 ? st : undefined;
    });
    world.calls = [];
    await request(handle, { kind: 'scale-in', n: 2, source: 'test' });
    const reused = await settled(handle, 4, 2);
    expect(world.calls.filter((c) => c.startsWith('destroyVm'))).toEqual([]);
    expect(world.warm(name)).toEqual(reused.warmPool!.vms.map((v) => `${v.name} poweredOff`).sort());
    expect(reused.decisions.some((d) => d.code === 'WarmPoolRefillFailed')).toBe(true);

    await handle.executeUpdate('delete', { args: [{ scaleToZero: true }] });
    expect(await handle.result()).toEqual({ deleted: true, scaledToZero: true });
  });
  expect([...world.vms.keys()]).toEqual([]);
});
