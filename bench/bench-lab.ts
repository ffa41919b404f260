// The benchmarks' own lab (ports and guest subnet apart from the dev lab and the test lab) and timing helpers.
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { endpoints, type LabConfigInput } from '../src/lab/state';
import { PROJECT_ROOT } from '../src/config/settings';
import { labUp } from '../src/lab/lab';
import { startSessionWorker, writeWorkflowBundle, type SessionWorker } from '../src/lab/session';
import { noMetricsSinks, WorkerMetrics } from '../src/telemetry/metrics';

export type Profile = 'dev' | 'production';

/** The profiles a benchmark compares, side by side in one run: BENCH_PROFILES=dev,production (default dev). */
export function benchProfiles(): Profile[] {
  const ps = (process.env.BENCH_PROFILES ?? 'dev').split(',').map((p) => p.trim());
  for (const p of ps) if (p !== 'dev' && p !== 'production') throw new Error(`BENCH_PROFILES: dev or production, not "${p}"`);
  return ps as Profile[];
}

export type Cloud = 'vsphere' | 'openstack';

/** The clouds a benchmark compares in one run: BENCH_CLOUDS=vsphere,openstack (default vsphere). */
export function benchClouds(): Cloud[] {
  const cs = (process.env.BENCH_CLOUDS ?? 'vsphere').split(',').map((c) => c.trim());
  for (const c of cs) if (c !== 'vsphere' && c !== 'openstack') throw new Error(`BENCH_CLOUDS: vsphere or openstack, not "${c}"`);
  return cs as Cloud[];
}

/** The bench lab's OpenStack ports (with BENCH_CLOUDS=openstack), apart from the dev lab's and the test lab's. */
export const BENCH_OPENSTACK_PORTS = { postgres: 35433, rabbit: 35672, epmd: 34369, keystone: 35000, placement: 38778, glance: 39292, neutron: 39696, nova: 38774, octavia: 39876, senlin: 38777 };

/** The bench lab of a profile: each on ports of its own, so both can be up at once. */
export function benchLabConfig(over: Partial<LabConfigInput> = {}): LabConfigInput {
  if (over.profile === 'production') {
    return {
      dataDir: path.join(PROJECT_ROOT, '.data', 'bench-lab-production'),
      ports: { temporal: 57233, temporalUi: 58233, vcsim: 58989, vip: 58080, haproxyStats: 58404, prometheus: 59090, metrics: 58710, api: 58700, postgres: 55432, temporalMembership: 26933 },
      guestSubnet: '127.0.14',
      guest: { bootDelayMs: 300, serviceTimeMs: 40, concurrency: 4 },
      ...over,
    };
  }
  return {
    dataDir: path.join(PROJECT_ROOT, '.data', 'bench-lab'),
    ports: { temporal: 27233, temporalUi: 28233, vcsim: 38989, vip: 38080, haproxyStats: 38404, prometheus: 39090, metrics: 38710, api: 38700 },
    guestSubnet: '127.0.12',
    guest: { bootDelayMs: 300, serviceTimeMs: 40, concurrency: 4 },
    ...over,
  };
}

/** The pids whose CPU is "Temporal's": the dev server, or the server and its PostgreSQL. */
export function temporalPids(state: { pids: Partial<Record<string, number>> }): number[] {
  return [state.pids.temporal, state.pids.postgres].filter((p): p is number => !!p);
}

/** A lab of the profile and an in-process worker with its metrics on (as a worker with POOLPILOT_METRICS_PORT). */
export async function benchSession(taskQueue: string, over: Partial<LabConfigInput> = {}): Promise<{ session: SessionWorker; lab: ReturnType<typeof endpoints>; metrics: WorkerMetrics }> {
  const state = await labUp(benchLabConfig(over), { log: (m) => console.error(`[bench-lab] ${m}`) });
  const lab = endpoints(state);
  const bundle = path.join(state.config.dataDir, 'workflow-bundle.js');
  await writeWorkflowBundle(bundle);
  process.env.POOLPILOT_LAB_DIR = state.config.dataDir;
  // BENCH_WORKER_OPTIONS (JSON) overrides worker options, to compare tunings.
  const tuning = process.env.BENCH_WORKER_OPTIONS ? (JSON.parse(process.env.BENCH_WORKER_OPTIONS) as Record<string, unknown>) : {};
  // BENCH_METRICS=off: a worker without /metrics (no sinks, no activity timing), to weigh what they cost.
  const metrics = new WorkerMetrics();
  const withMetrics = process.env.BENCH_METRICS !== 'off';
  const session = await startSessionWorker(lab, taskQueue, bundle, {
    maxConcurrentWorkflowTaskExecutions: 200,
    maxCachedWorkflows: 3000,
    ...(withMetrics ? { sinks: metrics.sinks(), interceptors: { activity: [() => ({ inbound: metrics.activityInterceptor() })] } } : { sinks: noMetricsSinks() }),
    ...tuning,
  });
  return { session, lab, metrics };
}

type Event = temporal.api.history.v1.IHistoryEvent;
const ms = (e: Event | undefined) => {
  const t = e?.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round(Number(t.nanos ?? 0) / 1e6) : NaN;
};

export interface RunTiming {
  wallMs: number;
  /** Sum of the activities' own run times (started → completed). */
  activityMs: number;
  activities: { type: string; ms: number }[];
}

/** Wall time of a run and the time spent inside its activities, from its history. */
export function timing(events: Event[]): RunTiming {
  const started = new Map<number, number>();
  const scheduled = new Map<number, string>();
  const activities: { type: string; ms: number }[] = [];
  for (const e of events) {
    const id = Number(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    if (e.activityTaskStartedEventAttributes) started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e));
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const sid = Number(done.scheduledEventId);
      activities.push({ type: scheduled.get(sid) ?? '?', ms: ms(e) - (started.get(sid) ?? ms(e)) });
    }
  }
  return { wallMs: ms(events[events.length - 1]) - ms(events[0]), activityMs: activities.reduce((a, b) => a + b.ms, 0), activities };
}

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Runs a benchmark's main and exits with its outcome (the worker and connections would keep the process alive). */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
}
