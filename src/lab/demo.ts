// The main job: the whole autoscaling scenario on the lab — load rises, the pool grows; load stops, it shrinks — shown live and reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { balancers } from '../activities/loadbalancer';
import { credentialResolver } from '../activities/credentials';
import { parseMemberName } from '../config/names';
import { loadClusterSpecFile } from '../config/load';
import { parseClusterSpec } from '../config/spec';
import { PROJECT_ROOT } from '../config/settings';
import { applyCluster, clusterStatus } from '../client/clusters';
import { connectClient } from '../temporal/connection';
import { uiLink, workflowIds } from '../client/operations';
import type { AutoscalerStatus } from '../workflows/autoscaler-messages';
import { progressQuery } from '../workflows/run-messages';
import { endpoints, labDown, labUp, labWorkerEnv, type LabConfigInput, type LabState } from './lab';
import { renderReport, type Sample, type ScenarioReport } from './report';
import { ensureTools } from './tools';
import { OPENSTACK_DEV_PORTS } from './openstack';
import { DEMAND_METRIC, TraceReplay, type LoadReading, type TraceReplayOptions } from './trace-load';

export interface ScenarioOptions {
  specFile: string;
  users: number;
  spawnRate: number;
  plateauS: number;
  /** Seconds each simulated user waits between requests (Locust's between(min, max)). */
  waitS?: [number, number];
  /** Most seconds to wait for the pool to return to min after the load stops. */
  settleS: number;
  lab?: LabConfigInput;
  reportsDir: string;
  log: (line: string) => void;
  /** Stop the lab when done (Ctrl-C always does). */
  down: boolean;
  /** Changes to the spec as written, for a shorter run or another lab (tests). */
  specOverrides?: (raw: Record<string, unknown>) => Record<string, unknown>;
  signal?: AbortSignal;
  /** Replay this trace as the demand instead of Locust's load (the OpenStack lab: its servers serve nothing). */
  trace?: Omit<TraceReplayOptions, 'host' | 'port'>;
}

type LocustRow = LoadReading;

/** The newest "Aggregated" row of Locust's stats history CSV. */
export function readLocustHistory(file: string): LocustRow | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0]?.split(',').map((h) => h.replace(/"/g, ''));
  if (!header) return undefined;
  for (let i = lines.length - 1; i > 0; i--) {
    const cells = lines[i]!.split(',').map((c) => c.replace(/"/g, ''));
    const row = Object.fromEntries(header.map((h, j) => [h, cells[j] ?? '']));
    if (row.Name !== 'Aggregated') continue;
    const num = (k: string) => (Number.isFinite(Number(row[k])) ? Number(row[k]) : 0);
    return { users: num('User Count'), rps: num('Requests/s'), p95: num('95%'), requests: num('Total Request Count'), failures: num('Total Failure Count') };
  }
  return undefined;
}

/** The demo's own worker, with its /metrics where the lab's first worker would serve it (the lab scrapes it there). */
function startWorker(state: LabState): ChildProcess {
  const dataDir = state.config.dataDir;
  const out = openSync(path.join(dataDir, 'worker.log'), 'a');
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'worker', 'main.js')], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...labWorkerEnv(state, state.config.ports.metrics) },
  });
  closeSync(out);
  return child;
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the scenario; returns the report. Throws if aborted. */
export async function runScenario(o: ScenarioOptions): Promise<ScenarioReport> {
  const tools = ensureTools((m) => o.log(`[tools] ${m}`));
  const state = await labUp(o.lab ?? {}, { tools, log: (m) => o.log(`[lab] ${m}`) });
  const lab = endpoints(state);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const reportDir = path.join(o.reportsDir, stamp);
  mkdirSync(reportDir, { recursive: true });
  let loaded = loadClusterSpecFile(o.specFile);
  if (o.specOverrides) {
    const raw = o.specOverrides(loaded.raw as Record<string, unknown>);
    loaded = { raw, spec: parseClusterSpec(raw, o.specFile) };
  }
  const { spec } = loaded;

  let worker: ChildProcess | undefined;
  let locust: ChildProcess | undefined;
  let replay: TraceReplay | undefined;
  let client: Client | undefined;
  const cleanup = async (all: boolean) => {
    await stopChild(locust, 'SIGINT');
    await replay?.stop();
    await stopChild(worker, 'SIGTERM');
    if (all) await labDown(state.config.dataDir, { log: (m) => o.log(`[lab] ${m}`) });
  };
  const onAbort = () => void cleanup(true);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const checkAbort = () => {
    if (o.signal?.aborted) throw new Error('interrupted');
  };

  try {
    worker = startWorker(state);
    o.log(`[demo] worker started (pid ${worker.pid}); log: ${path.join(state.config.dataDir, 'worker.log')}`);
    client = await connectClient({ address: lab.temporalAddress, namespace: lab.temporalNamespace, options: { address: lab.temporalAddress } });
    const applied = await applyCluster(client, loaded.spec);
    const autoscalerId = workflowIds.autoscaler(spec.name);
    o.log(`[demo] ${applied.started ? 'started' : 'updated'} ${autoscalerId} — Temporal UI: ${uiLink(autoscalerId, lab.temporalUi)}`);
    o.log(`[demo] every scaling run: ${lab.temporalUi}/namespaces/default/workflows?query=${encodeURIComponent(`PoolpilotCluster="${spec.name}"`)}`);

    const balancer = balancers(credentialResolver(process.env, lab.credentialsFile))(spec.loadBalancer);
    // The backend may hold other clusters' servers: only this cluster's count.
    const ours = async () => (await balancer.listMembers()).filter((m) => parseMemberName(spec.name, m.name));
    const upCount = async () => (await ours()).filter((m) => m.status === 'UP').length;
    // Start from a settled pool at min.
    for (let i = 0; ; i++) {
      checkAbort();
      const st = await clusterStatus(client, spec.name).catch(() => undefined);
      if (st && !st.currentOperation && st.queue.length === 0 && st.current === spec.min && (await upCount()) === spec.min) break;
      if (i % 10 === 0) o.log(`[demo] waiting for the pool to settle at min ${spec.min} (${st ? `${st.current} member(s), ${st.phase}` : 'autoscaler starting'})`);
      if (i > 240) throw new Error(`the pool did not settle at ${spec.min} member(s) within 2 minutes; see ${path.join(state.config.dataDir, 'worker.log')}`);
      await sleep(500);
    }

    const csvPrefix = path.join(reportDir, 'locust');
    let loadStart: number;
    let loadStop: number | undefined;
    if (o.trace) {
      replay = new TraceReplay({ ...o.trace, host: state.config.host, port: state.config.ports.demand });
      await replay.start();
      loadStart = Date.now();
      o.log(`[demo] load: ${o.trace.steps} steps of ${path.basename(o.trace.file)} from step ${o.trace.from}, ${o.trace.stepMs} ms each, as the gauge ${DEMAND_METRIC} the lab's Prometheus scrapes`);
    } else {
      const locustLog = openSync(path.join(reportDir, 'locust.log'), 'a');
      locust = spawn(
        tools.locust,
        ['-f', path.join(PROJECT_ROOT, 'src', 'lab', 'locustfile.py'), '--headless', '--host', lab.vipUrl.replace(/\/$/, ''), '--csv', csvPrefix, '--csv-full-history', '--only-summary'],
        {
          stdio: ['ignore', locustLog, locustLog],
          env: {
            ...process.env,
            POOLPILOT_USERS: String(o.users),
            POOLPILOT_SPAWN_RATE: String(o.spawnRate),
            POOLPILOT_PLATEAU_S: String(o.plateauS),
            POOLPILOT_WAIT_MIN: String(o.waitS?.[0] ?? 3),
            POOLPILOT_WAIT_MAX: String(o.waitS?.[1] ?? 5),
          },
        },
      );
      closeSync(locustLog);
      loadStart = Date.now();
      locust.once('exit', () => (loadStop ??= Date.now()));
      o.log(`[demo] load: Locust, ${o.users} users spawned at ${o.spawnRate}/s, ${o.plateauS}s plateau, then stop — against ${lab.vipUrl}`);
    }

    const samples: Sample[] = [];
    const served = new Map<string, number>();
    const seenDecisions = new Set<string>();
    let last: LocustRow = { users: 0, rps: 0, p95: 0, requests: 0, failures: 0 };
    let backAtMin: number | undefined;
    let status: AutoscalerStatus | undefined;
    for (;;) {
      checkAbort();
      const row = replay ? replay.read() : readLocustHistory(`${csvPrefix}_stats_history.csv`);
      if (row) last = row;
      if (replay?.stoppedAt) loadStop ??= replay.stoppedAt;
      const members = await ours().catch(() => []);
      for (const m of members) served.set(m.name, Math.max(served.get(m.name) ?? 0, m.totalSessions));
      status = await clusterStatus(client, spec.name).catch(() => status);
      const t = (Date.now() - loadStart) / 1000;
      const up = members.filter((m) => m.status === 'UP').length;
      const draining = members.filter((m) => m.status === 'DRAIN' || m.status === 'MAINT').length;
      // Members still being built: the running scale-out's own progress.
      let joining = 0;
      if (status?.phase === 'PENDING_SCALE_OUT' && status.currentOperation) {
        const p = await client.workflow.getHandle(status.currentOperation).query(progressQuery).catch(() => undefined);
        joining = p?.instances.filter((i) => !['joined', 'failed'].includes(i.step)).length ?? 0;
      }
      const users = loadStop ? 0 : last.users;
      samples.push({ t, users, rps: loadStop ? 0 : last.rps, p95: loadStop ? 0 : last.p95, members: up, failures: last.failures, requests: last.requests, phase: status?.phase ?? '?' });
      o.log(
        `${t.toFixed(0).padStart(4)}s ${replay ? `demand ${last.rps.toFixed(1).padStart(5)} req/s` : `users ${String(users).padStart(4)} | ${(loadStop ? 0 : last.rps).toFixed(0).padStart(4)} req/s | p95 ${String(loadStop ? 0 : last.p95).padStart(5)} ms`} | members up ${up} joining ${joining} draining ${draining} | ${status?.phase ?? '?'} | failed ${last.failures}`,
      );
      for (const d of status?.decisions ?? []) {
        const key = `${d.at}|${d.reason}`;
        if (seenDecisions.has(key)) continue;
        seenDecisions.add(key);
        if (Date.parse(d.at) >= loadStart - 1000 && d.action !== 'hold') o.log(`       decision: ${d.action} ${d.current}→${d.desired}: ${d.reason}${d.workflowId ? ` — ${uiLink(d.workflowId) ?? d.workflowId}` : ''}`);
      }
      if (loadStop && status && !status.currentOperation && status.queue.length === 0 && status.current === spec.min && up === spec.min) {
        backAtMin = Date.now();
        break;
      }
      if (loadStop && Date.now() - loadStop > o.settleS * 1000) {
        o.log(`[demo] the pool did not return to min ${spec.min} within ${o.settleS}s of the load stopping`);
        break;
      }
      await sleep(1000);
    }

    const report: ScenarioReport = {
      cluster: spec.name,
      startedAt: new Date(loadStart).toISOString(),
      users: o.users,
      spawnRate: o.spawnRate,
      plateauS: o.plateauS,
      samples,
      runs: (status?.runs ?? []).filter((r) => Date.parse(r.startedAt) >= loadStart - 1000),
      loadStopS: loadStop ? (loadStop - loadStart) / 1000 : undefined,
      backAtMinS: backAtMin && loadStop ? (backAtMin - loadStop) / 1000 : undefined,
      servedByMember: Object.fromEntries(served),
      min: spec.min,
      max: spec.max,
      reportDir,
      temporalUi: lab.temporalUi,
      ...(o.trace ? { replayed: `${path.basename(o.trace.file)}, ${o.trace.steps} steps from step ${o.trace.from}, ${o.trace.stepMs} ms each` } : {}),
    };
    const files = await renderReport(report);
    o.log(`[demo] report: ${files.summary}`);
    o.log(`[demo] chart:  ${files.chart}`);
    for (const line of files.text.split('\n')) o.log(`       ${line}`);
    writeFileSync(path.join(reportDir, 'decisions.json'), JSON.stringify(status?.decisions ?? [], null, 2));
    return report;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await cleanup(o.down || !!o.signal?.aborted);
    await client?.connection.close();
  }
}

export interface DemoOptions {
  /** Default: examples/web.yaml, or examples/openstack/web.yaml with the OpenStack cloud. */
  spec?: string;
  cloud: 'vsphere' | 'openstack';
  users: number;
  spawnRate: number;
  plateau: number;
  down: boolean;
}

/**
 * The OpenStack demo's demand: a weekday of the NASA trace from 04:00 to midnight (1,200 minutes), each minute
 * 300 ms, scaled so its daytime peak (about 117 requests a minute) needs seven members of 3 requests/s.
 */
export const OPENSTACK_DEMO_TRACE = {
  file: path.join(PROJECT_ROOT, 'examples', 'traces', 'nasa-http-1995.per-minute.csv'),
  from: 5 * 1440 + 4 * 60,
  steps: 1200,
  stepMs: 300,
  scale: 1 / 6,
};

export async function runDemo(values: DemoOptions): Promise<number> {
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log('\n[demo] Ctrl-C: stopping the load, the worker and the lab (running workflows finish or compensate on the next start)…');
    controller.abort();
  });
  try {
    const openstack = values.cloud === 'openstack';
    const report = await runScenario({
      specFile: values.spec ?? path.join(PROJECT_ROOT, 'examples', ...(openstack ? ['openstack', 'web.yaml'] : ['web.yaml'])),
      ...(openstack ? { lab: { openstack: OPENSTACK_DEV_PORTS }, trace: OPENSTACK_DEMO_TRACE } : {}),
      users: values.users,
      spawnRate: values.spawnRate,
      plateauS: values.plateau,
      settleS: 300,
      reportsDir: path.join(PROJECT_ROOT, '.data', 'reports'),
      log: (l) => console.log(l),
      down: values.down,
      signal: controller.signal,
    });
    if (!values.down) {
      console.log(`[demo] the lab is still up for a look at the runs: ${report.temporalUi}`);
      console.log('[demo] the cluster from the CLI: node bin/poolpilot.js --lab cluster status web — stop the lab with: node bin/poolpilot.js lab down');
    }
    return 0;
  } catch (err) {
    if (controller.signal.aborted) {
      console.log('[demo] stopped.');
      return 130;
    }
    throw err;
  }
}
