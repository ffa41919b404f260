// The autoscaler: one long-running workflow per cluster. Adopt → loop { read metrics → decide → act → record → sleep }.
import { allHandlersFinished, condition, continueAsNew, executeChild, log, ParentClosePolicy, patched, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { CLUSTER_KEY, OPERATION_KEY } from '../config/search-attributes';
import type { DecisionSource } from '../policy/decision-log';
import { decide, type MetricReading } from '../policy/engine';
import { planReplacements, type ReplacementPlan } from '../policy/health';
import { boundedRun } from '../policy/requests';
import { nextPollAt, pollPhase } from '../policy/schedule';
import type { Activities } from '../activities';
import type { AutoscalerInput, RunRecord } from './autoscaler-messages';
import { installHandlers } from './autoscaler-handlers';
import { reconcile } from './autoscaler-reconcile';
import { forecastNow, nextScheduleWake, observeForecastDemand, refreshForecast, watchSchedules } from './autoscaler-proactive';
import { refillWarmPool, reuseCount, takeWarm } from './autoscaler-warm';
import { boundsNow, memberCount, record, refreshConditions, reportMetrics, startState, type Autoscaling } from './autoscaler-state';
import { metricsSink } from './metrics-sink';
import { scaleIn, type ScaleInResult } from './scale-in';
import { scaleOut, type ScaleOutResult } from './scale-out';
import { activitiesFor, describeFailure } from './shared';

export * from './autoscaler-messages';

const MAX_RUNS = 50;

const readMetricsLocally = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: 1000, maximumAttempts: 2 },
});

/** Runs one scale-out or scale-in (of `victims`, if given) as a child workflow, records it, then reconciles. */
async function runOperation(
  a: Autoscaling,
  kind: 'scale-out' | 'scale-in',
  count: number,
  source: DecisionSource,
  reason: string,
  code: string,
  victims?: string[],
): Promise<ScaleOutResult | ScaleInResult | undefined> {
  const { s, cluster } = a;
  const op = s.opCounter++;
  const workflowId = `${kind}:${cluster}:${op}`;
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
  try {
    if (kind === 'scale-out') {
      const warm = takeWarm(a, count);
      r = await executeChild(scaleOut, { ...common, args: [{ spec: s.spec, op, count, ...(warm.length ? { warm } : {}) }] });
    } else {
      const reuse = reuseCount(a, count);
      r = await executeChild(scaleIn, { ...common, args: [{ spec: s.spec, op, ...(victims ? { victims } : { count }), ...(reuse ? { reuse: { count: reuse, op } } : {}) }] });
    }
    const done = 'joined' in r ? `${r.joined.length} joined` : `${r.removed.length} removed`;
    current.outcome = `${done}${r.failed.length ? `, ${r.failed.length} failed: ${r.failed.map((f) => `${f.name}: ${f.error}`).join('; ')}` : ''}`;
    // A run in which some members failed is not a success: AbleToScale stays False until a run fully succeeds.
    s.failedRun = r.failed.length ? { workflowId, outcome: current.outcome, partial: true } : undefined;
  } catch (err) {
    current.outcome = `failed: ${describeFailure(err)}`;
    s.failedRun = { workflowId, outcome: current.outcome, partial: false };
    log.error('scaling run failed', { cluster, op, workflowId, error: current.outcome });
  } finally {
    current.endedAt = new Date().toISOString();
    a.current = undefined;
    const outcome = !s.failedRun || s.failedRun.workflowId !== workflowId ? 'succeeded' : s.failedRun.partial ? 'partial' : 'failed';
    metricsSink.runEnded(cluster, kind, outcome, (Date.parse(current.endedAt) - Date.parse(current.startedAt)) / 1000);
    s.policy.lastActionEnd = Date.now();
  }
  await reconcile(a);
  refreshConditions(a);
  return r;
}

/** Brings the pool to `target` (already within bounds) in one run. */
async function moveTo(a: Autoscaling, target: number, source: DecisionSource, reason: string, code: string): Promise<void> {
  const n = memberCount(a.s);
  if (target > n) await runOperation(a, 'scale-out', target - n, source, reason, code);
  else if (target < n) await runOperation(a, 'scale-in', n - target, source, reason, code);
}

/**
 * Replaces broken members: new ones join first (the pool may pass max by as many for a moment), then as many broken
 * ones as were replaced are drained, removed and destroyed, so the healthy count never drops. Every attempt counts
 * toward the hourly limit, so a template that cannot make a healthy member cannot churn the pool.
 */
async function replaceMembers(a: Autoscaling, due: ReplacementPlan['due']): Promise<void> {
  const { s } = a;
  s.replacements = [...(s.replacements ?? []), ...due.map(() => Date.now())];
  const what = due.map((d) => `${d.name} (${d.why} for ${Math.round(d.forMs / 1000)} s)`).join(', ');
  const grace = `grace ${Math.round(s.spec.health.gracePeriod / 1000)} s, ${s.replacements.length} of ${s.spec.health.maxReplacementsPerHour} this hour`;
  const out = await runOperation(a, 'scale-out', due.length, 'health', `replace ${what}: ${grace}`, 'ReplaceUnhealthy');
  const joined = out && 'joined' in out ? out.joined.length : 0;
  // Only members still there and still broken go; one that healed meanwhile is left to the policy.
  const victims = due.map((d) => d.name).filter((n) => s.unhealthy?.[n]).slice(0, joined);
  if (victims.length) await runOperation(a, 'scale-in', victims.length, 'health', `remove ${victims.join(', ')}: replaced`, 'ReplaceUnhealthy', victims);
}

async function readMetrics(a: Autoscaling): Promise<Record<string, MetricReading>> {
  const { s, cluster } = a;
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
    if (r.error) metricsSink.metricReadFailed(cluster, m.name);
  }
  return readings;
}

/** With scale-to-zero: the warm VMs go too (after any refill under way), or they would be left unmanaged. */
async function emptyWarmPool(a: Autoscaling): Promise<void> {
  await condition(() => !a.warmFill);
  await reconcile(a);
  const act = activitiesFor(a.s.spec).quick;
  for (const w of a.s.warm ?? []) await act.destroyVm({ vsphere: a.s.spec.vsphere, cluster: a.cluster, name: w.name });
  a.s.warm = [];
}

export async function autoscaler(input: AutoscalerInput): Promise<{ deleted: true; scaledToZero: boolean }> {
  const s = startState(input);
  const cluster = s.spec.name;
  const a: Autoscaling = { s, cluster, wake: false };
  installHandlers(a);
  let iterationsThisRun = 0;
  /** When the poll that a timed-out sleep leads to was due. */
  let pollDueAt: number | undefined;

  if (!s.initialized) {
    await reconcile(a);
    const n = memberCount(s);
    const initial = Math.min(Math.max(s.spec.initial ?? s.spec.min, s.spec.min), s.spec.max);
    const target = n > s.spec.max ? s.spec.max : n < initial ? initial : n;
    record(a, { current: n, desired: target, action: 'adopt', code: 'Adopted', reason: `adopted ${n} member(s) of cluster ${cluster}; initial capacity ${initial} within [${s.spec.min}, ${s.spec.max}] → ${target}`, source: 'bounds' });
    s.initialized = true;
    await moveTo(a, target, 'bounds', `initial capacity ${target}`, 'InitialCapacity');
  }

  // The wake flag is cleared as each iteration starts, so a request, pause or delete that arrives while the
  // iteration awaits (a metric read, a scaling run) ends the sleep below at once instead of waiting for the next
  // poll. Runs begun before this change cleared it just before sleeping, and keep doing so when replayed.
  const clearWakeEarly = patched('wake-cleared-at-iteration-start');
  // Runs begun before health replacement never replace members when replayed.
  const healthReplacement = patched('health-replacement');
  // Likewise schedules and forecasts.
  const proactive = patched('proactive-scaling');
  // And the demand floor (the recent level plus a margin) in place of the seasonal forecast's peak.
  a.demandFloor = proactive && patched('forecast-demand-floor');
  // And the floor waiting for a spread measured from enough readings.
  a.spreadEvidence = a.demandFloor && patched('demand-floor-spread-evidence');
  for (;;) {
    if (clearWakeEarly) a.wake = false;
    if (a.deleting) {
      if (a.deleting.scaleToZero && memberCount(s) > 0) {
        await runOperation(a, 'scale-in', memberCount(s), 'manual', `cluster ${cluster} deleted with scale-to-zero`, 'Deleted');
      }
      if (a.deleting.scaleToZero && (s.spec.warmPool?.size ?? 0) > 0) await emptyWarmPool(a);
      await condition(allHandlersFinished);
      log.info('autoscaler deleted', { cluster, scaleToZero: a.deleting.scaleToZero, membersLeft: memberCount(s) });
      return { deleted: true, scaledToZero: a.deleting.scaleToZero };
    }

    const req = s.queue[0];
    if (req) {
      pollDueAt = undefined;
      const bounds = boundsNow(a);
      const { target, why } = boundedRun(req, memberCount(s), bounds.min, bounds.max);
      a.servingQueue = true;
      await moveTo(a, target, req.origin === 'alarm' ? 'alarm' : 'manual', why, req.origin === 'alarm' ? 'AlarmTaken' : 'OperatorRequest');
      // Removed only once it ran: a request is never lost, and never run twice across continue-as-new.
      s.queue.shift();
      a.servingQueue = false;
      continue;
    }

    if (Date.now() - s.lastReconcileAt >= s.spec.autoscaling.reconcileInterval) await reconcile(a);

    const n = memberCount(s);
    if (proactive) {
      // A schedule window that opened asks for its size once, as an operator would.
      const asked = watchSchedules(a, Date.now());
      if (asked && asked.desired !== n) {
        pollDueAt = undefined;
        await moveTo(a, asked.desired, 'schedule', `schedule ${asked.name} asks for ${asked.desired} member(s)`, 'ScheduleDesired');
        continue;
      }
    }
    const { min, max, minBy, maxBy } = boundsNow(a);
    if (n < min || n > max) {
      pollDueAt = undefined;
      const target = Math.min(Math.max(n, min), max);
      const by = n < min && minBy ? ` (min of schedule ${minBy})` : n > max && maxBy ? ` (max of schedule ${maxBy})` : '';
      await moveTo(a, target, 'bounds', `${n} member(s) is outside [min ${min}, max ${max}]${by} → ${target}`, n < min ? 'BelowMin' : 'AboveMax');
      continue;
    }

    if (healthReplacement && s.spec.health?.replace) {
      const plan = planReplacements(s.unhealthy ?? {}, Date.now(), s.spec.health, s.replacements ?? []);
      s.replacements = plan.recent;
      if (plan.held.length) {
        record(a, { current: n, desired: n, action: 'hold', code: 'ReplacementLimit', reason: `${plan.held.join(', ')} broken past the grace period, but ${plan.recent.length + plan.due.length} replacement(s) this hour reach the limit of ${s.spec.health.maxReplacementsPerHour}`, source: 'health' });
      }
      if (plan.due.length) {
        pollDueAt = undefined;
        await replaceMembers(a, plan.due);
        continue;
      }
    }

    const readings = await readMetrics(a);
    if (pollDueAt !== undefined) {
      const lagMs = Math.max(0, Date.now() - pollDueAt);
      s.polls = [...(s.polls ?? []), { dueAt: pollDueAt, lagMs }].slice(-20);
      metricsSink.poll(cluster, lagMs);
      pollDueAt = undefined;
    }
    if (proactive) await refreshForecast(a, Date.now());
    if (a.demandFloor) observeForecastDemand(a, readings, n, Date.now());
    if (!s.paused && s.spec.metrics.length > 0) {
      const fc = proactive ? forecastNow(a, Date.now()) : undefined;
      const d = decide({ now: Date.now(), current: n, min, max, metrics: s.spec.metrics, autoscaling: s.spec.autoscaling, readings, state: s.policy, forecast: fc && !fc.only ? fc : undefined });
      s.policy = d.state;
      s.lastDecisionCode = d.code;
      // forecastOnly: what the forecast would have done, in the same entry, for operators to watch before trusting it.
      const watched = fc?.only && fc.members > d.desired ? `; forecast only, not applied: ${fc.text}` : '';
      const source = d.code === 'Forecast' ? 'forecast' : 'policy';
      if (d.action === 'none') record(a, { current: n, desired: d.desired, action: 'hold', code: watched ? 'ForecastOnly' : d.code, reason: d.reason + watched, source });
      else await moveTo(a, d.desired, source, d.reason + watched, d.code);
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
    if (!clearWakeEarly) a.wake = false;
    const interval = s.spec.autoscaling.pollInterval;
    const poll = nextPollAt(Date.now(), interval, pollPhase(cluster, interval));
    // A schedule window opens or closes at its minute, not at the next poll: the timer wakes for it.
    const scheduled = proactive ? nextScheduleWake(a, Date.now()) : undefined;
    const dueAt = scheduled !== undefined && scheduled < poll ? scheduled : poll;
    const woken = await condition(() => a.wake, dueAt - Date.now());
    if (!woken) pollDueAt = dueAt;
  }
}
