// The autoscaler: one long-running workflow per cluster. Adopt → loop { read metrics → decide → act → record → sleep }.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  log,
  ParentClosePolicy,
  patched,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { CLUSTER_KEY, OPERATION_KEY } from '../config/search-attributes';
import type * as SpecModule from '../config/spec';
import { cooldownRemaining, decide, initialPolicyState, type MetricReading, type PolicyState } from '../policy/engine';
import { joinInventory, type Member } from '../policy/inventory';
import { nextPollAt, pollPhase } from '../policy/schedule';
import { scaleIn, type ScaleInResult } from './scale-in';
import { scaleOut, type ScaleOutResult } from './scale-out';
import type { Activities } from '../activities';
import { activitiesFor, describeFailure } from './shared';

type ClusterSpec = SpecModule.ClusterSpec;

export type Phase = 'ACTIVE' | 'PENDING_SCALE_OUT' | 'PENDING_SCALE_IN' | 'PAUSED' | 'ERROR';
export type RequestKind = 'scale-out' | 'scale-in' | 'set-desired';

export interface ManualRequest {
  kind: RequestKind;
  n: number;
  /** Where it came from: cli, api, alertmanager, webhook, signal. */
  source: string;
  at: number;
}

export interface DecisionRecord {
  at: string;
  current: number;
  desired: number;
  action: string;
  reason: string;
  source: 'policy' | 'manual' | 'bounds' | 'reconcile';
  workflowId?: string;
}

export interface RunRecord {
  workflowId: string;
  kind: 'scale-out' | 'scale-in';
  count: number;
  startedAt: string;
  endedAt?: string;
  outcome?: string;
}

export interface PollRecord {
  /** Epoch ms the poll was scheduled for. */
  dueAt: number;
  /** How much later the reading arrived (ms): the worker's and Temporal's delay. */
  lagMs: number;
}

export interface MemberStatus {
  name: string;
  ip?: string;
  power: string;
  pool: string;
  sessions: number;
}

export interface AutoscalerState {
  spec: ClusterSpec;
  opCounter: number;
  paused: boolean;
  initialized: boolean;
  policy: PolicyState;
  queue: ManualRequest[];
  decisions: DecisionRecord[];
  runs: RunRecord[];
  members: MemberStatus[];
  readings: Record<string, MetricReading & { at: string; failingSince?: string }>;
  lastReconcileAt: number;
  lastError?: string;
  iterations: number;
  /** The last polls on schedule: when each was due and how late its reading arrived, newest last. */
  polls?: PollRecord[];
  /** Options of the deployment, not the cluster. */
  searchAttributes: boolean;
}

export interface AutoscalerInput {
  spec: ClusterSpec;
  /** Set when continuing as new. */
  state?: AutoscalerState;
  /** Register PoolpilotCluster/PoolpilotOperation on child runs (the server must know these keys). */
  searchAttributes?: boolean;
  /** The highest op number already used by this cluster's VMs, so new names never collide. */
  opFloor?: number;
}

export interface AutoscalerStatus {
  cluster: string;
  phase: Phase;
  min: number;
  max: number;
  current: number;
  desired: number;
  paused: boolean;
  members: MemberStatus[];
  metrics: AutoscalerState['readings'];
  cooldown: { scaleOutMs: number; scaleInMs: number };
  decisions: DecisionRecord[];
  currentOperation: string | null;
  queue: ManualRequest[];
  runs: RunRecord[];
  lastError: string | null;
  iterations: number;
  recentPolls: PollRecord[];
  runId: string;
}

export interface RequestAccepted {
  accepted: true;
  kind: RequestKind;
  n: number;
  /** Members the cluster will have once every queued request has run. */
  projected: number;
  /** Requests ahead of this one. */
  position: number;
}

export interface DeleteRequest {
  scaleToZero: boolean;
}

export const statusQuery = defineQuery<AutoscalerStatus>('status');
export const specQuery = defineQuery<ClusterSpec>('spec');
export const scaleOutSignal = defineSignal<[number]>('scaleOut');
export const scaleInSignal = defineSignal<[number]>('scaleIn');
export const setDesiredSignal = defineSignal<[number]>('setDesired');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const requestUpdate = defineUpdate<RequestAccepted, [{ kind: RequestKind; n: number; source?: string }]>('request');
export const pauseUpdate = defineUpdate<{ paused: boolean }, [boolean]>('setPaused');
export const applySpecUpdate = defineUpdate<{ applied: true; changed: string[] }, [unknown]>('applySpec');
export const deleteUpdate = defineUpdate<{ deleting: true; members: number }, [DeleteRequest]>('delete');

const MAX_RUNS = 50;

/**
 * The spec schema, loaded when a live spec is first applied. The worker evaluates a workflow's modules once per
 * workflow instance, and building the zod schemas costs several milliseconds each time: with a thousand clusters
 * that is seconds of worker time at every start or cache refill, for a validator most autoscalers never call.
 */
let specModule: typeof SpecModule | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const specSchema = (): typeof SpecModule => (specModule ??= require('../config/spec') as typeof SpecModule);
const readMetricsLocally = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: 1000, maximumAttempts: 2 },
});

export async function autoscaler(input: AutoscalerInput): Promise<{ deleted: true; scaledToZero: boolean }> {
  const s: AutoscalerState = input.state ?? {
    spec: input.spec,
    opCounter: (input.opFloor ?? 0) + 1,
    paused: false,
    initialized: false,
    policy: initialPolicyState(),
    queue: [],
    decisions: [],
    runs: [],
    members: [],
    readings: {},
    lastReconcileAt: 0,
    iterations: 0,
    searchAttributes: input.searchAttributes ?? true,
  };
  const cluster = s.spec.name;
  let current: RunRecord | undefined;
  let deleting: DeleteRequest | undefined;
  let wake = false;
  let iterationsThisRun = 0;
  /** When the poll that a timed-out sleep leads to was due. */
  let pollDueAt: number | undefined;

  const memberCount = () => s.members.filter((m) => m.power !== 'no VM').length;
  /** Members once every queued request has run. */
  const projected = () =>
    s.queue.reduce((n, r) => (r.kind === 'scale-out' ? n + r.n : r.kind === 'scale-in' ? n - r.n : r.n), memberCount());
  const record = (d: Omit<DecisionRecord, 'at'>) => {
    s.decisions.push({ at: new Date().toISOString(), ...d });
    if (s.decisions.length > s.spec.autoscaling.decisionLog) s.decisions.splice(0, s.decisions.length - s.spec.autoscaling.decisionLog);
    log.info('decision', { cluster, ...d });
  };

  // ---- manual control -------------------------------------------------------------------------
  const validateRequest = (kind: RequestKind, n: unknown): void => {
    if (deleting) throw new Error(`cluster ${cluster} is being deleted`);
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`${kind} needs a whole number, not ${JSON.stringify(n)}`);
    const p = projected();
    const { min, max } = s.spec;
    if (kind === 'set-desired') {
      if (n < min || n > max) throw new Error(`desired ${n} is outside [min ${min}, max ${max}] of cluster ${cluster}`);
      return;
    }
    if (n < 1) throw new Error(`${kind} needs a count of at least 1, not ${n}`);
    if (kind === 'scale-out' && p + n > max) throw new Error(`scale-out by ${n} would make ${p + n} members, above max ${max} of cluster ${cluster} (${p} after queued requests)`);
    if (kind === 'scale-in' && p - n < min) throw new Error(`scale-in by ${n} would leave ${p - n} members, below min ${min} of cluster ${cluster} (${p} after queued requests)`);
  };
  const enqueue = (kind: RequestKind, n: number, source: string): RequestAccepted => {
    const position = s.queue.length + (current ? 1 : 0);
    s.queue.push({ kind, n, source, at: Date.now() });
    wake = true;
    return { accepted: true, kind, n, projected: projected(), position };
  };
  const signalRequest = (kind: RequestKind) => (n: number) => {
    try {
      validateRequest(kind, n);
      enqueue(kind, n, 'signal');
    } catch (err) {
      // A signal cannot be refused; it is recorded as rejected so the operator sees why nothing happened.
      record({ current: memberCount(), desired: memberCount(), action: 'rejected', reason: `${kind} ${n} by signal rejected: ${(err as Error).message}`, source: 'manual' });
    }
  };
  setHandler(scaleOutSignal, signalRequest('scale-out'));
  setHandler(scaleInSignal, signalRequest('scale-in'));
  setHandler(setDesiredSignal, signalRequest('set-desired'));
  setHandler(pauseSignal, () => void ((s.paused = true), (wake = true)));
  setHandler(resumeSignal, () => void ((s.paused = false), (wake = true)));
  setHandler(requestUpdate, (req) => enqueue(req.kind, req.n, req.source ?? 'update'), {
    validator: (req) => {
      if (!req || !['scale-out', 'scale-in', 'set-desired'].includes(req.kind)) throw new Error(`unknown request kind ${JSON.stringify(req?.kind)}`);
      validateRequest(req.kind, req.n);
    },
  });
  setHandler(pauseUpdate, (paused) => {
    s.paused = paused;
    wake = true;
    return { paused };
  });
  setHandler(
    applySpecUpdate,
    (raw) => {
      const next = specSchema().clusterSpecSchema.parse(raw);
      const changed = Object.keys(next).filter((k) => JSON.stringify(next[k as keyof ClusterSpec]) !== JSON.stringify(s.spec[k as keyof ClusterSpec]));
      s.spec = next;
      wake = true;
      record({ current: memberCount(), desired: memberCount(), action: 'spec', reason: `spec applied; changed: ${changed.join(', ') || 'nothing'}`, source: 'manual' });
      return { applied: true as const, changed };
    },
    {
      validator: (raw) => {
        const { clusterSpecSchema, formatIssues } = specSchema();
        const r = clusterSpecSchema.safeParse(raw);
        if (!r.success) throw new Error(`invalid cluster spec:\n  - ${formatIssues(r.error.issues).join('\n  - ')}`);
        if (r.data.name !== cluster) throw new Error(`spec is for cluster "${r.data.name}", but this autoscaler runs "${cluster}"`);
      },
    },
  );
  setHandler(deleteUpdate, (req) => {
    deleting = { scaleToZero: !!req?.scaleToZero };
    wake = true;
    return { deleting: true as const, members: memberCount() };
  });
  setHandler(specQuery, () => s.spec);
  setHandler(statusQuery, (): AutoscalerStatus => {
    const phase: Phase = current
      ? current.kind === 'scale-out'
        ? 'PENDING_SCALE_OUT'
        : 'PENDING_SCALE_IN'
      : s.lastError
        ? 'ERROR'
        : s.paused
          ? 'PAUSED'
          : 'ACTIVE';
    const cd = cooldownRemaining(s.policy, s.spec.autoscaling, Date.now());
    return {
      cluster,
      phase,
      min: s.spec.min,
      max: s.spec.max,
      current: memberCount(),
      desired: projected(),
      paused: s.paused,
      members: s.members,
      metrics: s.readings,
      cooldown: { scaleOutMs: cd.scaleOut, scaleInMs: cd.scaleIn },
      decisions: s.decisions,
      currentOperation: current?.workflowId ?? null,
      queue: s.queue,
      runs: s.runs,
      lastError: s.lastError ?? null,
      iterations: s.iterations,
      recentPolls: s.polls ?? [],
      runId: workflowInfo().runId,
    };
  });

  // ---- the world ------------------------------------------------------------------------------
  /** Reads vSphere and the balancer, repairs what differs, and refreshes `s.members`. */
  const reconcile = async (): Promise<Member[]> => {
    const spec = s.spec;
    const a = activitiesFor(spec).quick;
    const [vms, pool] = await Promise.all([a.listVms({ vsphere: spec.vsphere, cluster }), a.listPoolMembers({ loadBalancer: spec.loadBalancer })]);
    const members = joinInventory(cluster, vms, pool);
    // A half-built VM older than a scale-out could take was left by a run that died: it is removed.
    const stale = spec.vsphere.guestTimeout + spec.loadBalancer.healthCheck.timeout + 120_000;
    for (const m of members) {
      const req = { cluster, name: m.name };
      if (m.vm && !m.pool && m.vm.powerState === 'poweredOn' && m.vm.toolsRunning && m.vm.ip) {
        // The balancer lost it (a reload drops dynamic servers): register it again.
        await a.addPoolMember({ ...req, loadBalancer: spec.loadBalancer, address: m.vm.ip });
        m.pool = { name: m.name, address: m.vm.ip, status: 'CHECKING', sessions: 0 };
        record({ current: members.length, desired: members.length, action: 'reconcile', reason: `${m.name} (${m.vm.ip}) was missing from backend ${spec.loadBalancer.backend}: added again`, source: 'reconcile' });
      } else if (!m.vm && m.pool) {
        await a.removePoolMember({ ...req, loadBalancer: spec.loadBalancer });
        record({ current: members.length, desired: members.length, action: 'reconcile', reason: `pool member ${m.name} has no VM: removed from the pool`, source: 'reconcile' });
        m.pool = undefined;
      } else if (m.vm && !m.pool && (!m.vm.createdAt || Date.now() - Date.parse(m.vm.createdAt) > stale)) {
        await a.destroyVm({ ...req, vsphere: spec.vsphere });
        record({ current: members.length, desired: members.length, action: 'reconcile', reason: `VM ${m.name} never joined the pool (${m.vm.powerState}, ${m.vm.ip ?? 'no IP'}): destroyed`, source: 'reconcile' });
        m.vm = undefined;
      }
    }
    const live = members.filter((m) => m.vm || m.pool);
    s.members = live.map((m) => ({
      name: m.name,
      ip: m.vm?.ip ?? m.pool?.address,
      power: m.vm?.powerState ?? 'no VM',
      pool: m.pool?.status ?? 'not in pool',
      sessions: m.pool?.sessions ?? 0,
    }));
    // Op numbers continue above anything found, so a derived name is never reused while its VM exists.
    const highest = Math.max(0, ...live.map((m) => m.op));
    if (highest >= s.opCounter) s.opCounter = highest + 1;
    s.lastReconcileAt = Date.now();
    return live;
  };

  const runOperation = async (kind: 'scale-out' | 'scale-in', count: number, source: DecisionRecord['source'], reason: string): Promise<void> => {
    const op = s.opCounter++;
    const workflowId = `${kind}:${cluster}:${op}`;
    const before = memberCount();
    current = { workflowId, kind, count, startedAt: new Date().toISOString() };
    s.runs.push(current);
    if (s.runs.length > MAX_RUNS) s.runs.splice(0, s.runs.length - MAX_RUNS);
    record({ current: before, desired: kind === 'scale-out' ? before + count : before - count, action: kind, reason, source, workflowId });
    const common = {
      workflowId,
      taskQueue: workflowInfo().taskQueue,
      // If the autoscaler is terminated, a running scale-out is cancelled and undoes itself.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `${kind} ${cluster} by ${count} (op ${op}): ${reason}`.slice(0, 190),
      typedSearchAttributes: s.searchAttributes
        ? [
            { key: CLUSTER_KEY, value: cluster },
            { key: OPERATION_KEY, value: kind },
          ]
        : undefined,
    };
    try {
      if (kind === 'scale-out') {
        const r: ScaleOutResult = await executeChild(scaleOut, { ...common, args: [{ spec: s.spec, op, count }] });
        current.outcome = `${r.joined.length} joined${r.failed.length ? `, ${r.failed.length} failed: ${r.failed.map((f) => `${f.name}: ${f.error}`).join('; ')}` : ''}`;
      } else {
        const r: ScaleInResult = await executeChild(scaleIn, { ...common, args: [{ spec: s.spec, op, count }] });
        current.outcome = `${r.removed.length} removed${r.failed.length ? `, ${r.failed.length} failed: ${r.failed.map((f) => `${f.name}: ${f.error}`).join('; ')}` : ''}`;
      }
      s.lastError = undefined;
    } catch (err) {
      current.outcome = `failed: ${describeFailure(err)}`;
      s.lastError = `${workflowId} ${current.outcome}`;
      log.error('scaling run failed', { cluster, op, workflowId, error: current.outcome });
    } finally {
      current.endedAt = new Date().toISOString();
      current = undefined;
      s.policy.lastActionEnd = Date.now();
    }
    await reconcile().catch((err: unknown) => (s.lastError = `reconcile failed: ${describeFailure(err)}`));
  };

  /** Brings the pool to `target` (already within bounds) in one run. */
  const moveTo = (target: number, source: DecisionRecord['source'], reason: string) => {
    const n = memberCount();
    if (target > n) return runOperation('scale-out', target - n, source, reason);
    if (target < n) return runOperation('scale-in', n - target, source, reason);
    return Promise.resolve();
  };

  const readMetrics = async (): Promise<Record<string, MetricReading>> => {
    if (s.spec.metrics.length === 0) return {};
    let readings: Record<string, MetricReading>;
    try {
      // A local activity: a metric read is short and idempotent, and polls are this workflow's most frequent
      // step, so it runs inside the workflow task instead of a round trip through the task queue.
      // Histories from before the change keep the old path (patched).
      readings = patched('local-metric-reads')
        ? await readMetricsLocally.readMetrics({ spec: { name: cluster, metrics: s.spec.metrics, prometheus: s.spec.prometheus, loadBalancer: s.spec.loadBalancer } })
        : await activitiesFor(s.spec).quick.readMetrics({ spec: s.spec });
    } catch (err) {
      const error = `metric read failed: ${describeFailure(err)}`;
      readings = Object.fromEntries(s.spec.metrics.map((m) => [m.name, { error }]));
    }
    const at = new Date().toISOString();
    const previous = s.readings;
    s.readings = {};
    for (const m of s.spec.metrics) {
      const r = readings[m.name] ?? { error: 'no reading' };
      s.readings[m.name] = { ...r, at, ...(r.error ? { failingSince: previous[m.name]?.failingSince ?? at } : {}) };
    }
    return readings;
  };

  // ---- the loop -------------------------------------------------------------------------------
  if (!s.initialized) {
    await reconcile().catch((err: unknown) => (s.lastError = `reconcile failed: ${describeFailure(err)}`));
    const n = memberCount();
    const initial = Math.min(Math.max(s.spec.initial ?? s.spec.min, s.spec.min), s.spec.max);
    const target = n > s.spec.max ? s.spec.max : n < initial ? initial : n;
    record({ current: n, desired: target, action: 'adopt', reason: `adopted ${n} member(s) of cluster ${cluster}; initial capacity ${initial} within [${s.spec.min}, ${s.spec.max}] → ${target}`, source: 'bounds' });
    s.initialized = true;
    await moveTo(target, 'bounds', `initial capacity ${target}`);
  }

  // The wake flag is cleared as each iteration starts, so a request, pause or delete that arrives while the
  // iteration awaits (a metric read, a scaling run) ends the sleep below at once instead of waiting for the next
  // poll. Runs begun before this change cleared it just before sleeping, and keep doing so when replayed.
  const clearWakeEarly = patched('wake-cleared-at-iteration-start');
  for (;;) {
    if (clearWakeEarly) wake = false;
    if (deleting) {
      if (deleting.scaleToZero && memberCount() > 0) {
        await runOperation('scale-in', memberCount(), 'manual', `cluster ${cluster} deleted with scale-to-zero`);
      }
      await condition(allHandlersFinished);
      log.info('autoscaler deleted', { cluster, scaleToZero: deleting.scaleToZero, membersLeft: memberCount() });
      return { deleted: true, scaledToZero: deleting.scaleToZero };
    }

    const req = s.queue[0];
    if (req) {
      pollDueAt = undefined;
      const n = memberCount();
      const { min, max } = s.spec;
      const target = req.kind === 'scale-out' ? n + req.n : req.kind === 'scale-in' ? n - req.n : req.n;
      const bounded = Math.min(Math.max(target, min), max);
      const why = `${req.kind} ${req.n} requested by ${req.source}${bounded !== target ? `, bounded to [${min}, ${max}] → ${bounded}` : ''}`;
      await moveTo(bounded, 'manual', why);
      // Removed only once it ran: a request is never lost, and never run twice across continue-as-new.
      s.queue.shift();
      continue;
    }

    if (Date.now() - s.lastReconcileAt >= s.spec.autoscaling.reconcileInterval) {
      await reconcile().catch((err: unknown) => (s.lastError = `reconcile failed: ${describeFailure(err)}`));
    }

    const n = memberCount();
    if (n < s.spec.min || n > s.spec.max) {
      pollDueAt = undefined;
      const target = Math.min(Math.max(n, s.spec.min), s.spec.max);
      await moveTo(target, 'bounds', `${n} member(s) is outside [min ${s.spec.min}, max ${s.spec.max}] → ${target}`);
      continue;
    }

    const readings = await readMetrics();
    if (pollDueAt !== undefined) {
      s.polls = [...(s.polls ?? []), { dueAt: pollDueAt, lagMs: Math.max(0, Date.now() - pollDueAt) }].slice(-20);
      pollDueAt = undefined;
    }
    if (!s.paused && s.spec.metrics.length > 0) {
      const d = decide({ now: Date.now(), current: n, min: s.spec.min, max: s.spec.max, metrics: s.spec.metrics, autoscaling: s.spec.autoscaling, readings, state: s.policy });
      s.policy = d.state;
      if (d.action === 'none') {
        // Only changes are logged, so a quiet cluster keeps a readable decision log.
        const last = s.decisions[s.decisions.length - 1];
        const shape = (r: string) => r.replace(/[\d.]+/g, '#');
        if (!last || last.action !== 'hold' || shape(last.reason) !== shape(d.reason)) record({ current: n, desired: d.desired, action: 'hold', reason: d.reason, source: 'policy' });
      } else {
        await moveTo(d.desired, 'policy', d.reason);
      }
    }

    s.iterations++;
    iterationsThisRun++;
    if (workflowInfo().continueAsNewSuggested || iterationsThisRun >= s.spec.autoscaling.continueAsNewAfter) {
      await condition(allHandlersFinished);
      if (!deleting && s.queue.length === 0) {
        log.info('continuing as new', { cluster, iterations: s.iterations, historyLength: workflowInfo().historyLength });
        await continueAsNew<typeof autoscaler>({ spec: s.spec, state: s, searchAttributes: s.searchAttributes });
      }
    }
    if (!clearWakeEarly) wake = false;
    const interval = s.spec.autoscaling.pollInterval;
    const dueAt = nextPollAt(Date.now(), interval, pollPhase(cluster, interval));
    const woken = await condition(() => wake, dueAt - Date.now());
    if (!woken) pollDueAt = dueAt;
  }
}
