// poolpilot's own Prometheus metrics (prom-client): the worker's (clusters, runs, steps, decisions, polls, metric
// reads) and the API's (requests by route and status). Names are listed in docs/production.md and used by
// deploy/prometheus/poolpilot-rules.yml and deploy/grafana/poolpilot.json.
import { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, InjectedSinks, Next } from '@temporalio/worker';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterGauge, PoolpilotSinks } from '../workflows/metrics-sink';

/** Which step of a run each activity is; activities not named here are timed as "other". */
export const ACTIVITY_STEPS: Record<string, string> = {
  cloneVm: 'clone',
  powerOnVm: 'clone',
  renameVm: 'clone',
  waitForGuestIp: 'guest',
  addPoolMember: 'join',
  waitPoolMemberHealthy: 'join',
  drainPoolMember: 'drain',
  waitForDrain: 'drain',
  removePoolMember: 'remove',
  powerOffVm: 'destroy',
  destroyVm: 'destroy',
  releaseVm: 'destroy',
  readMetrics: 'metrics',
  forecastDemand: 'forecast',
  callLifecycleHook: 'hook',
  listVms: 'inventory',
  listPoolMembers: 'inventory',
};

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

const RUN_KINDS = ['scale-out', 'scale-in'] as const;

function registry(prefixDefaults: boolean): Registry {
  const r = new Registry();
  if (prefixDefaults) collectDefaultMetrics({ register: r, prefix: 'poolpilot_' });
  return r;
}

/** A worker's metrics. Cluster gauges of a cluster this worker stopped hearing from (its workflow moved to another
 * worker, or ended) are dropped after `staleMs`, so two workers never both report a cluster's size for long. */
export class WorkerMetrics {
  readonly registry = registry(true);
  private readonly seen = new Map<string, { at: number; phase: string; metrics: string[] }>();

  readonly members = new Gauge({ name: 'poolpilot_cluster_members', help: 'Members of a cluster: current, desired (after queued work), and the min / max in force', labelNames: ['cluster', 'kind'], registers: [this.registry] });
  readonly phase = new Gauge({ name: 'poolpilot_cluster_phase', help: "1 for the cluster's current phase (ACTIVE, PENDING_SCALE_OUT, PENDING_SCALE_IN, PAUSED, ERROR)", labelNames: ['cluster', 'phase'], registers: [this.registry] });
  readonly paused = new Gauge({ name: 'poolpilot_cluster_paused', help: '1 when automatic decisions are paused', labelNames: ['cluster'], registers: [this.registry] });
  readonly suspended = new Gauge({ name: 'poolpilot_cluster_scaling_suspended', help: '1 while a direction (scale-out, scale-in) is suspended by a fault no retry mends: credentials, a missing template…', labelNames: ['cluster', 'kind'], registers: [this.registry] });
  readonly metricUp = new Gauge({ name: 'poolpilot_metric_up', help: "1 when the cluster's last read of this metric gave a value, 0 when it failed", labelNames: ['cluster', 'metric'], registers: [this.registry] });
  readonly lastUpdate = new Gauge({ name: 'poolpilot_cluster_last_poll_timestamp_seconds', help: "When this worker last reported the cluster (on every change, and once a minute while it runs the cluster's loop)", labelNames: ['cluster'], registers: [this.registry] });
  readonly runs = new Counter({ name: 'poolpilot_scaling_runs_total', help: 'Scaling runs ended, by cluster, kind and outcome (succeeded, partial, failed)', labelNames: ['cluster', 'kind', 'outcome'], registers: [this.registry] });
  readonly runSeconds = new Histogram({ name: 'poolpilot_scaling_run_duration_seconds', help: 'Duration of scaling runs', labelNames: ['kind', 'outcome'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly stepSeconds = new Histogram({ name: 'poolpilot_step_duration_seconds', help: 'Duration of one attempt of a run step (clone, guest, join, drain, remove, destroy...)', labelNames: ['step', 'activity', 'outcome'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly decisions = new Counter({ name: 'poolpilot_decisions_total', help: 'Decisions logged, by cluster, action and source', labelNames: ['cluster', 'action', 'source'], registers: [this.registry] });
  readonly pollLag = new Histogram({ name: 'poolpilot_poll_lag_seconds', help: 'How late a scheduled poll ran (worker and Temporal delay)', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: [this.registry] });
  readonly readFailures = new Counter({ name: 'poolpilot_metric_read_failures_total', help: 'Failed metric reads, by cluster and metric', labelNames: ['cluster', 'metric'], registers: [this.registry] });

  constructor(private readonly staleMs = 10 * 60_000) {}

  cluster(g: ClusterGauge, now = Date.now()): void {
    const before = this.seen.get(g.cluster);
    if (before && before.phase !== g.phase) this.phase.remove({ cluster: g.cluster, phase: before.phase });
    for (const m of before?.metrics ?? []) if (!(m in g.metricsUp)) this.metricUp.remove({ cluster: g.cluster, metric: m });
    this.seen.set(g.cluster, { at: now, phase: g.phase, metrics: Object.keys(g.metricsUp) });
    for (const kind of ['current', 'desired', 'min', 'max'] as const) this.members.set({ cluster: g.cluster, kind }, g[kind]);
    this.phase.set({ cluster: g.cluster, phase: g.phase }, 1);
    this.paused.set({ cluster: g.cluster }, g.paused ? 1 : 0);
    for (const kind of RUN_KINDS) this.suspended.set({ cluster: g.cluster, kind }, g.suspended?.includes(kind) ? 1 : 0);
    for (const [metric, up] of Object.entries(g.metricsUp)) this.metricUp.set({ cluster: g.cluster, metric }, up ? 1 : 0);
    this.lastUpdate.set({ cluster: g.cluster }, now / 1000);
  }

  /** Forgets the gauges of clusters not heard from within staleMs (counters stay: they only ever grow). */
  dropStale(now = Date.now()): void {
    for (const [cluster, v] of this.seen) {
      if (now - v.at < this.staleMs) continue;
      this.seen.delete(cluster);
      for (const kind of ['current', 'desired', 'min', 'max']) this.members.remove({ cluster, kind });
      this.phase.remove({ cluster, phase: v.phase });
      for (const metric of v.metrics) this.metricUp.remove({ cluster, metric });
      this.paused.remove({ cluster });
      for (const kind of RUN_KINDS) this.suspended.remove({ cluster, kind });
      this.lastUpdate.remove({ cluster });
    }
  }

  /** The sinks the worker injects: what the workflows report (see src/workflows/metrics-sink.ts). */
  sinks(): InjectedSinks<PoolpilotSinks> {
    return {
      poolpilot: {
        cluster: { fn: (_info, g) => this.cluster(g) },
        poll: { fn: (_info, _cluster, lagMs) => this.pollLag.observe(lagMs / 1000) },
        decision: { fn: (_info, cluster, action, source) => this.decisions.inc({ cluster, action, source }) },
        metricReadFailed: { fn: (_info, cluster, metric) => this.readFailures.inc({ cluster, metric }) },
        runEnded: {
          fn: (_info, cluster, kind, outcome, seconds) => {
            this.runs.inc({ cluster, kind, outcome });
            this.runSeconds.observe({ kind, outcome }, seconds);
          },
        },
      },
    };
  }

  /** Times every activity attempt as the step it belongs to. */
  activityInterceptor(): ActivityInboundCallsInterceptor {
    const hist = this.stepSeconds;
    return {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const { activityType } = Context.current().info;
        const started = performance.now();
        let outcome = 'failed';
        try {
          const r = await next(input);
          outcome = 'succeeded';
          return r;
        } finally {
          hist.observe({ step: ACTIVITY_STEPS[activityType] ?? 'other', activity: activityType, outcome }, (performance.now() - started) / 1000);
        }
      },
    };
  }
}

/** Sinks that drop what the workflows report: a worker without /metrics (an unregistered sink is logged as an error). */
export function noMetricsSinks(): InjectedSinks<PoolpilotSinks> {
  const drop = { fn: () => undefined };
  return { poolpilot: { cluster: drop, poll: drop, decision: drop, metricReadFailed: drop, runEnded: drop } };
}

/** The API's metrics: requests by route (the route's pattern, not the URL) and status. */
export class ApiMetrics {
  readonly registry = registry(true);
  readonly requests = new Counter({ name: 'poolpilot_api_requests_total', help: 'API requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });

  request(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }
}

/** The exposition text of `registry`, followed by the text of `extra` (the Temporal SDK's own metrics), if any. */
export async function exposition(registry: Registry, extra?: () => Promise<string>): Promise<string> {
  const own = await registry.metrics();
  if (!extra) return own;
  try {
    return `${own}\n${await extra()}`;
  } catch (err) {
    return `${own}\n# the Temporal SDK's metrics could not be read: ${(err as Error).message.replace(/\n/g, ' ')}\n`;
  }
}

/** A fastify handler serving `registry` (and `extra`) in the Prometheus text format; `before` runs first. */
export function metricsHandler(registry: Registry, extra?: () => Promise<string>, before?: () => void) {
  return async (_req: unknown, reply: { header(k: string, v: string): unknown }) => {
    before?.();
    reply.header('content-type', registry.contentType);
    return exposition(registry, extra);
  };
}
