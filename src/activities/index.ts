// All of poolpilot's I/O as Temporal activities, built by a factory that closes over the real clients.
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ClusterSpec, LoadBalancerSpec } from '../config/spec';
import type { VmInfo } from './compute/provider';
import { computes } from './compute';
import { keystoneSessions } from './keystone';
import { cloudOfRequest, guestTimeoutOf, type CloudRef } from '../config/compute';
import { deadline, withCancellation } from './cancellation';
import type { CredentialResolver } from './credentials';
import { permanent } from './errors';
import { LoginGate } from './login-gate';
import { FAILED_LOGIN_INTERVAL_MS } from '../config/settings';
import { balancers } from './loadbalancer';
import type { PoolMember } from './loadbalancer/provider';
import { metricSource } from './metrics';
import { PrometheusSource } from './metrics/prometheus';
import { poolLabel } from '../config/balancer';
import type { MetricReading } from './metrics/source';
import { forecastSeries, type ForecastResult } from '../policy/forecast';

export interface ActivityDeps {
  credentials: CredentialResolver;
  logger: Logger;
  /** Refused logins, shared by every vSphere and controller client of this worker (default: one per 5 minutes). */
  loginGate?: LoginGate;
}

/** A member's server: the cloud (`compute`, or a bare `vsphere` from workflows started before clouds were pluggable). */
export interface VmRequest extends CloudRef {
  cluster: string;
  name: string;
}

export interface ListRequest extends CloudRef {
  cluster: string;
}

/** What a metric read needs of a spec. */
export type MetricsRequest = Pick<ClusterSpec, 'name' | 'metrics' | 'prometheus' | 'loadBalancer'>;

export interface ForecastRequest {
  prometheusUrl: string;
  /** The pool's total demand, in the metric's unit. */
  query: string;
  historyMs: number;
  stepMs: number;
  horizonMs: number;
}

export interface HookCall {
  url: string;
  timeoutMs: number;
  payload: { cluster: string; member: string; hook: string; transition: 'launch' | 'terminate'; ip?: string; op: number };
}

export interface MemberRequest {
  loadBalancer: LoadBalancerSpec;
  cluster: string;
  name: string;
}

/** Polls inside an activity: heartbeats each round, stops when the activity is cancelled. */
async function poll<T>(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const ctx = Context.current();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    ctx.heartbeat(what);
    if (Date.now() >= deadline) return undefined;
    await ctx.sleep(intervalMs);
  }
}

/**
 * Heartbeats every 2 s while `fn` runs, so Temporal notices a dead worker within the heartbeat timeout
 * even in calls that have no loop of their own (a clone on a busy vCenter can take minutes).
 */
function heartbeating<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const ctx = Context.current();
    // Every adapter call inside stops when Temporal cancels the activity.
    const run = () => withCancellation(ctx.cancellationSignal, () => fn(...args));
    // A local activity (the autoscaler's metric read) runs inside a workflow task and has no heartbeat.
    if (ctx.info.isLocal) return run();
    const timer = setInterval(() => ctx.heartbeat(), 2000);
    try {
      return await run();
    } finally {
      clearInterval(timer);
    }
  };
}

export function createActivities(deps: ActivityDeps) {
  const activities = buildActivities(deps);
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, heartbeating(fn as (...a: unknown[]) => Promise<unknown>)])) as typeof activities;
}

function buildActivities(deps: ActivityDeps) {
  const loginGate = deps.loginGate ?? new LoginGate(FAILED_LOGIN_INTERVAL_MS);
  const keystone = keystoneSessions(deps.credentials, loginGate);
  const clouds = computes(deps.credentials, keystone, loginGate);
  const compute = (req: VmRequest | ListRequest) => clouds(cloudOfRequest(req), req.cluster);

  const lb = balancers(deps.credentials, loginGate, keystone);
  const log = (cluster: string, vm?: string) => deps.logger.child({ cluster, ...(vm ? { vm } : {}) });

  return {
    async cloneVm(req: VmRequest): Promise<VmInfo & { adopted: boolean }> {
      const vm = await compute(req).cloneVm(req.name);
      log(req.cluster, req.name).info({ adopted: vm.adopted, id: vm.id }, vm.adopted ? 'adopted existing VM' : 'cloned VM');
      return vm;
    },

    async waitForGuestIp(req: VmRequest): Promise<VmInfo & { ip: string }> {
      const ctx = Context.current();
      const vm = await compute(req).waitForGuestIp(req.name, guestTimeoutOf(cloudOfRequest(req)), (info) => {
        ctx.heartbeat({ power: info?.powerState, tools: info?.toolsRunning });
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
      });
      log(req.cluster, req.name).info({ ip: vm.ip }, 'guest is up');
      return vm;
    },

    async powerOnVm(req: VmRequest): Promise<boolean> {
      return compute(req).powerOnVm(req.name);
    },

    async renameVm(req: VmRequest & { to: string }): Promise<'renamed' | 'done'> {
      const outcome = await compute(req).renameVm(req.name, req.to);
      log(req.cluster, req.name).info({ to: req.to, outcome }, 'renamed VM');
      return outcome;
    },

    async powerOffVm(req: VmRequest): Promise<boolean> {
      return compute(req).powerOffVm(req.name);
    },

    async destroyVm(req: VmRequest): Promise<boolean> {
      const gone = await compute(req).destroyVm(req.name);
      log(req.cluster, req.name).info({ existed: gone }, 'destroyed VM');
      return gone;
    },

    async listVms(req: ListRequest): Promise<VmInfo[]> {
      return compute(req).listVms(`${req.cluster}-`);
    },

    async addPoolMember(req: MemberRequest & { address: string }): Promise<string> {
      const { healthCheck: h } = req.loadBalancer;
      const outcome = await lb(req.loadBalancer).addMember(req.name, req.address, req.loadBalancer.memberPort, {
        intervalMs: h.interval,
        rise: h.rise,
        fall: h.fall,
      });
      log(req.cluster, req.name).info({ address: req.address, outcome }, 'pool member added');
      return outcome;
    },

    /**
     * Waits until the balancer's own health check passes for the member. A member the balancer lost meanwhile (a
     * restart or reload drops dynamic servers) is added again at `address` and waited for; without an address (calls
     * recorded before it was passed) the loss fails the attempt.
     */
    async waitPoolMemberHealthy(req: MemberRequest & { address?: string }): Promise<PoolMember> {
      const balancer = lb(req.loadBalancer);
      const { healthCheck: h } = req.loadBalancer;
      let last: PoolMember | undefined;
      const up = await poll(`health of ${req.name}`, h.timeout, balancer.pollIntervalMs, async () => {
        last = await balancer.getMember(req.name);
        if (!last && req.address) {
          await balancer.addMember(req.name, req.address, req.loadBalancer.memberPort, { intervalMs: h.interval, rise: h.rise, fall: h.fall });
          log(req.cluster, req.name).warn({ address: req.address }, `pool member was lost by ${poolLabel(req.loadBalancer)} while waiting for its health check: added again`);
          return undefined;
        }
        if (!last) throw new Error(`pool member ${req.name} is not in ${poolLabel(req.loadBalancer)}`);
        return last.status === 'UP' && last.checkPassed ? last : undefined;
      });
      if (!up) {
        throw permanent(
          'HealthTimeout',
          `pool member ${req.name} did not pass its health check within ${Math.round(req.loadBalancer.healthCheck.timeout / 1000)} s (status ${last?.status}, check ${last?.check ?? 'none'})`,
        );
      }
      return up;
    },

    async drainPoolMember(req: MemberRequest): Promise<boolean> {
      const found = await lb(req.loadBalancer).drainMember(req.name);
      log(req.cluster, req.name).info({ found }, 'draining pool member');
      return found;
    },

    /** Waits until the member has no open or queued sessions, or the grace period passes. */
    async waitForDrain(req: MemberRequest & { graceMs: number }): Promise<{ drained: boolean; sessions: number }> {
      const balancer = lb(req.loadBalancer);
      let sessions = 0;
      const drained = await poll(`drain of ${req.name}`, req.graceMs, Math.max(250, balancer.pollIntervalMs), async () => {
        const m = await balancer.getMember(req.name);
        sessions = m ? m.sessions + m.queued : 0;
        return sessions === 0 ? true : undefined;
      });
      return { drained: drained === true, sessions };
    },

    async removePoolMember(req: MemberRequest): Promise<boolean> {
      const existed = await lb(req.loadBalancer).removeMember(req.name);
      log(req.cluster, req.name).info({ existed }, 'pool member removed');
      return existed;
    },

    async listPoolMembers(req: { loadBalancer: LoadBalancerSpec }): Promise<PoolMember[]> {
      return lb(req.loadBalancer).listMembers();
    },

    /**
     * Forecasts the pool's demand from its Prometheus history: each step's busiest minute of `query`
     * (`max_over_time`), `history` back, then the seasonal forecaster. A failed query is a reason, never an exception.
     */
    async forecastDemand(req: ForecastRequest): Promise<ForecastResult> {
      const end = Math.floor(Date.now() / req.stepMs) * req.stepMs;
      const peakQuery = `max_over_time((${req.query})[${Math.round(req.stepMs / 1000)}s:1m])`;
      let points: [number, number][];
      try {
        points = await new PrometheusSource(req.prometheusUrl, 30_000).rangeQuery(peakQuery, end - req.historyMs, end, req.stepMs);
      } catch (err) {
        return { ok: false, reason: `the history query failed: ${(err as Error).message}` };
      }
      // Gaps (a Prometheus restart) hold the last value, so the grid stays regular.
      const start = points[0]![0];
      const values: number[] = [];
      for (const [t, v] of points) {
        while (start + values.length * req.stepMs < t) values.push(values[values.length - 1] ?? v);
        values.push(v);
      }
      return forecastSeries({ startMs: start, stepMs: req.stepMs, values }, { horizonMs: req.horizonMs });
    },

    /**
     * A lifecycle hook's HTTP call: POSTs the member's details and returns the answer (2xx: CONTINUE unless the JSON
     * body says {"result": "ABANDON"}). A refused connection or a 5xx is retried by Temporal until the hook's timeout.
     */
    async callLifecycleHook(req: HookCall): Promise<'CONTINUE' | 'ABANDON'> {
      const started = Date.now();
      let res: Response;
      try {
        res = await fetch(req.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.payload), signal: deadline(req.timeoutMs) });
      } catch (err) {
        throw new Error(`lifecycle hook ${req.payload.hook} at ${req.url} did not answer: ${(err as Error).message}`, { cause: err });
      }
      const text = await res.text();
      log(req.payload.cluster, req.payload.member).info({ hook: req.payload.hook, status: res.status, ms: Date.now() - started }, 'lifecycle hook answered');
      if (res.status >= 500) throw new Error(`lifecycle hook ${req.payload.hook} at ${req.url} answered HTTP ${res.status}`);
      if (res.status >= 400) return 'ABANDON';
      try {
        return (JSON.parse(text) as { result?: string }).result === 'ABANDON' ? 'ABANDON' : 'CONTINUE';
      } catch {
        return 'CONTINUE';
      }
    },

    /** Reads every metric of the spec; a failure is a reading with an error, never an exception. */
    async readMetrics(req: { spec: MetricsRequest }): Promise<Record<string, MetricReading>> {
      const { spec } = req;
      const out: Record<string, MetricReading> = {};
      await Promise.all(
        spec.metrics.map(async (m) => {
          try {
            const source = metricSource(m, { cluster: spec.name, prometheusUrl: spec.prometheus?.url, balancer: () => lb(spec.loadBalancer) });
            out[m.name] = { value: await source.read(m) };
          } catch (err) {
            out[m.name] = { error: (err as Error).message };
          }
        }),
      );
      return out;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
