// Benchmark: N autoscaler workflows on one worker and the dev server, polling every 10 s; poll lag and CPU.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { readLabState } from '../src/config/lab-state';
import { parseClusterSpec } from '../src/config/spec';
import { applyCluster } from '../src/client/clusters';
import { workflowIds } from '../src/client/operations';
import { rawLabSpec } from '../src/lab/session';
import type { AutoscalerStatus } from '../src/workflows/autoscaler';
import { benchLabConfig, benchSession, pct, runBench } from './bench-lab';

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** CPU seconds a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function round(client: Client, lab: Parameters<typeof rawLabSpec>[0], n: number, watchS: number): Promise<string> {
  const names = Array.from({ length: n }, (_, i) => `dens${i}`);
  // A metric that answers at once: HAProxy's own stats over the runtime socket (the sum of no members is 0).
  const raw = (name: string) =>
    rawLabSpec(lab, name, {
      min: 0,
      max: 2,
      metrics: [{ name: 'scur', source: { haproxy: { field: 'scur', aggregate: 'sum' } }, target: { value: 10, perMember: false } }],
      autoscaling: { pollInterval: '10s', reconcileInterval: '1h' },
    });
  const started = Date.now();
  await inBatches(names, 25, (name) => applyCluster(client, { raw: raw(name), spec: parseClusterSpec(raw(name)) }));
  const startS = (Date.now() - started) / 1000;
  const temporalPid = readLabState(benchLabConfig().dataDir!)!.pids.temporal!;
  // Let every workflow settle into its loop, then measure over `watchS`.
  await new Promise((r) => setTimeout(r, 15_000));
  const cpu0 = process.cpuUsage();
  const srv0 = cpuSeconds(temporalPid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, watchS * 1000));
  const wall = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const workerCpu = (cpu.user + cpu.system) / 1e6 / wall;
  const serverCpu = (cpuSeconds(temporalPid) - srv0) / wall;
  const lags: number[] = [];
  let polls = 0;
  let unanswered = 0;
  await inBatches(names, 50, async (name) => {
    try {
      const st = await client.workflow.getHandle(workflowIds.autoscaler(name)).query<AutoscalerStatus>('status');
      lags.push(...st.pollLagMs);
      polls += st.iterations;
    } catch {
      // An overloaded worker cannot answer in time: that is a finding, not a crash.
      unanswered++;
    }
  });
  await inBatches(names, 50, (name) => client.workflow.getHandle(workflowIds.autoscaler(name)).terminate('benchmark done'));
  return `N=${String(n).padStart(4)}: started in ${startS.toFixed(1)} s; ${polls} polls; poll lag p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms, max ${Math.max(...lags)} ms (${lags.length} samples${unanswered ? `, ${unanswered} status queries unanswered` : ''}); worker CPU ${(workerCpu * 100).toFixed(0)}% of a core, Temporal dev server CPU ${(serverCpu * 100).toFixed(0)}%`;
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '100,500,1000').split(',').map(Number);
  const watchS = Number(process.env.BENCH_WATCH_S ?? 60);
  const { session, lab } = await benchSession('bench-density');
  console.log(`density: autoscalers polling every 10 s on one worker (in this process) and the Temporal dev server (SQLite); measured over ${watchS} s`);
  for (const n of sizes) console.log(await round(session.client, lab, n, watchS));
  await session.stop();
}

runBench(main);
