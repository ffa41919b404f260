// Scale-out and scale-in on the real Temporal dev server, vcsim and HAProxy, checked through govc and HAProxy's socket.
import type { ChildProcess } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import { failureMessage, follow, startScaleIn, startScaleOut } from '../../src/client/operations';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import type { ScaleInResult } from '../../src/workflows/scale-in';
import { runtimeCommand, sharedRead } from '../../src/activities/loadbalancer/runtime-api';
import { spawnWorkerProcess, backendServers, backendStatus, eventually, govcPowerState, haproxy, lab, specFor, startWorker, vsphereVms, type TestWorker } from './harness';

let w: TestWorker;
// Worker processes this file spawns; afterAll kills them even when a test timed out and never reached its finally.
const spawned = new Set<ChildProcess>();
beforeAll(async () => {
  w = await startWorker('test-scaling');
});
afterAll(async () => {
  for (const p of spawned) p.kill('SIGKILL');
  await w?.stop();
});

test('scale out 1 → 3, then in 3 → 1: VMs in vSphere and servers in HAProxy follow', async () => {
  const spec = specFor('alpha', { min: 1, max: 5 });
  const first = await (await startScaleOut(w.client, spec, 1, 100)).result();
  expect(first.joined.map((j: { name: string }) => j.name)).toEqual(['alpha-100-1']);

  const seen = new Set<string>();
  const out: ScaleOutResult = await follow(await startScaleOut(w.client, spec, 2, 101), (p) => p.instances.forEach((i) => seen.add(i.step)));
  expect(out.failed).toEqual([]);
  expect(out.joined).toHaveLength(2);
  // The progress query showed the run's steps as they happened.
  expect([...seen]).toEqual(expect.arrayContaining(['waiting-for-guest']));

  expect(vsphereVms('alpha-')).toEqual(['alpha-100-1', 'alpha-101-1', 'alpha-101-2']);
  expect(backendServers('alpha-')).toEqual(['alpha-100-1', 'alpha-101-1', 'alpha-101-2']);
  const status = backendStatus();
  for (const n of ['alpha-100-1', 'alpha-101-1', 'alpha-101-2']) expect(status[n]).toBe('UP');
  for (const n of ['alpha-101-1', 'alpha-101-2']) expect(govcPowerState(n)).toBe('poweredOn');
  // Traffic through the VIP reaches the new members.
  const servedBy = new Set<string>();
  for (let i = 0; i < 30; i++) servedBy.add((await fetch(lab().vipUrl)).headers.get('x-served-by') ?? '');
  expect(servedBy.size).toBeGreaterThanOrEqual(2);

  const removed: ScaleInResult = await (await startScaleIn(w.client, spec, { count: 2 }, 102)).result();
  // YOUNGEST_FIRST: the two of op 101 go, the first member stays.
  expect(removed.removed.map((r) => r.name).sort()).toEqual(['alpha-101-1', 'alpha-101-2']);
  expect(removed.removed.every((r) => r.drained)).toBe(true);
  expect(vsphereVms('alpha-')).toEqual(['alpha-100-1']);
  expect(backendServers('alpha-')).toEqual(['alpha-100-1']);

  // Below min is refused, and nothing changes.
  const refused = await startScaleIn(w.client, spec, { count: 1 }, 103);
  await expect(refused.result()).rejects.toThrow(WorkflowFailedError);
  const err = await refused.result().catch((e: WorkflowFailedError) => e);
  expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/would leave 0 members in cluster alpha, below min 1/);
  expect(vsphereVms('alpha-')).toEqual(['alpha-100-1']);
  await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 1 }, 104)).result();
  expect(vsphereVms('alpha-')).toEqual([]);
});

test('a guest that never gets an IP is compensated: no VM and no pool member left', async () => {
  // The test lab's guest simulator never gives an address to VMs named noip-*.
  const spec = specFor('noip', { vsphere: { guestTimeout: '3s' } });
  const handle = await startScaleOut(w.client, spec, 2, 200);
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/no member joined .*VMware Tools are not running after 3 s/);
  expect(vsphereVms('noip-')).toEqual([]);
  expect(backendServers('noip-')).toEqual([]);
  // The history shows the undo steps ran.
  const history = await handle.fetchHistory();
  const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  expect(scheduled.filter((n) => n === 'destroyVm')).toHaveLength(2);
});

test('a missing template fails fast with its message', async () => {
  const spec = specFor('gamma', { vsphere: { template: '/DC0/vm/no-such-template' } });
  const started = Date.now();
  const err = await (await startScaleOut(w.client, spec, 1, 300)).result().catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(failureMessage(err)).toMatch(/vsphere.template "\/DC0\/vm\/no-such-template" was not found in vSphere/);
  expect(vsphereVms('gamma-')).toEqual([]);
});

test('a worker killed in the middle of a scale-out: a new worker finishes it, exactly the asked VMs exist', async () => {
  // This test's own worker process, on its own task queue, so the in-process worker cannot help it.
  const taskQueue = 'test-crash';
  const spawnWorker = () => spawnWorkerProcess(taskQueue, 'crash-test-worker', spawned);
  const spec = specFor('delta', { provisioningConcurrency: 2 });
  process.env.POOLPILOT_TASK_QUEUE = taskQueue;
  const handle = await startScaleOut(w.client, spec, 3, 400);
  process.env.POOLPILOT_TASK_QUEUE = w.taskQueue;
  expect((await handle.describe()).taskQueue).toBe(taskQueue);
  let worker = spawnWorker();
  try {
    // Kill it once the first clones exist, while guests are still booting.
    await eventually('a clone of delta', 60_000, () => vsphereVms('delta-').length > 0 || undefined, 100);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = spawnWorker();
    const result: ScaleOutResult = await handle.result();
    expect(result.failed).toEqual([]);
    expect(result.joined.map((j) => j.name).sort()).toEqual(['delta-400-1', 'delta-400-2', 'delta-400-3']);
    expect(vsphereVms('delta-')).toEqual(['delta-400-1', 'delta-400-2', 'delta-400-3']);
    expect(backendServers('delta-')).toEqual(['delta-400-1', 'delta-400-2', 'delta-400-3']);
  } finally {
    worker.kill('SIGTERM');
  }
  const cleanup: ScaleInResult = await (await startScaleIn(w.client, spec, { count: 3 }, 401)).result();
  expect(cleanup.failed).toEqual([]);
  expect(vsphereVms('delta-')).toEqual([]);
});

test('many clusters on one balancer: a burst of runtime commands is queued, not refused, and metric reads are shared', async () => {
  const socket = lab().haproxySocket;
  const cumConns = () => Number(/^CumConns: (\d+)/m.exec(haproxy('show info'))![1]);
  // HAProxy serves 10 stats-socket connections at once; 300 raw connects at once are mostly refused with EAGAIN.
  const answers = await Promise.all(Array.from({ length: 300 }, () => runtimeCommand(socket, 'show stat -1 4 -1')));
  expect(answers.every((a) => a.startsWith('# pxname'))).toBe(true);

  // Identical reads in flight together share one connection: HAProxy counts far fewer than 300 new ones.
  const before = cumConns();
  const shared = await Promise.all(Array.from({ length: 300 }, () => sharedRead(socket, 'show stat -1 4 -1')));
  expect(shared.every((a) => a.startsWith('# pxname'))).toBe(true);
  const opened = cumConns() - before - 1; // minus the `show info` that read the second count
  expect(opened).toBeGreaterThanOrEqual(1);
  expect(opened).toBeLessThan(30);
});
