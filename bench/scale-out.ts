// Benchmark: orchestration overhead of a 1-VM scale-out, and 20 vs 5 VMs at provisioning concurrency 5; on vSphere
// (vcsim + HAProxy) and, with BENCH_CLOUDS=vsphere,openstack, on the lab's OpenStack (Nova's fake driver + Octavia)
// in the same run. The overhead is the run's wall time minus its time in activities (the cloud's and balancer's own
// time: for Nova, building the server to ACTIVE). On vSphere the 1-VM runs go once per way of waiting
// (BENCH_VSPHERE_WAIT, default polling,updates: POOLPILOT_VSPHERE_WAIT), beside the physical limit: the guest's boot
// and one health interval.
import { labSpec, rawOpenstackLabSpec } from '../src/lab/session';
import { parseClusterSpec } from '../src/config/spec';
import { startScaleIn, startScaleOut } from '../src/client/operations';
import type { ScaleOutResult } from '../src/workflows/scale-out';
import { BENCH_OPENSTACK_PORTS, benchClouds, benchLabConfig, benchProfiles, benchSession, pct, runBench, timing, type Cloud, type Profile } from './bench-lab';

async function main(): Promise<void> {
  // BENCH_PROFILES=dev,production: the same runs on each lab, one after the other, in this one run.
  const waits = (process.env.BENCH_VSPHERE_WAIT ?? 'polling,updates').split(',') as Wait[];
  for (const cloud of benchClouds()) {
    for (const profile of benchProfiles()) {
      if (cloud === 'openstack') await bench(profile, cloud);
      else for (const [i, wait] of waits.entries()) await bench(profile, cloud, wait, i === waits.length - 1);
    }
  }
}

type Wait = 'updates' | 'polling';

/** `wait`: how the worker waits on vSphere; `batches`: the 5- and 20-VM runs too (once per cloud and profile). */
async function bench(profile: Profile, cloud: Cloud, wait?: Wait, batches = true): Promise<void> {
  console.log(`[${profile}, ${cloud}${wait ? `, waits by ${wait}` : ''}]`);
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  if (wait) process.env.POOLPILOT_VSPHERE_WAIT = wait;
  const { session, lab } = await benchSession(`bench-scale-out${wait ? `-${wait}` : ''}`, { profile, ...(cloud === 'openstack' ? { openstack: BENCH_OPENSTACK_PORTS } : {}) });
  const spec =
    cloud === 'openstack'
      ? parseClusterSpec(rawOpenstackLabSpec(lab, 'bench', { max: 40, provisioningConcurrency: 5, drainGracePeriod: '1s' }))
      : labSpec(lab, 'bench', { max: 40, provisioningConcurrency: 5 });
  let op = Math.floor(Date.now() / 1000) * 100;
  const history = async (id: string) => (await session.client.workflow.getHandle(id).fetchHistory()).events ?? [];

  // One warm-up run, not counted: first-use costs (vSphere login, bundle load, caches).
  await (await startScaleOut(session.client, spec, 1, ++op)).result();
  await (await startScaleIn(session.client, spec, { count: 1 }, ++op)).result();

  const overheads: number[] = [];
  const walls: number[] = [];
  // The clone's own time (the cloneVm step: vSphere's clone task and power-on), which the issue's physical limit counts.
  const clones: number[] = [];
  let example: ReturnType<typeof timing> | undefined;
  for (let i = 0; i < runs; i++) {
    const h = await startScaleOut(session.client, spec, 1, ++op);
    await h.result();
    const t = timing(await history(h.workflowId));
    overheads.push(t.wallMs - t.activityMs);
    walls.push(t.wallMs);
    clones.push(t.activities.filter((a) => a.type === 'cloneVm').reduce((sum, a) => sum + a.ms, 0));
    example ??= t;
    await (await startScaleIn(session.client, spec, { count: 1 }, ++op)).result();
  }
  const boot = benchLabConfig({ profile }).guest?.bootDelayMs ?? 0;
  const physical = boot + spec.loadBalancer.healthCheck.interval;
  console.log(cloud === 'openstack' ? `1-server scale-out, ${runs} runs (Nova fake driver, Octavia noop drivers):` : `1-VM scale-out, ${runs} runs (guest boot ${boot} ms, health check every ${spec.loadBalancer.healthCheck.interval} ms):`);
  console.log(`  wall time         median ${pct(walls, 50)} ms, p90 ${pct(walls, 90)} ms${cloud === 'openstack' ? '' : `; physical limit (boot + one health interval) ${physical} ms, median above it ${pct(walls, 50) - physical} ms (goal <= 150 ms)`}`);
  if (cloud !== 'openstack') {
    const above = walls.map((w, i) => w - (clones[i]! + physical));
    console.log(`  physical limit with the clone (cloneVm step + boot + one health interval): median ${pct(clones, 50) + physical} ms, wall above it median ${pct(above, 50)} ms, p90 ${pct(above, 90)} ms (goal <= 150 ms)`);
  }
  console.log(`  time in activities (${cloud === 'openstack' ? 'Nova to ACTIVE + Octavia' : 'vSphere + HAProxy'} calls and waits): median ${pct(walls.map((w, i) => w - overheads[i]!), 50)} ms`);
  console.log(`  orchestration overhead = wall - activities: median ${pct(overheads, 50)} ms, p90 ${pct(overheads, 90)} ms, max ${Math.max(...overheads)} ms (goal < 150 ms)`);
  console.log(`  one run's activities: ${example!.activities.map((a) => `${a.type} ${a.ms} ms`).join(', ')} (its local activities, the bound check's listVms and addPoolMember, run inside workflow tasks and count in the overhead)`);
  if (!batches) {
    await session.stop();
    return;
  }

  const wallOf = async (count: number) => {
    const h = await startScaleOut(session.client, spec, count, ++op);
    const out: ScaleOutResult = await h.result();
    // A figure from a run that did not make every member would measure something else.
    if (out.failed.length) throw new Error(`scale-out of ${count}: ${out.failed.length} failed (${out.failed[0]!.error})`);
    const t = timing(await history(h.workflowId));
    await (await startScaleIn(session.client, { ...spec, min: 0 }, { count }, ++op)).result();
    return t.wallMs;
  };
  const fives: number[] = [];
  const twenties: number[] = [];
  for (let i = 0; i < 3; i++) {
    fives.push(await wallOf(5));
    twenties.push(await wallOf(20));
  }
  const ratio = pct(twenties, 50) / pct(fives, 50);
  console.log(`scale-out at provisioning concurrency 5: 5 VMs median ${pct(fives, 50)} ms (${fives.join(', ')}), 20 VMs median ${pct(twenties, 50)} ms (${twenties.join(', ')})`);
  console.log(`  ratio 20/5 = ${ratio.toFixed(2)} (goal <= 4.5; 4.0 is four perfect batches)`);
  await session.stop();
}

runBench(main);
