// What the scaling workflows share: activity options per spec, progress, bounded concurrency, failure text.
import { computeOf, guestTimeoutOf, outageToleranceOf } from '../config/compute';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, proxyActivities, proxyLocalActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ClusterSpec } from '../config/spec';

/** Backoff for transient faults; permanent ones are non-retryable failures and stop at once. */
const BACKOFF: RetryPolicy = { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 30_000 };
/** The autoscaler's own reads give up soon: a failed reconcile is reported and simply tried again on the next one. */
const INSPECT_RETRY: RetryPolicy = { ...BACKOFF, maximumInterval: 15_000, maximumAttempts: 6 };

/**
 * Activity proxies for a spec. Run steps (clone, add, remove, destroy…) and the long waits retry transient faults
 * without an attempt limit for the cloud's outageTolerance, so a vCenter that restarts mid-run delays the run instead of
 * failing it; each attempt heartbeats (the worker's wrapper), so a dead worker's work moves on within 10 s.
 */
export function activitiesFor(spec: ClusterSpec) {
  const budget = outageToleranceOf(computeOf(spec)) ?? 900_000;
  const quick: ActivityOptions = { startToCloseTimeout: '10m', scheduleToCloseTimeout: budget + 600_000, heartbeatTimeout: '10s', retry: BACKOFF };
  const wait = (ms: number): ActivityOptions => ({ startToCloseTimeout: ms + 60_000, scheduleToCloseTimeout: ms + 60_000 + budget, heartbeatTimeout: '10s', retry: BACKOFF });
  return {
    quick: proxyActivities<Activities>(quick),
    // A run's short steps that answer in one or two calls (the bound check's list, joining the pool), as local
    // activities: each runs inside the workflow task that asks for it instead of a round trip through the task queue
    // and back (about 20 ms each on the lab, a tenth of a 1-VM scale-out's overhead). Retried like `quick`; a dead
    // worker's step runs again on the worker that takes the workflow task over.
    local: proxyLocalActivities<Activities>({ startToCloseTimeout: '2m', scheduleToCloseTimeout: budget + 600_000, retry: BACKOFF }),
    // Bounded in time as well as in attempts: a read that hangs cannot hold the loop past five minutes.
    inspect: proxyActivities<Activities>({ startToCloseTimeout: '2m', scheduleToCloseTimeout: '5m', heartbeatTimeout: '10s', retry: INSPECT_RETRY }),
    guest: proxyActivities<Activities>(wait(guestTimeoutOf(computeOf(spec)))),
    health: proxyActivities<Activities>(wait(spec.loadBalancer.healthCheck.timeout)),
    drain: proxyActivities<Activities>(wait(spec.drainGracePeriod)),
  };
}

/**
 * The metric read, a local activity: a read is short and idempotent, and polls are the autoscaler's most frequent
 * step, so it runs inside the workflow task instead of a round trip through the task queue.
 */
export const localReads = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: 1000, maximumAttempts: 2 } });

/** A lifecycle hook's HTTP call: bounded by the hook's own timeout, its whole budget, retries included. */
export function hookActivities(timeoutMs: number) {
  return proxyActivities<Activities>({ startToCloseTimeout: timeoutMs, scheduleToCloseTimeout: timeoutMs, heartbeatTimeout: '10s', retry: { ...BACKOFF, initialInterval: 2000 } });
}

export * from './run-messages';

/** Runs `fn` over `items`, at most `limit` at once, keeping the results in order. */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The innermost failure of a chain: what actually went wrong. */
function innermost(err: unknown): unknown {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  return e;
}

/** The innermost message of a failure chain, with its type. */
export function describeFailure(err: unknown): string {
  const e = innermost(err);
  if (e instanceof ApplicationFailure && e.type) return `${e.message} [${e.type}]`;
  return e instanceof Error ? e.message : String(e);
}

/** A member's failure in a run's result: the step, the sentence, and the fault's type as data. */
export interface MemberFailure {
  name: string;
  step: string;
  /** The sentence, with the fault's type. */
  error: string;
  /** The fault's own message and type, as data (absent in results recorded before them). */
  message?: string;
  code?: string;
}

/**
 * A failure chain as typed data: the innermost type and message. A run that failed whole carries its result in the
 * failure's details; the members' fault is the one to report (ScaleOutFailed says only that none joined).
 */
export function faultOf(err: unknown): { code?: string; message: string } {
  const e = innermost(err);
  if (!(e instanceof ApplicationFailure)) return { message: e instanceof Error ? e.message : String(e) };
  const member = (e.details?.[0] as { failed?: MemberFailure[] } | undefined)?.failed?.find((f) => f.code);
  if (member?.code) return { code: member.code, message: member.message ?? e.message };
  return { ...(e.type ? { code: e.type } : {}), message: e.message };
}

/** A member's failure from the error its step threw. */
export function memberFailure(name: string, step: string, err: unknown): MemberFailure {
  const f = faultOf(err);
  return { name, step, error: describeFailure(err), message: f.message, ...(f.code ? { code: f.code } : {}) };
}

export function outOfRange(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'OutOfRange', message, nonRetryable: true });
}

