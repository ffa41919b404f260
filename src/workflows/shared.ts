// What the scaling workflows share: activity options per spec, progress, bounded concurrency, failure text.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, defineQuery, proxyActivities, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ClusterSpec } from '../config/spec';

const RETRY: RetryPolicy = { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 15_000, maximumAttempts: 6 };

/** Quick calls (clone, add, remove, destroy, list) and the long waits, which heartbeat. */
export function activitiesFor(spec: ClusterSpec) {
  // Every activity heartbeats (the worker's heartbeat wrapper), so a dead worker's work moves on within 10 s.
  const quick: ActivityOptions = { startToCloseTimeout: '10m', heartbeatTimeout: '10s', retry: RETRY };
  const wait = (ms: number): ActivityOptions => ({
    startToCloseTimeout: ms + 60_000,
    heartbeatTimeout: '10s',
    retry: { ...RETRY, maximumAttempts: 3 },
  });
  return {
    quick: proxyActivities<Activities>(quick),
    guest: proxyActivities<Activities>(wait(spec.vsphere.guestTimeout)),
    health: proxyActivities<Activities>(wait(spec.loadBalancer.healthCheck.timeout)),
    drain: proxyActivities<Activities>(wait(spec.drainGracePeriod)),
  };
}

export type InstanceStep =
  | 'pending'
  | 'cloning'
  | 'waiting-for-guest'
  | 'adding-to-pool'
  | 'waiting-healthy'
  | 'joined'
  | 'draining'
  | 'removing-from-pool'
  | 'powering-off'
  | 'destroying'
  | 'removed'
  | 'compensating'
  | 'failed';

export interface InstanceProgress {
  name: string;
  step: InstanceStep;
  ip?: string;
  error?: string;
}

export interface OperationProgress {
  kind: 'scale-out' | 'scale-in';
  cluster: string;
  op: number;
  instances: InstanceProgress[];
}

export const progressQuery = defineQuery<OperationProgress>('progress');

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

/** The innermost message of a failure chain: what actually went wrong. */
export function describeFailure(err: unknown): string {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure && e.type) return `${e.message} [${e.type}]`;
  return e instanceof Error ? e.message : String(e);
}

export function outOfRange(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'OutOfRange', message, nonRetryable: true });
}

export function memberName(cluster: string, op: number, index: number): string {
  return `${cluster}-${op}-${index}`;
}
