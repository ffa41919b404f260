// The autoscaler: one long-running workflow per cluster. Adopt → loop { read metrics → decide → act → record → sleep }.
import { workflowIds } from '../config/names';
import { computeOf } from '../config/compute';
import { allHandlersFinished, CancellationScope, condition, continueAsNew, deprecatePatch, executeChild, isCancellation, log, ParentClosePolicy, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import { CLUSTER_KEY, OPERATION_KEY } from '../config/search-attributes';
import type { DecisionSource } from '../policy/decision-log';
import type { MetricReading } from '../policy/engine';
import { nextAction, type LookFacts, type LoopFacts, type PollFacts, type Run } from '../policy/next-action';
import { planReplacements, type ReplacementPlan } from '../policy/health';
import { nextPollAt, pollPhase } from '../policy/poll-timing';
import { afterFailure, nextRetryAt, type RunKind } from '../policy/backoff';
import { FAILURE_BACKOFF_DEFAULTS } from '../config/limits';
import type { AutoscalerInput, RunRecord, RunResult } from './autoscaler-messages';
import { installHandlers } from './autoscaler-handlers';
import { reconcile } from './autoscaler-reconcile';
import { demandFloorNow, observeDemandReading, refreshForecast } from './autoscaler-prediction';
import { nextScheduleWake, watchSchedules } from './autoscaler-schedules';
import { refillWarmPool, reuseCount, takeWarm } from './autoscaler-warm';
import { boundsNow, memberCount, record, refreshConditions, reportMetrics, startState, type Autoscaling } from './autoscaler-state';
import { metricsSink } from './metrics-sink';
import { PATCHES } from './patches';
import { scaleIn, type ScaleInResult } from './scale-in';
import { scaleOut, type ScaleOutResult } from './scale-out';
import { activitiesFor, describeFailure, faultOf, localReads } from './shared';

export * from './autoscaler-messages';

const MAX_RUNS = 50;

/** The sentence for a run's result (derived from the data, never parsed back). */
function outcomeText(r: ScaleOutResult | ScaleInResult): string {
  const done = 'joined' in r ? `${r.joined.length} joined` : `${r.removed.length} removed`;
  return `${done}${r.failed.length ? `, ${r.failed.length} failed: ${r.failed.map((f) => `${f.name}: ${f.error}`).join('; ')}` : ''}`;
}

/** Runs one scale-out or scale-in (of `victims`, if given) as a child workflow, records it, then reconciles. */
async function runOperation(
  a: Autoscaling,
  kind: RunKind,
  count: number,
  source: DecisionSource,
  reason: string,
  code: string,
  victims?: string[],
): Promise<ScaleOutResult | ScaleInResult | undefined> {
  const { s, cluster } = a;
  const op = s.opCounter++;
  const workflowId = workflowIds.run(kind, cluster, op);
  const before = memberCount(s);
  const current: RunRecord = { workflowId, kind, count, startedAt: new Date().toISOString() };
  a.current = current;
  s.runs.push(current);
  if (s.runs.length > MAX_RUNS) s.runs.splice(0, s.runs.length - MAX_RUNS);
  record(a, { current: before, desired: kind === 'scale-out' ? before + count : before - count, action: kind, code, reason, source, workflowId });
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
  let r: ScaleOutResult | ScaleInResult | undefined;
  let result: RunResult;
  let fault: { code?: string; message: string } | undefined;
  try {
    if (kind === 'scale-out') {
      const warm = takeWarm(a, count);
      const options = { ...common, args: [{ spec: s.spec, op, count, ...(warm.length ? { warm } : {}) }] as Parameters<typeof scaleOut> };
      r = await whileRepairing(a, op, async () => (await startChild(scaleOut, options)).result());
    } else {
      const reuse = reuseCount(a, count);
      r = await executeChild(scaleIn, { ...common, args: [{ spec: s.spec, op, ...(victims ? { victims } : { count }), ...(reuse ? { reuse: { count: reuse, op } } : {}) }] });
    }
    current.outcome = outcomeText(r);
    const firstFailure = r.failed[0];
    const failedCode = r.failed.find((f) => f.code)?.code;
    result = { status: r.failed.length ? 'partial' : 'succeeded', done: 'joined' in r ? r.joined.length : r.removed.length, failed: r.failed.length, ...(failedCode ? { code: failedCode } : {}) };
    if (firstFailure) fault = { ...(failedCode ? { code: failedCode } : {}), message: firstFailure.message ?? firstFailure.error };
  } catch (err) {
    current.outcome = `failed: ${describeFailure(err)}`;
    fault = faultOf(err);
    result = { status: 'failed', done: 0, failed: count, ...(fault.code ? { code: fault.code } : {}) };
    log.error('scaling run failed', { cluster, op, workflowId, error: current.outcome });
  }
  current.result = result;
  // A run in which some members failed is not a success: AbleToScale stays False until a run fully succeeds.
  s.failedRun = result.status === 'succeeded' ? undefined : { workflowId, outcome: current.outcome, partial: result.status === 'partial', ...(result.code ? { code: result.code } : {}) };
  current.endedAt = new Date().toISOString();
  a.current = undefined;
  metricsSink.runEnded(cluster, kind, result.status, (Date.parse(current.endedAt) - Date.parse(current.startedAt)) / 1000);
  s.policy.lastActionEnd = Date.now();
  // Failures of this direction in a row wait longer each time; any success forgets them.
  const { [kind]: prev, ...others } = s.backoff ?? {};
  const settings = s.spec.autoscaling.failureBackoff ?? FAILURE_BACKOFF_DEFAULTS;
  s.backoff = fault ? { ...others, [kind]: afterFailure(prev, fault, Date.now(), settings, Math.random()) } : others;
  await reconcile(a);
  refreshConditions(a);
  return r;
}

/** How often the pool is repaired while a scale-out runs: a balancer restart loses every dynamic member at once. */
const RUN_REPAIR_INTERVAL_MS = 10_000;

/**
 * Runs `run` (a scale-out) while the pool's other members are kept registered: a balancer restarted mid-run loses
 * every dynamic server, and the run only re-adds its own. Reconcile owns the pool; it leaves the run's members alone.
 */
async function whileRepairing<T>(a: Autoscaling, op: number, run: () => Promise<T>): Promise<T> {
  const every = Math.min(a.s.spec.autoscaling.reconcileInterval, RUN_REPAIR_INTERVAL_MS);
  const scope = new CancellationScope();
  const repairing = scope
    .run(async () => {
      for (;;) {
        await sleep(every);
        await reconcile(a, { running: op });
      }
    })
    .catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  try {
    return await run();
  } finally {
    scope.cancel();
    await repairing;
  }
}

/** Runs `run`; serving the queue's head (`dequeue`), the head leaves the queue once the run ended. */
async function act(a: Autoscaling, run: Run, dequeue: boolean): Promise<void> {
  a.servingQueue = dequeue;
  await runOperation(a, run.kind, run.count, run.source, run.reason, run.code);
  a.servingQueue = false;
  if (dequeue) a.s.queue.shift();
}

/** Replaces broken members: the new ones join first, then as many broken ones as were replaced go. */
async function replaceMembers(a: Autoscaling, run: Run, due: ReplacementPlan['due']): Promise<void> {
  const { s } = a;
  s.replacements = [...(s.replacements ?? []), ...due.map(() => Date.now())];
  const out = await runOperation(a, 'scale-out', run.count, run.source, run.reason, run.code);
  const joined = out && 'joined' in out ? out.joined.length : 0;
  // Only members still there and still broken go; one that healed meanwhile is left to the policy.
  const victims = due.map((d) => d.name).filter((n) => s.unhealthy?.[n]).slice(0, joined);
  if (victims.length) await runOperation(a, 'scale-in', victims.length, 'health', `remove ${victims.join(', ')}: replaced`, 'ReplaceUnhealthy', victims);
}

/**
 * An operator's `member remove`, at the queue's head: with replace, as many new members join first; then the named
 * members still in the cluster go (one a reconcile lost meanwhile needs nothing). The head leaves the queue once done,
 * so a continue-as-new or a worker restart in between runs the rest, never the whole again.
 */
async function removeMembers(a: Autoscaling, members: string[], replace: boolean, reason: string): Promise<void> {
  const { s } = a;
  a.servingQueue = true;
  const head = s.queue[0];
  if (replace && head && head.replaced === undefined) {
    const out = await runOperation(a, 'scale-out', members.length, 'manual', `${reason}: new member(s) first`, 'ReplaceRequested');
    head.replaced = out && 'joined' in out ? out.joined.length : 0;
  }
  let still = members.filter((m) => s.members.some((x) => x.name === m && x.vm));
  // With replace, only as many go as new ones joined: a failed replacement keeps the member it was to replace.
  if (replace && head?.replaced !== undefined && head.replaced < still.length) {
    const kept = still.slice(head.replaced);
    still = still.slice(0, head.replaced);
    const m = memberCount(s);
    record(a, { current: m, desired: m, action: 'hold', code: 'ReplacementFailed', reason: `${reason}: kept ${kept.join(', ')}, as its replacement did not join`, source: 'manual' });
  }
  if (still.length) await runOperation(a, 'scale-in', still.length, 'manual', reason, 'RemoveRequested', still);
  a.servingQueue = false;
  s.queue.shift();
}

async function readMetrics(a: Autoscaling): Promise<Record<string, MetricReading>> {
  const { s, cluster } = a;
  if (s.spec.metrics.length === 0) return {};
  let readings: Record<string, MetricReading>;
  try {
    deprecatePatch(PATCHES.localMetricReads);
    readings = await localReads.readMetrics({ spec: { name: cluster, metrics: s.spec.metrics, prometheus: s.spec.prometheus, loadBalancer: s.spec.loadBalancer } });
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
    if (r.error) metricsSink.metricReadFailed(cluster, m.name);
  }
  return readings;
}

/** With scale-to-zero: the warm VMs go too (after any refill under way), or they would be left unmanaged. */
async function emptyWarmPool(a: Autoscaling): Promise<void> {
  await condition(() => !a.warmFill);
  await reconcile(a);
  const act = activitiesFor(a.s.spec).quick;
  for (const w of a.s.warm ?? []) await act.destroyVm({ compute: computeOf(a.s.spec), cluster: a.cluster, name: w.name });
  a.s.warm = [];
}

/** The look before the policy: reconcile if due, the schedules' openings (logged) and health's plan. */
async function lookAround(a: Autoscaling): Promise<LookFacts> {
  const { s } = a;
  if (Date.now() - s.lastReconcileAt >= s.spec.autoscaling.reconcileInterval) await reconcile(a);
  const now = Date.now();
  // A schedule window that opened asks for its size once, as an operator would.
  const scheduleAsk = watchSchedules(a, now);
  let replacement: LookFacts['replacement'];
  if (s.spec.health?.replace) {
    const plan = planReplacements(s.unhealthy ?? {}, now, s.spec.health, s.replacements ?? []);
    s.replacements = plan.recent;
    replacement = { plan, gracePeriodMs: s.spec.health.gracePeriod, maxPerHour: s.spec.health.maxReplacementsPerHour };
  }
  return { now, members: memberCount(s), bounds: boundsNow(a, now), ...(scheduleAsk ? { scheduleAsk } : {}), ...(replacement ? { replacement } : {}) };
}

/** The poll: the metrics, then the forecast (refreshed when due) and the demand it keeps. */
async function pollMetrics(a: Autoscaling, members: number, dueAt: number | undefined): Promise<PollFacts> {
  const { s } = a;
  const readings = await readMetrics(a);
  if (dueAt !== undefined) {
    // A poll on schedule: how late its reading arrived (the worker's and Temporal's delay).
    const lagMs = Math.max(0, Date.now() - dueAt);
    s.polls = [...(s.polls ?? []), { dueAt, lagMs }].slice(-20);
    metricsSink.poll(a.cluster, lagMs);
  }
  await refreshForecast(a, Date.now());
  observeDemandReading(a, readings, members, Date.now());
  const now = Date.now();
  const forecast = !s.paused && s.spec.metrics.length > 0 ? demandFloorNow(a, now) : undefined;
  return { now, paused: s.paused, metrics: s.spec.metrics, autoscaling: s.spec.autoscaling, readings, policy: s.policy, ...(forecast ? { forecast } : {}) };
}

export async function autoscaler(input: AutoscalerInput): Promise<{ deleted: true; scaledToZero: boolean }> {
  const s = startState(input);
  const cluster = s.spec.name;
  const a: Autoscaling = { s, cluster, wake: false };
  installHandlers(a);
  let iterationsThisRun = 0;
  /** When the poll that a timed-out sleep leads to was due. */
  let pollDueAt: number | undefined;

  // Retired patches: each still marks where its patched() stood, so the histories of runs begun under patched() replay.
  deprecatePatch(PATCHES.failedRunBackoff);
  deprecatePatch(PATCHES.poolRepairedDuringScaleOut);
  if (!s.initialized) {
    await reconcile(a);
    const n = memberCount(s);
    const initial = Math.min(Math.max(s.spec.initial ?? s.spec.min, s.spec.min), s.spec.max);
    const target = n > s.spec.max ? s.spec.max : n < initial ? initial : n;
    record(a, { current: n, desired: target, action: 'adopt', code: 'Adopted', reason: `adopted ${n} member(s) of cluster ${cluster}; initial capacity ${initial} within [${s.spec.min}, ${s.spec.max}] → ${target}`, source: 'bounds' });
    s.initialized = true;
    if (target !== n) await runOperation(a, target > n ? 'scale-out' : 'scale-in', Math.abs(target - n), 'bounds', `initial capacity ${target}`, 'InitialCapacity');
  }

  for (const id of [PATCHES.wakeClearedAtIterationStart, PATCHES.healthReplacement, PATCHES.proactiveScaling, PATCHES.forecastDemandFloor, PATCHES.demandFloorSpreadEvidence]) deprecatePatch(id);
  for (;;) {
    // The wake flag is cleared as each iteration starts, so a request, pause or delete that arrives while the
    // iteration awaits (a metric read, a scaling run) ends the sleep below at once instead of waiting for the next poll.
    a.wake = false;
    // Read → decide → act → record. What the loop knows at the iteration's start (the queue's head, a delete) holds
    // for the whole iteration; a message that arrives meanwhile wakes the next one.
    let facts: LoopFacts = {
      now: Date.now(),
      cluster,
      members: memberCount(s),
      bounds: boundsNow(a),
      backoff: s.backoff ?? {},
      ...(a.deleting ? { deleting: { scaleToZero: a.deleting.scaleToZero, warmPool: (s.spec.warmPool?.size ?? 0) > 0 } } : {}),
      ...(s.queue[0] ? { queueHead: s.queue[0] } : {}),
    };
    let next = nextAction(facts);
    for (;;) {
      for (const e of next.entries) record(a, e);
      if (next.offSchedule) pollDueAt = undefined;
      if (next.policy) {
        s.policy = next.policy.state;
        s.lastDecisionCode = next.policy.code;
      }
      if (next.step.kind === 'look') facts = { ...facts, look: await lookAround(a) };
      else if (next.step.kind === 'poll') {
        facts = { ...facts, poll: await pollMetrics(a, facts.look!.members, pollDueAt) };
        pollDueAt = undefined;
      } else break;
      next = nextAction(facts);
    }
    const step = next.step;
    if (step.kind === 'delete') {
      if (step.scaleIn > 0) await runOperation(a, 'scale-in', step.scaleIn, 'manual', `cluster ${cluster} deleted with scale-to-zero`, 'Deleted');
      if (step.emptyWarmPool) await emptyWarmPool(a);
      await condition(allHandlersFinished);
      log.info('autoscaler deleted', { cluster, scaleToZero: step.scaleToZero, membersLeft: memberCount(s) });
      return { deleted: true, scaledToZero: step.scaleToZero };
    }
    if (step.kind === 'dequeue') {
      s.queue.shift();
      continue;
    }
    if (step.kind === 'run') {
      await act(a, step.run, step.dequeue);
      if (step.dequeue || !facts.poll) continue;
    }
    if (step.kind === 'replace') {
      await replaceMembers(a, step.run, step.due);
      continue;
    }
    if (step.kind === 'remove') {
      await removeMembers(a, step.members, step.replace, step.reason);
      continue;
    }
    refreshConditions(a);
    reportMetrics(a);

    s.iterations++;
    iterationsThisRun++;
    await refillWarmPool(a);
    if (workflowInfo().continueAsNewSuggested || iterationsThisRun >= s.spec.autoscaling.continueAsNewAfter) {
      // A refill in the background belongs to this run: the next run starts when it is done.
      await condition(() => allHandlersFinished() && !a.warmFill);
      if (!a.deleting && s.queue.length === 0) {
        log.info('continuing as new', { cluster, iterations: s.iterations, historyLength: workflowInfo().historyLength });
        await continueAsNew<typeof autoscaler>({ spec: s.spec, state: s, searchAttributes: s.searchAttributes });
      }
    }
    const interval = s.spec.autoscaling.pollInterval;
    const poll = nextPollAt(Date.now(), interval, pollPhase(cluster, interval));
    // A schedule window opens or closes at its minute, not at the next poll: the timer wakes for it.
    const scheduled = nextScheduleWake(a, Date.now());
    // A direction held back by its backoff is looked at again when its retry is due.
    const retry = nextRetryAt(s.backoff, Date.now());
    const dueAt = Math.min(poll, scheduled ?? poll, retry ?? poll);
    const woken = await condition(() => a.wake, dueAt - Date.now());
    if (!woken) pollDueAt = dueAt;
  }
}
