// Benchmark: N autoscaler workflows on one worker and the dev server, polling every 10 s; poll lag and CPU.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { readLabState } from '../src/lab/state';
import { parseClusterSpec } from '../src/config/spec';
import { applyCluster } from '../src/client/clusters';
import { workflowIds } from '../src/client/operations';
import { rawLabSpec } from '../src/lab/session';
import { statusQuery, type AutoscalerStatus } from '../src/workflows/autoscaler-messages';
import type { WorkerMetrics } from '../src/telemetry/metrics';
import { benchLabConfig, benchProfiles, benchSession, pct, runBench, temporalPids, type Profile } from './bench-lab';

const POLL_S = 10;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** CPU seconds a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a process and its live children (PostgreSQL: its backends). */
function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += cpuSeconds(Number(child));
  } catch {
    /* gone */
  }
  return total;
}

async function round(client: Client, lab: Parameters<typeof rawLabSpec>[0], n: number, settleS: number, watchS: number, profile: Profile, metrics: WorkerMetrics): Promise<string> {
  const emptyBytes = Buffer.byteLength(await metrics.registry.metrics());
  const names = Array.from({ length: n }, (_, i) => `dens${i}`);
  // A metric that answers at once: HAProxy's own stats over the runtime socket (the sum of no members is 0).
  const raw = (name: string) =>
    rawLabSpec(lab, name, {
      min: 0,
      max: 2,
      metrics: [{ name: 'scur', source: { haproxy: { field: 'scur', aggregate: 'sum' } }, target: { value: 10, perMember: false } }],
      autoscaling: { pollInterval: POLL_S, reconcileInterval: '1h' },
    });
  const started = Date.now();
  await inBatches(names, 25, (name) => applyCluster(client, parseClusterSpec(raw(name))));
  const startS = (Date.now() - started) / 1000;
  const servers = temporalPids(readLabState(benchLabConfig({ profile }).dataDir!)!);
  const serverSeconds = () => servers.reduce((a, p) => a + treeCpuSeconds(p), 0);
  // Starting N autoscalers at once is a burst (each adopts its cluster: vSphere and HAProxy reads, a first
  // decision); let it pass, then measure the steady state over `watchS`.
  await new Promise((r) => setTimeout(r, settleS * 1000));
  const fullBytes = Buffer.byteLength(await metrics.registry.metrics());
  const cpu0 = process.cpuUsage();
  const srv0 = serverSeconds();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, watchS * 1000));
  const t1 = Date.now();
  const wall = (t1 - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const workerCpu = (cpu.user + cpu.system) / 1e6 / wall;
  const serverCpu = (serverSeconds() - srv0) / wall;
  const after = new Map<string, AutoscalerStatus>();
  await inBatches(names, 50, async (name) => {
    try {
      after.set(name, await client.workflow.getHandle(workflowIds.autoscaler(name)).query(statusQuery));
    } catch {
      // An overloaded worker cannot answer in time: that is a finding, counted below, not a crash.
    }
  });
  // Steady state: the polls due inside the window. Since start: every poll the status still holds (its last 20).
  const lags: number[] = [];
  const sinceStart: number[] = [];
  const slices: number[][] = Array.from({ length: Math.ceil(wall / POLL_S) }, () => []);
  for (const st of after.values()) {
    for (const p of st.recentPolls) {
      sinceStart.push(p.lagMs);
      if (p.dueAt < t0 || p.dueAt >= t1) continue;
      lags.push(p.lagMs);
      slices[Math.floor((p.dueAt - t0) / 1000 / POLL_S)]!.push(p.lagMs);
    }
  }
  const polls = lags.length;
  const unanswered = n - after.size;
  await inBatches(names, 50, (name) => client.workflow.getHandle(workflowIds.autoscaler(name)).terminate('benchmark done'));
  const rate = polls / wall;
  const perPoll = (share: number) => (rate > 0 ? ((share * 1000) / rate).toFixed(1) : '-');
  return [
    `[${profile}] N=${String(n).padStart(4)}: started in ${startS.toFixed(1)} s; steady state over ${wall.toFixed(0)} s: ${polls} polls (${rate.toFixed(1)}/s, ${(((rate * POLL_S) / n) * 100).toFixed(0)}% of schedule)`,
    `        poll lag p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms, max ${Math.max(...lags)} ms${unanswered ? ` (${unanswered} status queries unanswered)` : ''}; p99 by ${POLL_S} s slice: ${slices.map((l) => pct(l, 99)).join(', ')} ms`,
    `        worker CPU ${(workerCpu * 100).toFixed(0)}% of a core (${perPoll(workerCpu)} ms per poll), ${profile === 'dev' ? 'Temporal dev server' : 'Temporal server + PostgreSQL'} ${(serverCpu * 100).toFixed(0)}% (${perPoll(serverCpu)} ms per poll)`,
    `        since start, including the start burst: poll lag p99 ${pct(sinceStart, 99)} ms, max ${Math.max(...sinceStart)} ms`,
    `        worker /metrics: ${(fullBytes / 1024).toFixed(0)} KiB with ${n} clusters, ${((fullBytes - emptyBytes) / n).toFixed(0)} bytes per cluster (${(emptyBytes / 1024).toFixed(0)} KiB without)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '100,500,1000').split(',').map(Number);
  const watchS = Number(process.env.BENCH_WATCH_S ?? 60);
  const settleS = Number(process.env.BENCH_SETTLE_S ?? 60);
  const profiles = benchProfiles();
  console.log(`density: autoscalers polling every 10 s on one worker (in this process); profiles ${profiles.join(', ')} (dev: the Temporal CLI dev server on SQLite; production: the Temporal server on PostgreSQL); measured over ${watchS} s after ${settleS} s to settle`);
  for (const n of sizes) {
    for (const profile of profiles) {
      // A fresh worker per size: terminated workflows would otherwise stay in the worker's cache (it is not told of a
      // termination) and weigh on the next round.
      const { session, lab, metrics } = await benchSession(`bench-density-${n}`, { profile });
      console.log(await round(session.client, lab, n, settleS, watchS, profile, metrics));
      await session.stop();
    }
  }
}

runBench(main);
