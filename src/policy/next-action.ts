// The autoscaler's next step, as a pure function of what it knows: the order its loop follows, in one place.
// deleting → the operator queue → (look: reconcile, schedules, health) → a schedule window's size → the bounds →
// health replacement → (poll: metrics and the forecast) → the policy. The workflow reads what a step asks for,
// calls this again, and acts on the answer; the table in test/unit/next-action.test.ts names each case.
import type { AutoscalingSpec, MetricSpec } from '../config/spec';
import { heldBack, holdCode, holdReason, type Backoffs, type RunKind } from './backoff';
import type { DecisionRecord, DecisionSource } from './decision-log';
import { decide, type DecisionCode, type MetricReading, type PolicyInput, type PolicyState } from './engine';
import type { ReplacementPlan } from './health';
import { boundedRun, type QueuedRequest } from './requests';

export type Entry = Omit<DecisionRecord, 'at'>;

export interface LoopBounds {
  min: number;
  max: number;
  /** The schedule whose window sets the bound now, if one does. */
  minBy?: string;
  maxBy?: string;
}

/** What the loop looked at before the policy: read only when the queue is empty and the cluster is not being deleted. */
export interface LookFacts {
  now: number;
  members: number;
  bounds: LoopBounds;
  /** A schedule window that opened and asks for its size, once. */
  scheduleAsk?: { name: string; desired: number };
  /** Health replacement's plan (absent: replacement is off). */
  replacement?: { plan: ReplacementPlan; gracePeriodMs: number; maxPerHour: number };
}

/** What the poll read: the metrics and the forecast's floor. */
export interface PollFacts {
  now: number;
  paused: boolean;
  metrics: MetricSpec[];
  autoscaling: AutoscalingSpec;
  readings: Record<string, MetricReading>;
  policy: PolicyState;
  /** The forecast's floor now; `only`: forecastOnly, shown beside the decision but not applied. */
  forecast?: { members: number; text: string; only: boolean; leadsScaleIn?: boolean };
}

export interface LoopFacts {
  now: number;
  cluster: string;
  /** Members with a VM. */
  members: number;
  bounds: LoopBounds;
  /** Failed runs' backoff per direction. */
  backoff: Backoffs;
  deleting?: { scaleToZero: boolean; warmPool: boolean };
  queueHead?: QueuedRequest;
  look?: LookFacts;
  poll?: PollFacts;
}

export interface Run {
  kind: RunKind;
  count: number;
  source: DecisionSource;
  reason: string;
  code: string;
}

export type Step =
  /** Scale to zero if asked (a run of `scaleIn` members, then the warm VMs), and end. */
  | { kind: 'delete'; scaleToZero: boolean; scaleIn: number; emptyWarmPool: boolean }
  /** One run; `dequeue`: it serves the queue's head, which leaves the queue once the run ended. */
  | { kind: 'run'; run: Run; dequeue: boolean }
  /** The queue's head needs no run (the pool is at its target already): drop it. */
  | { kind: 'dequeue' }
  /**
   * The queue's head names members to remove: with `replace`, as many new ones join first; then those named go (the
   * ones still there). The head leaves the queue once done.
   */
  | { kind: 'remove'; members: string[]; replace: boolean; reason: string }
  /** Replace broken members: `run` adds as many new ones, then the replaced ones still broken go. */
  | { kind: 'replace'; run: Run; due: ReplacementPlan['due'] }
  /** Reconcile if due, look at the schedules and health, then ask again with `look`. */
  | { kind: 'look' }
  /** Read the metrics and the forecast, then ask again with `poll`. */
  | { kind: 'poll' }
  /** Nothing to run now: sleep until the next poll or message. */
  | { kind: 'sleep' };

export interface NextAction {
  step: Step;
  /** Entries for the decision log (holds), in order; those before a poll come with the `poll` answer only. */
  entries: Entry[];
  /** Something other than the poll's schedule took this iteration: its lag is not measured. */
  offSchedule: boolean;
  /** The policy's new state and code, when the policy decided. */
  policy?: { state: PolicyState; code: DecisionCode };
}

const runKind = (target: number, n: number): RunKind | undefined => (target > n ? 'scale-out' : target < n ? 'scale-in' : undefined);

/**
 * The hold for a run of `kind` while its direction backs off or is suspended, if it is. Operator requests are not
 * held (`gated` false): an operator who asks is watching, and that one attempt is what they asked for.
 */
function hold(f: LoopFacts, n: number, now: number, kind: RunKind, target: number, gated: boolean): Entry | undefined {
  if (!gated) return undefined;
  const b = heldBack(f.backoff, kind, now);
  return b && { current: n, desired: target, action: 'hold', code: holdCode(b), reason: holdReason(kind, b, now, f.cluster), source: 'bounds' };
}

/** A move to `target` as a run, or the hold that keeps it back, or nothing when the pool is there already. */
function move(f: LoopFacts, n: number, now: number, target: number, source: DecisionSource, reason: string, code: string, gated = true): { run?: Run; held?: Entry } {
  const kind = runKind(target, n);
  if (!kind) return {};
  const held = hold(f, n, now, kind, target, gated);
  return held ? { held } : { run: { kind, count: Math.abs(target - n), source, reason, code } };
}

export function nextAction(f: LoopFacts): NextAction {
  const none = { entries: [], offSchedule: false };
  if (f.deleting) {
    const { scaleToZero, warmPool } = f.deleting;
    return { ...none, step: { kind: 'delete', scaleToZero, scaleIn: scaleToZero ? f.members : 0, emptyWarmPool: scaleToZero && warmPool } };
  }

  // The operator queue: a queued alarm held back by its direction's backoff waits at the head, and nothing behind it
  // runs. A request leaves the queue only once it ran: it is never lost, and never run twice across continue-as-new.
  const req = f.queueHead;
  if (req?.members) {
    // An operator's: never held by a backoff (they watch it), and no bounds to apply (checked when it was queued).
    const { why } = boundedRun(req, f.members, f.bounds.min, f.bounds.max);
    return { step: { kind: 'remove', members: req.members, replace: !!req.replace, reason: why }, entries: [], offSchedule: true };
  }
  if (req) {
    const { target, why } = boundedRun(req, f.members, f.bounds.min, f.bounds.max);
    const alarm = req.origin === 'alarm';
    const m = move(f, f.members, f.now, target, alarm ? 'alarm' : 'manual', why, alarm ? 'AlarmTaken' : 'OperatorRequest', alarm);
    const step: Step = m.run ? { kind: 'run', run: m.run, dequeue: true } : m.held ? { kind: 'sleep' } : { kind: 'dequeue' };
    return { step, entries: m.held ? [m.held] : [], offSchedule: true };
  }

  const look = f.look;
  if (!look) return { ...none, step: { kind: 'look' } };
  const { now, members: n, bounds } = look;
  // Holds of the steps before the poll are logged when the poll is asked for, not again with its answer.
  const entries: Entry[] = [];
  let offSchedule = false;

  // A schedule window that opened asks for its size once, as an operator would.
  if (look.scheduleAsk && look.scheduleAsk.desired !== n) {
    offSchedule = true;
    const { name, desired } = look.scheduleAsk;
    const m = move(f, n, now, desired, 'schedule', `schedule ${name} asks for ${desired} member(s)`, 'ScheduleDesired');
    if (m.run) return { step: { kind: 'run', run: m.run, dequeue: false }, entries, offSchedule };
    if (m.held) entries.push(m.held);
  }

  const { min, max, minBy, maxBy } = bounds;
  if (n < min || n > max) {
    offSchedule = true;
    const target = Math.min(Math.max(n, min), max);
    const by = n < min && minBy ? ` (min of schedule ${minBy})` : n > max && maxBy ? ` (max of schedule ${maxBy})` : '';
    const m = move(f, n, now, target, 'bounds', `${n} member(s) is outside [min ${min}, max ${max}]${by} → ${target}`, n < min ? 'BelowMin' : 'AboveMax');
    if (m.run) return { step: { kind: 'run', run: m.run, dequeue: false }, entries, offSchedule };
    if (m.held) entries.push(m.held);
  }

  // Health replacement: new members join first, then the broken ones go, so the healthy count never drops. Every
  // attempt counts toward the hourly limit, so a template that cannot make a healthy member cannot churn the pool.
  const rep = look.replacement;
  if (rep) {
    const { plan } = rep;
    if (plan.held.length) {
      entries.push({ current: n, desired: n, action: 'hold', code: 'ReplacementLimit', reason: `${plan.held.join(', ')} broken past the grace period, but ${plan.recent.length + plan.due.length} replacement(s) this hour reach the limit of ${rep.maxPerHour}`, source: 'health' });
    }
    if (plan.due.length) {
      offSchedule = true;
      const held = hold(f, n, now, 'scale-out', n + plan.due.length, true);
      if (held) entries.push(held);
      else {
        const what = plan.due.map((d) => `${d.name} (${d.why} for ${Math.round(d.forMs / 1000)} s)`).join(', ');
        const grace = `grace ${Math.round(rep.gracePeriodMs / 1000)} s, ${plan.recent.length + plan.due.length} of ${rep.maxPerHour} this hour`;
        const run: Run = { kind: 'scale-out', count: plan.due.length, source: 'health', reason: `replace ${what}: ${grace}`, code: 'ReplaceUnhealthy' };
        return { step: { kind: 'replace', run, due: plan.due }, entries, offSchedule };
      }
    }
  }

  const poll = f.poll;
  if (!poll) return { step: { kind: 'poll' }, entries, offSchedule };
  // The policy: decide() with the forecast's floor, unless forecastOnly, in which case what the forecast would have
  // done goes in the same entry, for operators to watch before trusting it.
  if (poll.paused || poll.metrics.length === 0) return { ...none, step: { kind: 'sleep' } };
  const fc = poll.forecast;
  const input: PolicyInput = { now: poll.now, current: n, min, max, metrics: poll.metrics, autoscaling: poll.autoscaling, readings: poll.readings, state: poll.policy, forecast: fc && !fc.only ? fc : undefined };
  const d = decide(input);
  const policy = { state: d.state, code: d.code };
  const watched = fc?.only && fc.members > d.desired ? `; forecast only, not applied: ${fc.text}` : '';
  const source: DecisionSource = d.code === 'Forecast' ? 'forecast' : 'policy';
  if (d.action === 'none') {
    return { ...none, policy, step: { kind: 'sleep' }, entries: [{ current: n, desired: d.desired, action: 'hold', code: watched ? 'ForecastOnly' : d.code, reason: d.reason + watched, source }] };
  }
  const m = move(f, n, poll.now, d.desired, source, d.reason + watched, d.code);
  return { ...none, policy, step: m.run ? { kind: 'run', run: m.run, dequeue: false } : { kind: 'sleep' }, entries: m.held ? [m.held] : [] };
}
