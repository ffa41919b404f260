// The warm pool on the lab: warm VMs prepared (booted once, then off) and never in the balancer; a worker killed in
// the middle of a warm take-over: the run finishes on a new worker, and no VM is ever both warm and serving.
import type { ChildProcess } from 'node:child_process';
import { startScaleIn } from '../../src/client/operations';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import type { WarmPoolFillResult } from '../../src/workflows/warm-pool';
import { spawnWorkerProcess, backendServers, eventually, govcPowerState, haproxy, lab, specFor, startWorker, vsphereVms, type TestWorker } from './harness';

let w: TestWorker;
const spawned = new Set<ChildProcess>();
beforeAll(async () => {
  w = await startWorker('test-warm');
});
afterAll(async () => {
  for (const p of spawned) p.kill('SIGKILL');
  await w?.stop();
});

/** Server name → address in HAProxy's (shared) backend, per `show servers state` (socat, not poolpilot). */
function served(): Map<string, string> {
  const rows = haproxy(`show servers state ${lab().haproxyBackend}`).split('\n').filter((l) => /^\d+ /.test(l));
  return new Map(rows.map((l) => l.split(' ')).map((c) => [c[3]!, c[4]!]));
}

test('warm VMs are prepared off the balancer; a worker killed during a take-over leaves no VM both warm and serving', async () => {
  const spec = specFor('wt', { min: 0, max: 4, warmPool: { size: 2, state: 'poweredOff' }, provisioningConcurrency: 2 });
  const fill: WarmPoolFillResult = await w.client.workflow.execute('warmPoolFill', { args: [{ spec, op: 1, count: 2 }], taskQueue: w.taskQueue, workflowId: 'warm-pool:wt:1' });
  expect(fill.ready.sort()).toEqual(['wt-w1-1', 'wt-w1-2']);
  expect(vsphereVms('wt-')).toEqual(['wt-w1-1', 'wt-w1-2']);
  for (const n of fill.ready) expect(govcPowerState(n)).toBe('poweredOff');
  expect(backendServers('wt-')).toEqual([]);

  // The take-over on a worker process of its own, killed once the first warm VM has become a member.
  const taskQueue = 'test-warm-crash';
  const spawnWorker = () => spawnWorkerProcess(taskQueue, 'warm-crash-worker', spawned);
  const handle = await w.client.workflow.start('scaleOut', { args: [{ spec, op: 2, count: 2, warm: ['wt-w1-1', 'wt-w1-2'] }], taskQueue, workflowId: 'scale-out:wt:2' });
  // Watch the invariant all along: an address HAProxy serves never belongs to a VM with a warm name.
  let violations = 0;
  let samples = 0;
  const watch = setInterval(() => {
    try {
      const vms = vsphereVms('wt-');
      const warmNames = vms.filter((n) => /^wt-w\d+-\d+$/.test(n));
      // The backend is shared with other clusters' tests: only this cluster's servers count.
      const servers = [...served().keys()].filter((s) => s.startsWith('wt-'));
      samples++;
      if (servers.some((s) => warmNames.includes(s) || !vms.includes(s))) violations++;
    } catch {
      // A read that races a change is retried on the next tick.
    }
  }, 250);
  let worker = spawnWorker();
  try {
    await eventually('a warm VM taken as wt-2-1', 60_000, () => vsphereVms('wt-').includes('wt-2-1') || undefined, 100);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = spawnWorker();
    const result: ScaleOutResult = await handle.result();
    expect(result.failed).toEqual([]);
    expect(result.joined.map((j) => j.name).sort()).toEqual(['wt-2-1', 'wt-2-2']);
  } finally {
    clearInterval(watch);
    worker.kill('SIGTERM');
  }
  // Both warm VMs became the members: nothing cloned, nothing left warm, both served.
  expect(vsphereVms('wt-')).toEqual(['wt-2-1', 'wt-2-2']);
  expect(backendServers('wt-')).toEqual(['wt-2-1', 'wt-2-2']);
  expect(samples).toBeGreaterThan(3);
  expect(violations).toBe(0);
  await (await startScaleIn(w.client, spec, { count: 2 }, 3)).result();
  await eventually('the members gone', 30_000, () => (vsphereVms('wt-').length === 0 ? true : undefined));
});
