// Lifecycle hooks in scaling runs (mocked activities): an operator's CONTINUE and ABANDON, a timeout's default,
// an HTTP hook's answer, terminate hooks, and a completion the run refuses.
import type { WorkflowHandle } from '@temporalio/client';
import type { OperationProgress } from '../../src/workflows/shared';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import type { ScaleInResult } from '../../src/workflows/scale-in';
import { spec, until, withWorker, useLocalEnv, World } from './world';

const local = useLocalEnv();

let op = 0;
const waitingFor = (h: WorkflowHandle, member: string, hook: string) =>
  until(`${member} waiting for ${hook}`, 10_000, async () => {
    const p = await h.query<OperationProgress>('progress').catch(() => undefined);
    return p?.instances.find((i) => i.name === member && i.step === 'waiting-hook' && i.hook === hook) ? p : undefined;
  });
const complete = (h: WorkflowHandle, member: string, hook: string, result: string) => h.executeUpdate('completeHook', { args: [{ member, hook, result }] });

test('launch hook by an operator: CONTINUE joins the member, ABANDON undoes it like a failed one', async () => {
  const world = new World();
  const s = spec('hk', { hooks: [{ name: 'cfg', on: 'launch', timeout: '30s' }] });
  await withWorker(local.env, world, 'tq-hk', async () => {
    const h = await local.env.client.workflow.start('scaleOut', { args: [{ spec: s, op: ++op, count: 2 }], taskQueue: 'tq-hk', workflowId: `scale-out:hk:${op}` });
    await waitingFor(h, `hk-${op}-1`, 'cfg');
    await waitingFor(h, `hk-${op}-2`, 'cfg');
    // Not joined while it waits.
    expect(world.pool.size).toBe(0);
    // A completion for a member or hook the run does not wait on is refused.
    await expect(complete(h, `hk-${op}-9`, 'cfg', 'CONTINUE')).rejects.toThrow();
    await expect(complete(h, `hk-${op}-1`, 'other', 'CONTINUE')).rejects.toThrow();
    await complete(h, `hk-${op}-1`, 'cfg', 'CONTINUE');
    await complete(h, `hk-${op}-2`, 'cfg', 'ABANDON');
    const r = (await h.result()) as ScaleOutResult;
    expect(r.joined.map((j) => j.name)).toEqual([`hk-${op}-1`]);
    expect(r.failed).toEqual([expect.objectContaining({ name: `hk-${op}-2`, error: expect.stringMatching(/abandoned by its lifecycle hook \(cfg: ABANDON\) \[HookAbandoned\]/) })]);
    expect(world.members('hk')).toEqual([`hk-${op}-1`]);
    expect([...world.pool.keys()]).toEqual([`hk-${op}-1`]);
  });
});

test("a hook nobody answers takes its default when it times out", async () => {
  const world = new World();
  const s = spec('ht', { hooks: [{ name: 'slow', on: 'launch', timeout: '2s', default: 'CONTINUE' }] });
  await withWorker(local.env, world, 'tq-ht', async () => {
    const started = Date.now();
    const r = (await local.env.client.workflow.execute('scaleOut', { args: [{ spec: s, op: ++op, count: 1 }], taskQueue: 'tq-ht', workflowId: `scale-out:ht:${op}` })) as ScaleOutResult;
    expect(r.joined).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });
});

test('an HTTP hook decides; a terminate hook runs after the drain, before power-off', async () => {
  const world = new World();
  const s = spec('hh', { hooks: [{ name: 'cmdb', on: 'launch', url: 'http://hooks.example/launch' }, { name: 'logs', on: 'terminate', timeout: '30s' }] });
  await withWorker(local.env, world, 'tq-hh', async () => {
    world.hookAnswer = 'ABANDON';
    const abandoned = await local.env.client.workflow.execute('scaleOut', { args: [{ spec: s, op: ++op, count: 1 }], taskQueue: 'tq-hh', workflowId: `scale-out:hh:${op}` }).catch((e: Error) => e);
    expect(abandoned).toBeInstanceOf(Error);
    expect(world.members('hh')).toEqual([]);
    world.hookAnswer = 'CONTINUE';
    await local.env.client.workflow.execute('scaleOut', { args: [{ spec: s, op: ++op, count: 1 }], taskQueue: 'tq-hh', workflowId: `scale-out:hh:${op}` });
    const member = `hh-${op}-1`;
    world.calls = [];
    const h = await local.env.client.workflow.start('scaleIn', { args: [{ spec: s, op: ++op, count: 1 }], taskQueue: 'tq-hh', workflowId: `scale-in:hh:${op}` });
    await waitingFor(h, member, 'logs');
    expect(world.calls.filter((c) => c.endsWith(` ${member}`))).toEqual([`drainPoolMember ${member}`, `waitForDrain ${member}`, `removePoolMember ${member}`]);
    await complete(h, member, 'logs', 'CONTINUE');
    const r = (await h.result()) as ScaleInResult;
    expect(r.removed.map((m) => m.name)).toEqual([member]);
    expect(world.calls.filter((c) => c.endsWith(` ${member}`)).slice(-2)).toEqual([`powerOffVm ${member}`, `destroyVm ${member}`]);
  });
});
