// Benchmark: poolpilot beside the real Senlin 14, on the bench lab's OpenStack (the same Nova with its fake driver,
// the same Octavia pool), in one run:
//  1. time for +1 and +5 members, each to ACTIVE with an IP and an ACTIVE Octavia member (Senlin: a scale_out action
//     with a load-balancing policy; poolpilot: a scale-out run);
//  2. the engine killed mid scale-out of 3 (senlin-engine vs a poolpilot worker process, SIGKILL, restarted after 5 s):
//     what each leaves 2 minutes later (servers not in the cluster, pool members without a server, actions still
//     running, the cluster's state);
//  3. a storm: the cluster's scale-out receiver called 20 times in 10 s (both with a 60 s cooldown): servers added;
//  4. what an operator can read afterwards of one +5 run (Senlin's actions and events vs the run's Temporal history).
// Everything is observed through Senlin's, Nova's and Octavia's own APIs. BENCH_RUNS (default 3) runs per size;
// BENCH_PARTS=timings,kill,storm (the default) picks parts.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KeystoneSession, OpenstackHttpError } from '../src/activities/keystone';
import { buildApi } from '../src/client/api';
import { applyCluster, clusterStatus, deleteCluster } from '../src/client/clusters';
import { startScaleIn, startScaleOut } from '../src/client/operations';
import { readSenlinCluster } from '../src/client/senlin';
import { senlinToSpec } from '../src/config/import-senlin';
import { parseClusterSpecValue } from '../src/config/load';
import { PROJECT_ROOT } from '../src/config/settings';
import { openstackCloudSchema } from '../src/config/spec';
import { createToken, loadTokens } from '../src/config/tokens';
import { OPENSTACK_LAB_NAMES, restartSenlinService } from '../src/lab/openstack';
import { BENCH_OPENSTACK_PORTS, benchSession, pct, runBench } from './bench-lab';

const SENLIN = 'sen';
const POOLPILOT = 'pp';
const POOL = OPENSTACK_LAB_NAMES.loadBalancers[0].pool;
const PORT = 8080;
const LOOK_AFTER_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  id: string;
  name: string;
  status: string;
  metadata: Record<string, string>;
  addresses: Record<string, { addr: string }[]>;
}
interface Member {
  id: string;
  name: string;
  address: string;
  provisioning_status: string;
}
interface SenlinNode {
  id: string;
  name: string;
  status: string;
  physical_id: string | null;
}
interface SenlinAction {
  id: string;
  action: string;
  status: string;
  status_reason: string;
  target: string;
  start_time?: number | null;
  end_time?: number | null;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const { session, lab } = await benchSession('bench-vs-senlin', { openstack: BENCH_OPENSTACK_PORTS });
  const os = lab.openstack!;
  const dataDir = path.dirname(lab.credentialsFile);
  const ks = new KeystoneSession(openstackCloudSchema.parse({ authUrl: os.authUrl, projectName: os.projectName, region: os.region, credentialRef: 'bench' }), { username: os.username, password: os.password });
  const senlinApi = <T>(method: string, p: string, body?: unknown) => ks.call<T>('clustering', method, p, body, { headers: { 'OpenStack-API-Version': 'clustering 1.10' } }).then((r) => r.body);
  const servers = async () => (await ks.call<{ servers: Server[] }>('compute', 'GET', 'servers/detail?limit=1000')).body.servers;
  const poolId = (await ks.call<{ pools: { id: string }[] }>('load-balancer', 'GET', `v2/lbaas/pools?name=${POOL}`)).body.pools[0]!.id;
  const lbId = (await ks.call<{ loadbalancers: { id: string }[] }>('load-balancer', 'GET', `v2/lbaas/loadbalancers?name=${OPENSTACK_LAB_NAMES.loadBalancers[0].name}`)).body.loadbalancers[0]!.id;
  const members = async () => (await ks.call<{ members: Member[] }>('load-balancer', 'GET', `v2/lbaas/pools/${poolId}/members`)).body.members;
  const ipOf = (s: Server) => s.addresses[OPENSTACK_LAB_NAMES.network]?.[0]?.addr;

  async function waitAction(id: string, timeoutMs = 300_000): Promise<SenlinAction> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = (await senlinApi<{ action: SenlinAction }>('GET', `v1/actions/${id}`)).action;
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(a.status)) return a;
      if (Date.now() > deadline) return a;
      // Once a second: Senlin's conductor holds a pooled connection per request it serves, and faster polling on a
      // busy machine ran its pool (5 + 50) dry.
      await sleep(1000);
    }
  }
  /** A cluster action; while the cluster is locked (409: an action of a killed engine holds it until Senlin's clean-up), tried again for up to 5 minutes. */
  const clusterAction = async (clusterId: string, body: unknown): Promise<string> => {
    const deadline = Date.now() + 300_000;
    for (;;) {
      try {
        return (await senlinApi<{ action: string }>('POST', `v1/clusters/${clusterId}/actions`, body)).action;
      } catch (err) {
        if (!(err instanceof OpenstackHttpError && err.status === 409) || Date.now() > deadline) throw err;
        await sleep(2000);
      }
    }
  };

  /** What an earlier run of this benchmark left: its poolpilot cluster, its Senlin objects, servers of no cluster. */
  async function cleanUp(): Promise<void> {
    await deleteCluster(session.client, POOLPILOT, { scaleToZero: true }).catch(() => undefined);
    await session.client.workflow.getHandle(`autoscaler:${POOLPILOT}`).result().catch(() => undefined);
    for (const r of (await senlinApi<{ receivers: { id: string; name: string }[] }>('GET', 'v1/receivers')).receivers) if (r.name.startsWith(`${SENLIN}-`)) await senlinApi('DELETE', `v1/receivers/${r.id}`);
    for (const c of (await senlinApi<{ clusters: { id: string; name: string }[] }>('GET', 'v1/clusters')).clusters.filter((x) => x.name === SENLIN)) {
      for (const b of (await senlinApi<{ cluster_policies: { policy_id: string }[] }>('GET', `v1/clusters/${c.id}/policies`)).cluster_policies) await waitAction(await clusterAction(c.id, { policy_detach: { policy_id: b.policy_id } }), 120_000);
      await senlinApi('DELETE', `v1/clusters/${c.id}`);
      while ((await senlinApi<{ clusters: { id: string }[] }>('GET', 'v1/clusters')).clusters.some((x) => x.id === c.id)) await sleep(500);
    }
    for (const n of (await senlinApi<{ nodes: { id: string; cluster_id: string }[] }>('GET', 'v1/nodes')).nodes.filter((x) => !x.cluster_id)) await senlinApi('DELETE', `v1/nodes/${n.id}`);
    for (const p of (await senlinApi<{ policies: { id: string; name: string }[] }>('GET', 'v1/policies')).policies) if (p.name.startsWith(`${SENLIN}-`)) await senlinApi('DELETE', `v1/policies/${p.id}`);
    // Servers Senlin made and lost (a killed engine's): not any cluster's node.
    const known = new Set((await senlinApi<{ nodes: { physical_id: string | null }[] }>('GET', 'v1/nodes')).nodes.map((n) => n.physical_id));
    for (const sv of await servers()) if (sv.name.startsWith('node-') && !known.has(sv.id)) await ks.call('compute', 'DELETE', `servers/${sv.id}`, undefined, { accept: [404] });
    for (const pr of (await senlinApi<{ profiles: { id: string; name: string }[] }>('GET', 'v1/profiles')).profiles) if (pr.name.startsWith(`${SENLIN}-`)) await senlinApi('DELETE', `v1/profiles/${pr.id}`).catch(() => undefined);
  }
  await cleanUp();

  // ---- the Senlin cluster: profile, load-balancing and deletion policies (scaling comes in the storm), receiver ----
  console.error('[vs-senlin] building the Senlin cluster');
  const profile = (await senlinApi<{ profile: { id: string } }>('POST', 'v1/profiles', { profile: { name: `${SENLIN}-profile`, spec: { type: 'os.nova.server', version: '1.0', properties: { flavor: OPENSTACK_LAB_NAMES.flavor, image: OPENSTACK_LAB_NAMES.image, networks: [{ network: OPENSTACK_LAB_NAMES.network }] } } } })).profile;
  const policy = async (name: string, spec: unknown) => (await senlinApi<{ policy: { id: string } }>('POST', 'v1/policies', { policy: { name, spec } })).policy.id;
  const lbPolicy = await policy(`${SENLIN}-lb`, { type: 'senlin.policy.loadbalance', version: '1.1', properties: { loadbalancer: lbId, pool: { id: poolId, protocol: 'HTTP', protocol_port: PORT, subnet: `${OPENSTACK_LAB_NAMES.network}-subnet` }, vip: { subnet: `${OPENSTACK_LAB_NAMES.network}-subnet`, protocol_port: 80 } } });
  const delPolicy = await policy(`${SENLIN}-del`, { type: 'senlin.policy.deletion', version: '1.1', properties: { criteria: 'YOUNGEST_FIRST', destroy_after_deletion: true } });
  const outPolicy = await policy(`${SENLIN}-out`, { type: 'senlin.policy.scaling', version: '1.0', properties: { event: 'CLUSTER_SCALE_OUT', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 1, cooldown: 60, best_effort: true } } });
  const cluster = (await senlinApi<{ cluster: { id: string } }>('POST', 'v1/clusters', { cluster: { name: SENLIN, profile_id: profile.id, min_size: 0, max_size: 20, desired_capacity: 1 } })).cluster;
  for (;;) {
    const st = (await senlinApi<{ cluster: { status: string } }>('GET', `v1/clusters/${cluster.id}`)).cluster.status;
    if (st === 'ACTIVE') break;
    if (st === 'ERROR') throw new Error('the Senlin cluster went to ERROR');
    await sleep(300);
  }
  for (const p of [lbPolicy, delPolicy]) await waitAction(await clusterAction(cluster.id, { policy_attach: { policy_id: p } }));
  const receiver = (await senlinApi<{ receiver: { id: string; channel: { alarm_url: string } } }>('POST', 'v1/receivers', { receiver: { name: `${SENLIN}-out`, cluster_id: cluster.id, action: 'CLUSTER_SCALE_OUT', type: 'webhook' } })).receiver;
  const nodes = async () => (await senlinApi<{ nodes: SenlinNode[] }>('GET', `v1/nodes?cluster_id=${cluster.id}`)).nodes;

  // ---- the poolpilot cluster: the same settings, imported from the Senlin cluster as `import senlin` does ----
  const imported = senlinToSpec(await readSenlinCluster(ks, cluster.id), 'bench', { authUrl: os.authUrl, projectName: os.projectName, region: os.region, credentialRef: lab.openstackCredentialRef!, name: POOLPILOT });
  const spec = parseClusterSpecValue({ ...imported.spec, min: 0, max: 20, initial: 1, autoscaling: { scaleOutCooldown: '60s', scaleInCooldown: '60s' }, drainGracePeriod: '1s' }, 'bench').spec;

  /** Senlin: every node ACTIVE with an IP, each address an ACTIVE member of the pool. */
  const senlinReady = async (n: number) => {
    const ns = await nodes();
    if (ns.length !== n || ns.some((x) => x.status !== 'ACTIVE' || !x.physical_id)) return false;
    const byId = new Map((await servers()).map((s) => [s.id, s]));
    const ms = await members();
    return ns.every((x) => {
      const ip = byId.get(x.physical_id!) && ipOf(byId.get(x.physical_id!)!);
      return ip && ms.some((m) => m.address === ip && m.provisioning_status === 'ACTIVE');
    });
  };
  const untilTrue = async (f: () => Promise<boolean>, timeoutMs = 300_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await f())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await sleep(500);
    }
  };

  let op = Math.floor(Date.now() / 1000) * 100;
  // ---- 1. +1 and +5 ----
  const timingsAndReading = async () => {
    await (await startScaleOut(session.client, spec, 1, ++op)).result();
    const timings: Record<string, number[]> = {};
    let lastSenlinFive: string | undefined;
    let lastPoolpilotFive: string | undefined;
    for (let i = 0; i < runs; i++) {
      for (const n of [1, 5]) {
        let t0 = Date.now();
        const a = await waitAction(await clusterAction(cluster.id, { scale_out: { count: n } }));
        if (a.status !== 'SUCCEEDED') throw new Error(`Senlin scale_out ${n}: ${a.status} ${a.status_reason}`);
        await untilTrue(() => senlinReady(1 + n));
        (timings[`senlin+${n}`] ??= []).push(Date.now() - t0);
        if (n === 5) lastSenlinFive = a.id;
        await waitAction(await clusterAction(cluster.id, { scale_in: { count: n } }));

        t0 = Date.now();
        const h = await startScaleOut(session.client, spec, n, ++op);
        const r = await h.result();
        if (r.failed.length) throw new Error(`poolpilot +${n}: ${JSON.stringify(r.failed)}`);
        (timings[`poolpilot+${n}`] ??= []).push(Date.now() - t0);
        if (n === 5) lastPoolpilotFive = h.workflowId;
        await (await startScaleIn(session.client, spec, { count: n }, ++op)).result();
      }
    }
    console.log(`1. time to +n members, each ACTIVE with an IP and an ACTIVE Octavia member (${runs} runs each; Nova fake driver, Octavia noop drivers):`);
    for (const n of [1, 5]) {
      const s = timings[`senlin+${n}`]!;
      const p = timings[`poolpilot+${n}`]!;
      console.log(`  +${n}: Senlin median ${(pct(s, 50) / 1000).toFixed(1)} s (${s.map((x) => (x / 1000).toFixed(1)).join(', ')}), poolpilot median ${(pct(p, 50) / 1000).toFixed(1)} s (${p.map((x) => (x / 1000).toFixed(1)).join(', ')})`);
    }

    // ---- 4 (from phase 1's last +5). What an operator can read ----
    const actions = (await senlinApi<{ actions: SenlinAction[] }>('GET', `v1/actions?limit=1000`)).actions;
    // The scale_out and the node actions it ran (Senlin links them only by time: they start inside its window).
    const parent = actions.find((x) => x.id === lastSenlinFive)!;
    const within = (a: SenlinAction) => (a.start_time ?? 0) >= (parent.start_time ?? 0) && (a.start_time ?? 0) <= (parent.end_time ?? Infinity);
    const five = actions.filter((a) => a === parent || (a.action.startsWith('NODE_') && within(a)));
    const events = (await senlinApi<{ events: { action: string; level: string; status_reason: string }[] }>('GET', `v1/events?cluster_id=${cluster.id}&limit=1000`)).events;
    const history = (await session.client.workflow.getHandle(lastPoolpilotFive!).fetchHistory()).events ?? [];
    const activities = history.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!);
    const kinds = [...new Set(activities)];
    console.log(`4. what an operator can read of one +5 run afterwards:`);
    console.log(`  Senlin: ${five.length} actions (${[...new Set(five.map((a) => a.action))].join(', ')}), each with its status, status_reason and start/end time; ${events.length} events for the cluster over the whole bench, each an action name, level and reason. Not recorded: the Nova and Octavia calls, their replies, retries, the wait for an IP.`);
    console.log(`  poolpilot: one workflow (${lastPoolpilotFive}) of ${history.length} history events: ${activities.length} activity calls of ${kinds.length} kinds (${kinds.join(', ')}), each with its input, result or failure, attempt count and timing; the run's progress query and summary; shown in the Temporal UI.`);

  };

  // ---- 2. the engine killed mid scale-out of 3 ----
  const killed = async () => {
    console.error('[vs-senlin] killing the engines');
    const senlinBefore = new Set((await servers()).map((s) => s.id));
    const killAt = async (isUnderWay: () => Promise<boolean>) => {
      await untilTrue(isUnderWay, 120_000);
    };
    const kAction = await clusterAction(cluster.id, { scale_out: { count: 3 } });
    await killAt(async () => (await servers()).some((s) => !senlinBefore.has(s.id)));
    await restartSenlinService(dataDir, 'senlin-engine', { killOnly: true });
    const killedAt = Date.now();
    await sleep(5000);
    await restartSenlinService(dataDir, 'senlin-engine');
    await sleep(Math.max(0, LOOK_AFTER_MS - (Date.now() - killedAt)));
    const senlinLook = await (async () => {
      const ns = await nodes();
      const svs = await servers();
      const inCluster = new Set(ns.map((n) => n.physical_id).filter(Boolean));
      const strays = svs.filter((s) => s.name.startsWith('node-') && !inCluster.has(s.id) && !s.metadata['poolpilot-cluster']);
      const ips = new Set(svs.map(ipOf));
      const orphanMembers = (await members()).filter((m) => !ips.has(m.address));
      const stuck = (await senlinApi<{ actions: SenlinAction[] }>('GET', 'v1/actions?limit=1000')).actions.filter((a) => ['RUNNING', 'READY', 'WAITING', 'WAITING_LIFECYCLE_COMPLETION'].includes(a.status));
      const st = (await senlinApi<{ cluster: { status: string; desired_capacity: number; status_reason: string } }>('GET', `v1/clusters/${cluster.id}`)).cluster;
      const ka = (await senlinApi<{ action: SenlinAction }>('GET', `v1/actions/${kAction}`)).action;
      return { strays: strays.length, orphanMembers: orphanMembers.length, stuck: stuck.map((a) => `${a.action} ${a.status}`), cluster: `${st.status} (desired ${st.desired_capacity}, ${ns.length} nodes: ${ns.map((n) => n.status).join(', ')})`, action: `${ka.action} ${ka.status}` };
    })();

    // poolpilot: a worker process of its own on a queue of its own, killed once the run's first server exists.
    const queue = 'bench-vs-senlin-kill';
    const logFd = openSync(path.join(dataDir, 'logs', 'vs-senlin-worker.log'), 'a');
    const spawnWorker = (): ChildProcess =>
      spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'worker', 'main.js')], {
        env: { ...process.env, TEMPORAL_ADDRESS: lab.temporalAddress, POOLPILOT_TASK_QUEUE: queue, POOLPILOT_CREDENTIALS_FILE: lab.credentialsFile, POOLPILOT_LOG_LEVEL: 'warn' },
        stdio: ['ignore', logFd, logFd],
      });
    let worker = spawnWorker();
    const mine = async () => (await servers()).filter((s) => s.metadata['poolpilot-cluster'] === POOLPILOT);
    const ppBefore = (await mine()).length;
    process.env.POOLPILOT_TASK_QUEUE = queue;
    const kh = await startScaleOut(session.client, spec, 3, op + 1);
    await killAt(async () => (await mine()).length > ppBefore);
    worker.kill('SIGKILL');
    const ppKilledAt = Date.now();
    await sleep(5000);
    worker = spawnWorker();
    await sleep(Math.max(0, LOOK_AFTER_MS - (Date.now() - ppKilledAt)));
    const ppLook = await (async () => {
      const svs = await mine();
      const ms = await members();
      const names = new Set(ms.map((m) => m.name));
      const strays = svs.filter((s) => !names.has(s.name));
      const ips = new Set((await servers()).map(ipOf));
      const orphanMembers = ms.filter((m) => !ips.has(m.address));
      const d = await kh.describe();
      return { strays: strays.length, orphanMembers: orphanMembers.length, run: `${d.status.name}`, members: svs.length };
    })();
    worker.kill('SIGTERM');
    process.env.POOLPILOT_TASK_QUEUE = session.taskQueue;
    console.log(`2. the engine killed (SIGKILL) mid scale-out of 3, restarted 5 s later; what is left ${LOOK_AFTER_MS / 1000} s after the kill:`);
    console.log(`  Senlin (senlin-engine): servers not in the cluster ${senlinLook.strays}, pool members without a server ${senlinLook.orphanMembers}, actions not ended ${senlinLook.stuck.length}${senlinLook.stuck.length ? ` (${senlinLook.stuck.join(', ')})` : ''}, the scale_out ${senlinLook.action}, cluster ${senlinLook.cluster}`);
    console.log(`  poolpilot (worker process): servers not in the pool ${ppLook.strays}, pool members without a server ${ppLook.orphanMembers}, the run ${ppLook.run}, ${ppLook.members} servers marked for the cluster`);

  };

  // ---- 3. the storm: the receiver called 20 times in 10 s, a 60 s cooldown on each side ----
  const storm = async () => {
    console.error('[vs-senlin] the storm');
    // Senlin: settle what the kill left, then the scaling policy (out by 1, cooldown 60 s) on, and 20 webhook calls.
    const settle = async () => {
      for (const a of (await senlinApi<{ actions: SenlinAction[] }>('GET', 'v1/actions?limit=1000')).actions.filter((x) => ['RUNNING', 'READY', 'WAITING'].includes(x.status))) await waitAction(a.id, 60_000);
    };
    await settle();
    await waitAction(await clusterAction(cluster.id, { policy_attach: { policy_id: outPolicy } }));
    const senlinStormBefore = (await nodes()).length;
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      calls.push(fetch(receiver.channel.alarm_url, { method: 'POST' }).then((r) => r.status));
      await sleep(500);
    }
    const senlinStatuses = await Promise.all(calls);
    await sleep(30_000);
    await settle();
    const senlinAdded = (await nodes()).length - senlinStormBefore;

    // poolpilot: its autoscaler with the imported spec's 60 s cooldown, the same 20 calls to its Senlin-style receiver.
    await deleteCluster(session.client, POOLPILOT, { scaleToZero: false }).catch(() => undefined);
    const tokensFile = path.join(dataDir, 'vs-senlin-tokens.yaml');
    // A token of its own each run (an earlier run's file would refuse the name).
    rmSync(tokensFile, { force: true });
    const token = createToken(tokensFile, 'alarms', [`${POOLPILOT}=operator`]);
    const app = await buildApi(session.client, { tokens: loadTokens(tokensFile) });
    await applyCluster(session.client, spec);
    for (;;) {
      const st = await clusterStatus(session.client, POOLPILOT).catch(() => undefined);
      if (st && !st.currentOperation && st.decisions.some((d) => d.code === 'Adopted')) break;
      await sleep(500);
    }
    // As Senlin's, its cooldown over before the storm (the cluster's start scaled it out to initial).
    while ((await clusterStatus(session.client, POOLPILOT)).cooldown.scaleOutMs > 0) await sleep(1000);
    const ppStormBefore = (await clusterStatus(session.client, POOLPILOT)).current;
    const url = imported.receiverPaths[`${SENLIN}-out`]!;
    const ppStatuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      ppStatuses.push((await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } })).statusCode);
      await sleep(500);
    }
    for (;;) {
      const st = await clusterStatus(session.client, POOLPILOT);
      if (!st.currentOperation && st.queue.length === 0) break;
      await sleep(500);
    }
    const ppAdded = (await clusterStatus(session.client, POOLPILOT)).current - ppStormBefore;
    console.log(`3. a storm: the scale-out receiver called 20 times in 10 s (out by 1, cooldown 60 s on each side):`);
    console.log(`  Senlin: ${senlinAdded} server(s) added (webhook answers: ${summary(senlinStatuses)})`);
    console.log(`  poolpilot: ${ppAdded} server(s) added (receiver answers: ${summary(ppStatuses)})`);

    await app.close();
  };

  // BENCH_PARTS (default all): timings (1 and 4), kill (2), storm (3); one at a time when a figure is to be measured again.
  const parts = new Set((process.env.BENCH_PARTS ?? 'timings,kill,storm').split(','));
  if (parts.has('timings')) await timingsAndReading();
  if (parts.has('kill')) await killed();
  if (parts.has('storm')) await storm();
  await cleanUp();
  ks.close();
  await session.stop();
}

function summary(statuses: number[]): string {
  const by = new Map<number, number>();
  for (const s of statuses) by.set(s, (by.get(s) ?? 0) + 1);
  return [...by].map(([s, n]) => `${n}× ${s}`).join(', ');
}

runBench(main);
