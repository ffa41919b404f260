// Time to capacity: from a request to all members UP in HAProxy for a 1 → 5 step, cold (clone + boot) vs a warm pool
// of powered-off VMs (boot) vs a warm pool of running VMs — in one run, on a bench lab with realistic delays:
// vcsim's clones take BENCH_CLONE_S (20) and guests boot in BENCH_BOOT_S (30). Health checks every second.
import { parseClusterSpec } from '../src/config/spec';
import { applyCluster, clusterStatus, deleteCluster, requestScale, waitIdle } from '../src/client/clusters';
import { HaproxyLoadBalancer } from '../src/activities/loadbalancer/haproxy';
import { parseMemberName } from '../src/config/names';
import { rawLabSpec } from '../src/lab/session';
import { benchSession, runBench } from './bench-lab';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

runBench(async () => {
  const cloneS = Number(process.env.BENCH_CLONE_S ?? 20);
  const bootS = Number(process.env.BENCH_BOOT_S ?? 30);
  const { session, lab } = await benchSession('bench-ttc', { vcsimMethodDelay: `CloneVm:${cloneS * 1000},LockHandoff:0`, guest: { bootDelayMs: bootS * 1000, serviceTimeMs: 40, concurrency: 4 } });
  const client = session.client;
  const balancer = new HaproxyLoadBalancer(lab.haproxySocket, lab.haproxyBackend);
  const rows: [string, number][] = [];
  for (const [label, name, warm] of [
    ['cold (clone + boot)', 'ttccold', { size: 0 }],
    ['warm, powered off (boot)', 'ttcoff', { size: 4, state: 'poweredOff' }],
    ['warm, running', 'ttcrun', { size: 4, state: 'running' }],
  ] as const) {
    const raw = rawLabSpec(lab, name, {
      min: 1,
      max: 5,
      metrics: [],
      warmPool: warm,
      vsphere: { guestTimeout: '5m' },
      loadBalancer: { healthCheck: { interval: '1s', rise: 1, fall: 2, timeout: '3m' } },
      autoscaling: { pollInterval: '2s', reconcileInterval: '2s' },
    });
    await applyCluster(client, parseClusterSpec(raw));
    // Settled: one member, and the warm pool full and prepared (each warm VM cloned and booted once).
    for (const started = Date.now(); ; await sleep(1000)) {
      const st = await clusterStatus(client, name);
      const wp = st.warmPool;
      const ready = wp ? wp.vms.length === wp.size && !wp.refilling && wp.vms.every((v) => (wp.state === 'running' ? v.power === 'poweredOn' && v.ip : v.power === 'poweredOff')) : true;
      if (st.current === 1 && !st.currentOperation && ready) break;
      if (Date.now() - started > 600_000) throw new Error(`${name} did not settle: ${JSON.stringify({ current: st.current, warm: wp })}`);
    }
    const t0 = Date.now();
    await requestScale(client, name, 'set-desired', 5, 'bench');
    for (;;) {
      // UP with a passed check: a new server reads UP with check INI before its first one.
      const up = (await balancer.listMembers()).filter((m) => parseMemberName(name, m.name) && m.status === 'UP' && /^L[467]OK$/.test(m.check ?? '')).length;
      if (up >= 5) break;
      if (Date.now() - t0 > 600_000) throw new Error(`${name}: only ${up} of 5 UP after 10 minutes`);
      await sleep(100);
    }
    const s = (Date.now() - t0) / 1000;
    rows.push([label, s]);
    console.log(`${label.padEnd(26)} 1 → 5 members UP in ${s.toFixed(1)} s`);
    await waitIdle(client, name, 600_000);
    await deleteCluster(client, name, { scaleToZero: true });
  }
  console.log(`\nclone ${cloneS} s, boot ${bootS} s, health check every 1 s. Expected: running ≤ 2 s; powered off ≈ ${bootS + 2} s; cold ≈ ${cloneS + bootS + 2} s.`);
  await session.stop();
});
