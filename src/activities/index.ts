// All of poolpilot's I/O as Temporal activities, built by a factory that closes over the real clients: one group per
// port (compute, pool, demand, hooks), each in its own file, all behind the spec's provider interfaces.
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { cloudOfRequest } from '../config/compute';
import { FAILED_LOGIN_INTERVAL_MS } from '../config/settings';
import { withCancellation } from './cancellation';
import { computes } from './compute';
import { computeActivities } from './compute-activities';
import type { CredentialResolver } from './credentials';
import { demandActivities } from './demand-activities';
import { hookActivities } from './hook-activities';
import { keystoneSessions } from './keystone';
import type { ActivityKit, ListRequest, VmRequest } from './kit';
import { balancers } from './loadbalancer';
import { LoginGate } from './login-gate';
import { poolActivities } from './pool-activities';

export type * from './kit';

export interface ActivityDeps {
  credentials: CredentialResolver;
  logger: Logger;
  /** Refused logins, shared by every vSphere and controller client of this worker (default: one per 5 minutes). */
  loginGate?: LoginGate;
  /** How vSphere waits learn of changes (VimOptions.waitBy); default updates. */
  vsphereWait?: 'updates' | 'polling';
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
  const clouds = computes(deps.credentials, keystone, loginGate, deps.vsphereWait);
  const compute = (req: VmRequest | ListRequest) => clouds(cloudOfRequest(req), req.cluster);

  const lb = balancers(deps.credentials, loginGate, keystone);
  const log = (cluster: string, vm?: string) => deps.logger.child({ cluster, ...(vm ? { vm } : {}) });

  const kit: ActivityKit = { compute, balancer: lb, log };
  return { ...computeActivities(kit), ...poolActivities(kit), ...demandActivities(kit), ...hookActivities(kit) };
}

export type Activities = ReturnType<typeof createActivities>;
