// Production profile: two worker processes on one task queue, one killed during a scale-out; and the Temporal server
// restarted during an autoscaler's life. Outcomes checked on vSphere (govc) and HAProxy's socket.
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { applyCluster, clusterStatus, deleteCluster, requestScale, waitIdle } from '../../src/client/clusters';
import { startScaleIn, startScaleOut } from '../../src/client/operations';
import { parseClusterSpec } from '../../src/config/spec';
import { labUp } from '../../src/lab/lab';
import { readLabState } from '../../src/lab/state';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import { backendServers, eventually, lab, PRODUCTION, rawSpecFor, spawnWorkerProcess, specFor, TEST_LAB, vsphereVms } from '../integration/harness';

const spawned = new Set<ChildProcess>();
let client: Client;
let conn: Connection;

beforeAll(async () => {
  expect(PRODUCTION).toBe(true);
  expect(lab().profile).toBe('production');
  conn = await Connection.connect({ address: lab().temporalAddress });
  client = new Client({ connection: conn });
});

test('the profile: SQL visibility with poolpilot\'s search attributes, and the Web UI server pointed at the server', async () => {
  const cluster = await client.workflowService.getClusterInfo({});
  expect(cluster.persistenceStore).toBe('postgres12');
  expect(cluster.visibilityStore).toBe('postgres12');
  expect(cluster.serverVersion).toBe('1.29.1');
  const attrs = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
  expect(Object.keys(attrs.customAttributes ?? {})).toEqual(expect.arrayContaining(['PoolpilotCluster', 'PoolpilotOperation']));
  // The UI server answers with the server's namespaces (it reads them over gRPC from the frontend).
  const ns = (await (await fetch(`${lab().temporalUi}/api/v1/namespaces`)).json()) as { namespaces: { namespaceInfo: { name: string } }[] };
  expect(ns.namespaces.map((n) => n.namespaceInfo.name)).toContain('default');
  expect(lab().metricsUrls[0]).toBe(`http://127.0.0.1:${TEST_LAB.ports!.metrics}/metrics`);
});

afterAll(async () => {
  for (const p of spawned) p.kill('SIGTERM');
  await conn?.close();
});

const identityOf = (p: ChildProcess) => `${p.pid}@`;

test('one of two workers killed during a scale-out: the other takes its activities over within the heartbeat timeout and finishes; exactly the asked VMs exist', async () => {
  const queue = 'prod-failover';
  process.env.POOLPILOT_TASK_QUEUE = queue;
  const a = spawnWorkerProcess(queue, 'failover-a', spawned);
  const b = spawnWorkerProcess(queue, 'failover-b', spawned);
  const spec = specFor('fover', { provisioningConcurrency: 3 });
  const handle = await startScaleOut(client, spec, 3, 500);
  // Once guests boot (clones exist), find the worker running the run's activities and kill it.
  await eventually('clones of fover', 60_000, () => vsphereVms('fover-').length > 0 || undefined, 100);
  const pending = await eventually('activities in flight', 30_000, async () => {
    const acts = (await handle.describe()).raw.pendingActivities ?? [];
    const running = acts.filter((x) => x.lastWorkerIdentity);
    return running.length ? running : undefined;
  }, 100);
  const victim = [a, b].find((w) => pending.some((x) => x.lastWorkerIdentity!.startsWith(identityOf(w))))!;
  const survivor = victim === a ? b : a;
  expect(victim).toBeDefined();
  const killedAt = Date.now();
  victim.kill('SIGKILL');
  // Taken over: an activity that was on the dead worker is running (or done) on the survivor.
  const takenOver = await eventually('the survivor running the activities', 40_000, async () => {
    const d = await handle.describe();
    if (d.status.name === 'COMPLETED') return Date.now();
    const acts = d.raw.pendingActivities ?? [];
    return acts.some((x) => x.lastWorkerIdentity?.startsWith(identityOf(survivor)) && (x.attempt ?? 1) > 1) ? Date.now() : undefined;
  }, 100);
  const result: ScaleOutResult = await handle.result();
  const doneAt = Date.now();
  console.log(`worker failover: activities taken over ${((takenOver - killedAt) / 1000).toFixed(1)} s after the kill (heartbeat timeout 10 s); run finished ${((doneAt - killedAt) / 1000).toFixed(1)} s after it`);
  expect(takenOver - killedAt).toBeLessThanOrEqual(10_000 + 3_000);
  expect(result.failed).toEqual([]);
  expect(result.joined.map((j) => j.name).sort()).toEqual(['fover-500-1', 'fover-500-2', 'fover-500-3']);
  expect(vsphereVms('fover-')).toEqual(['fover-500-1', 'fover-500-2', 'fover-500-3']);
  expect(backendServers('fover-')).toEqual(['fover-500-1', 'fover-500-2', 'fover-500-3']);
  const cleanup = await (await startScaleIn(client, spec, { count: 3 }, 501)).result();
  expect(cleanup.failed).toEqual([]);
  expect(vsphereVms('fover-')).toEqual([]);
});

test('the Temporal server killed and started again during an autoscaler\'s life: it resumes, and a request accepted before the kill is served', async () => {
  const queue = 'prod-restart';
  process.env.POOLPILOT_TASK_QUEUE = queue;
  spawnWorkerProcess(queue, 'restart-worker', spawned);
  const raw = rawSpecFor('prest', { min: 1, max: 4, metrics: [], autoscaling: { pollInterval: '1s', reconcileInterval: '2s', scaleOutCooldown: '0s', scaleInCooldown: '0s' } });
  await applyCluster(client, parseClusterSpec(raw));
  await eventually('the first member', 90_000, async () => ((await waitIdle(client, 'prest')).current === 1 ? true : undefined));
  const before = await clusterStatus(client, 'prest');

  // Accepted (durably, in the workflow's history), then the server goes away at once.
  const accepted = await requestScale(client, 'prest', 'scale-out', 1, 'test');
  expect(accepted.projected).toBe(2);
  process.kill(readLabState(TEST_LAB.dataDir!)!.pids.temporal!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 3000));
  const restartAt = Date.now();
  await labUp(TEST_LAB, { log: () => undefined });
  const st = await eventually('the scale-out served after the restart', 120_000, async () => {
    const s = await clusterStatus(client, 'prest').catch(() => undefined);
    return s && s.current === 2 && !s.currentOperation && s.queue.length === 0 ? s : undefined;
  }, 500);
  console.log(`Temporal server restart: the autoscaler served the request ${((Date.now() - restartAt) / 1000).toFixed(1)} s after the server was started again`);
  expect(st.runId).toBe(before.runId);
  expect(vsphereVms('prest-')).toHaveLength(2);
  expect(backendServers('prest-')).toHaveLength(2);
  // Its loop goes on, and a request after the restart is served too.
  await eventually('polls after the restart', 30_000, async () => ((await clusterStatus(client, 'prest')).iterations > st.iterations + 2 ? true : undefined));
  await requestScale(client, 'prest', 'scale-out', 1, 'test');
  expect((await waitIdle(client, 'prest', 90_000)).current).toBe(3);
  expect(vsphereVms('prest-')).toHaveLength(3);
  await deleteCluster(client, 'prest', { scaleToZero: true });
  await client.workflow.getHandle('autoscaler:prest').result();
  expect(vsphereVms('prest-')).toEqual([]);
  expect(backendServers('prest-')).toEqual([]);
});
