// The autoscaler's warm pool: which warm VMs a scale-out takes, how many scale-in victims go back, and the refill —
// a child workflow of its own, in the background, so scaling never waits for it.
import { workflowIds } from '../config/names';
import { deprecatePatch, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { PATCHES } from './patches';
import { memberCount, record, type Autoscaling } from './autoscaler-state';
import { describeFailure } from './shared';
import { warmPoolFill } from './warm-pool';

const RETRY_AFTER_MS = 60_000;

/** The warm pool is on for this cluster. */
export function warmPoolOn(a: Autoscaling): boolean {
  if ((a.s.spec.warmPool?.size ?? 0) === 0) return false;
  deprecatePatch(PATCHES.warmPool);
  return true;
}

/** Warm VMs for a scale-out of `count`, readiest first; taken out of the list at once so none is taken twice. */
export function takeWarm(a: Autoscaling, count: number): string[] {
  if (!warmPoolOn(a)) return [];
  const taken = (a.s.warm ?? []).slice(0, count);
  a.s.warm = (a.s.warm ?? []).slice(taken.length);
  return taken.map((w) => w.name);
}

/** How many of a scale-in's victims return to the warm pool. */
export function reuseCount(a: Autoscaling, count: number): number {
  const wp = a.s.spec.warmPool;
  if (!wp?.reuseOnScaleIn || !warmPoolOn(a)) return 0;
  return Math.max(0, Math.min(count, wp.size - (a.s.warm?.length ?? 0) - (a.warmFill?.count ?? 0)));
}

/** Starts a refill when the pool is short and none runs; it reports back by waking the loop for a reconcile. */
export async function refillWarmPool(a: Autoscaling): Promise<void> {
  const { s, cluster } = a;
  if (a.warmFill || !warmPoolOn(a) || Date.now() < (s.warmRetryAt ?? 0)) return;
  const short = s.spec.warmPool.size - (s.warm?.length ?? 0);
  if (short <= 0) return;
  const op = s.opCounter++;
  const workflowId = workflowIds.warmPool(cluster, op);
  a.warmFill = { workflowId, count: short };
  const n = memberCount(s);
  record(a, { current: n, desired: n, action: 'warm-pool', code: 'WarmPoolRefill', reason: `warm pool has ${s.warm?.length ?? 0} of ${s.spec.warmPool.size}: preparing ${short} (${s.spec.warmPool.state})`, source: 'bounds', workflowId });
  const handle = await startChild(warmPoolFill, {
    workflowId,
    taskQueue: workflowInfo().taskQueue,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `refill the warm pool of ${cluster} with ${short} (op ${op})`,
    args: [{ spec: s.spec, op, count: short }],
  });
  void handle.result().then(
    (r) => {
      // A template that cannot make a warm VM is not tried again at every poll.
      if (r.failed.length) s.warmRetryAt = Date.now() + RETRY_AFTER_MS;
      if (r.failed.length) record(a, { current: memberCount(s), desired: memberCount(s), action: 'warm-pool', code: 'WarmPoolRefillFailed', reason: `${r.failed.length} warm VM(s) failed: ${r.failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`, source: 'bounds', workflowId });
      a.warmFill = undefined;
      // The next iteration reconciles at once and sees the new warm VMs.
      s.lastReconcileAt = 0;
      a.wake = true;
    },
    (err: unknown) => {
      s.warmRetryAt = Date.now() + RETRY_AFTER_MS;
      record(a, { current: memberCount(s), desired: memberCount(s), action: 'warm-pool', code: 'WarmPoolRefillFailed', reason: `refill failed: ${describeFailure(err)}`, source: 'bounds', workflowId });
      a.warmFill = undefined;
      s.lastReconcileAt = 0;
      a.wake = true;
    },
  );
}
