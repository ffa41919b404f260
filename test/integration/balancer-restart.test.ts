// HAProxy killed and restarted (as `lab up` does) in the middle of a cluster's runs: a restart drops every dynamic
// server. At each step of a scale-out and of a scale-in, and while a run waits on a lifecycle hook, the pool must
// come back whole: every VM of the cluster (govc) a member HAProxy's socket shows UP, within 30 s of the restart.
import { Client, Connection } from '@temporalio/client';
import { applyCluster, clusterStatus, completeHook, deleteCluster, requestScale } from '../../src/client/clusters';
import { follow } from '../../src/client/operations';
import { parseClusterSpec } from '../../src/config/spec';
import { labUp } from '../../src/lab/lab';
import { readLabState } from '../../src/lab/state';
import type { InstanceStep } from '../../src/workflows/shared';
import { backendServers, backendStatus, eventually, lab, rawSpecFor, startWorker, TEST_LAB, vsphereVms, type TestWorker } from './harness';

const CLUSTER = 'rst';
let w: TestWorker;
let client: Client;
let conn: Connection;

beforeAll(async () => {
  w = await startWorker('test-balancer-restart');
  conn = await Connection.connect({ address: lab().temporalAddress });
  client = new Client({ connection: conn });
});
afterAll(async () => {
  await deleteCluster(client, CLUSTER, { scaleToZero: true }).catch(() => undefined);
  await client.workflow.getHandle(`autoscaler:${CLUSTER}`).result().catch(() => undefined);
  await w?.stop();
  await conn?.close();
  expect(vsphereVms(`${CLUSTER}-`)).toEqual([]);
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
});

// A long reconcile interval: only a repair made for the run (or after it) can bring members back within 30 s.
const raw = (over: Record<string, unknown> = {}) => rawSpecFor(CLUSTER, { min: 1, max: 6, metrics: [], autoscaling: { reconcileInterval: '10m', scaleOutCooldown: 0, scaleInCooldown: 0 }, ...over });
const apply = (r: Record<string, unknown>) => applyCluster(client, parseClusterSpec(r));

/** Kills HAProxy and starts it again as `lab up` does; resolves when the new one serves its socket. */
async function restartHaproxy(): Promise<number> {
  const pid = readLabState(TEST_LAB.dataDir!)!.pids.haproxy!;
  process.kill(pid, 'SIGKILL');
  await eventually('the old HAProxy gone', 10_000, () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
  await labUp(TEST_LAB, { log: () => undefined });
  return Date.now();
}

/** The run under way, once the autoscaler has started it. */
async function currentRun(): Promise<string> {
  return eventually('a run under way', 30_000, async () => (await clusterStatus(client, CLUSTER)).currentOperation ?? undefined, 50);
}

const pidOf = (name: 'haproxy' | 'vcsim') => readLabState(TEST_LAB.dataDir!)!.pids[name]!;
/** SIGSTOP: the process keeps its state and its sockets, and answers nothing (a run's call to it waits). */
const freeze = (name: 'haproxy' | 'vcsim') => process.kill(pidOf(name), 'SIGSTOP');
const thaw = (name: 'haproxy' | 'vcsim') => process.kill(pidOf(name), 'SIGCONT');

interface Plan {
  /** Freeze this before the run starts (its first call waits there). */
  frozen?: 'haproxy' | 'vcsim';
  /** Or freeze it once a member reaches `step` (the next call to it waits). */
  freezeAt?: { step: InstanceStep; what: 'haproxy' | 'vcsim' };
  /** Restart HAProxy once a member reaches this step (or, with nothing to see yet, once the run is under way). */
  restartAt?: InstanceStep;
  /** Complete this operator hook once a member waits on it. */
  complete?: string;
}

/** Runs the plan over the run under way; resolves with when HAProxy served again, once the run has ended. */
async function restartDuring(run: string, plan: Plan): Promise<number> {
  let restarted: Promise<number> | undefined;
  let frozenAt = false;
  const completed = new Set<string>();
  const restart = () => {
    restarted ??= restartHaproxy().finally(() => {
      // Whatever was frozen goes on once HAProxy is back (a frozen HAProxy was killed with the rest).
      if (plan.frozen === 'vcsim' || plan.freezeAt?.what === 'vcsim') thaw('vcsim');
    });
  };
  if (!plan.restartAt) restart();
  await follow(
    client.workflow.getHandle(run),
    (p) => {
      if (plan.freezeAt && !frozenAt && p.instances.some((i) => i.step === plan.freezeAt!.step)) {
        frozenAt = true;
        freeze(plan.freezeAt.what);
      }
      for (const i of p.instances) {
        if (plan.complete && i.step === 'waiting-hook' && !completed.has(i.name)) {
          completed.add(i.name);
          void completeHook(client, CLUSTER, { member: i.name, hook: plan.complete, result: 'CONTINUE' }, run);
        }
      }
      if (plan.restartAt && p.instances.some((i) => i.step === plan.restartAt)) restart();
    },
    50,
  ).catch(() => undefined);
  if (!restarted) throw new Error(`run ${run} ended without a member at step ${plan.restartAt}`);
  return restarted;
}

/** Every VM of the cluster a member, UP, and no run under way, by 30 s after `since`: the pool is whole again. */
async function whole(since: number, members: number): Promise<number> {
  await eventually(`${members} VMs, each an UP member, within 30 s of the restart`, Math.max(1000, since + 30_000 - Date.now()), async () => {
    const st = await clusterStatus(client, CLUSTER);
    const vms = vsphereVms(`${CLUSTER}-`);
    const up = Object.entries(backendStatus()).filter(([n, s]) => n.startsWith(`${CLUSTER}-`) && s === 'UP').map(([n]) => n).sort();
    return !st.currentOperation && st.queue.length === 0 && vms.length === members && JSON.stringify(vms) === JSON.stringify(up) ? true : undefined;
  });
  return Date.now() - since;
}

test('a restart at each step of a scale-out, and of a scale-in, leaves every VM a member within 30 s', async () => {
  // A health check of 2 × 1 s: a member waits for it long enough to be seen there. A terminate hook holds a scale-in
  // between its removal from the pool and its power-off.
  await apply(raw({ loadBalancer: { healthCheck: { interval: '1s', rise: 2 } } }));
  await eventually('the first member', 60_000, async () => ((await clusterStatus(client, CLUSTER)).current === 1 ? true : undefined));
  await whole(Date.now(), 1);
  const took: Record<string, number> = {};
  let members = 1;
  const outPlans: [string, Plan][] = [
    ['cloning (vSphere frozen)', { frozen: 'vcsim', restartAt: 'cloning' }],
    ['waiting-for-guest', { restartAt: 'waiting-for-guest' }],
    ['adding-to-pool (HAProxy frozen)', { freezeAt: { step: 'waiting-for-guest', what: 'haproxy' }, restartAt: 'adding-to-pool' }],
    ['waiting-healthy', { restartAt: 'waiting-healthy' }],
  ];
  for (const [name, plan] of outPlans) {
    if (plan.frozen) freeze(plan.frozen);
    await requestScale(client, CLUSTER, 'scale-out', 1, 'test');
    const at = await restartDuring(await currentRun(), plan);
    took[`scale-out, ${name}`] = await whole(at, ++members);
  }
  await apply(raw({ loadBalancer: { healthCheck: { interval: '1s', rise: 2 } }, hooks: [{ name: 'bye', on: 'terminate', timeout: '5m', default: 'CONTINUE' }] }));
  const inPlans: [string, Plan][] = [
    ['choosing victims (HAProxy frozen)', { frozen: 'haproxy', complete: 'bye' }],
    ['waiting on its terminate hook, out of the pool', { restartAt: 'waiting-hook', complete: 'bye' }],
    ['powering-off (vSphere frozen)', { freezeAt: { step: 'waiting-hook', what: 'vcsim' }, restartAt: 'powering-off', complete: 'bye' }],
  ];
  for (const [name, plan] of inPlans) {
    if (plan.frozen) freeze(plan.frozen);
    await requestScale(client, CLUSTER, 'scale-in', 1, 'test');
    const at = await restartDuring(await currentRun(), plan);
    took[`scale-in, ${name}`] = await whole(at, --members);
  }
  expect(Object.keys(took)).toHaveLength(7);
  console.log(`balancer restart: converged after ${Object.entries(took).map(([k, v]) => `${k}: ${v} ms`).join('; ')}`);
  await apply(raw());
});

test('while a run is open (waiting on a launch hook), the members the restart dropped are registered again', async () => {
  await apply(raw({ hooks: [{ name: 'hold', on: 'launch', timeout: '5m', default: 'CONTINUE' }] }));
  const before = vsphereVms(`${CLUSTER}-`);
  await requestScale(client, CLUSTER, 'scale-out', 1, 'test');
  const run = await currentRun();
  const waiting = await eventually('the new member waiting on its hook', 30_000, async () => {
    const p = await client.workflow.getHandle(run).query<{ instances: { name: string; step: string }[] }>('progress');
    return p.instances.find((i) => i.step === 'waiting-hook');
  });
  const at = await restartHaproxy();
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
  // The run is still open; the members from before it are back, UP, within 30 s.
  await eventually('the earlier members back while the run waits', 30_000, () => {
    const up = Object.entries(backendStatus()).filter(([n, s]) => before.includes(n) && s === 'UP').map(([n]) => n).sort();
    return JSON.stringify(up) === JSON.stringify(before) ? true : undefined;
  });
  expect(Date.now() - at).toBeLessThanOrEqual(30_000);
  expect((await clusterStatus(client, CLUSTER)).currentOperation).toBe(run);
  // The run's own member is not registered by the repair: it joins only once its hook is done.
  expect(backendServers(waiting.name)).toEqual([]);
  await completeHook(client, CLUSTER, { member: waiting.name, hook: 'hold', result: 'CONTINUE' });
  await whole(Date.now(), before.length + 1);
});
