// The pool activities: a member in the spec's balancer (HAProxy, NSX ALB or Octavia), whichever it is.
import { Context } from '@temporalio/activity';
import { healthCheckOf, poolLabel } from '../config/balancer';
import type { LoadBalancerSpec } from '../config/spec';
import { permanent } from './errors';
import type { ActivityKit, MemberRequest } from './kit';
import type { PoolMember } from './loadbalancer/provider';

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

export function poolActivities({ balancer, log }: ActivityKit) {
  return {
    async addPoolMember(req: MemberRequest & { address: string }): Promise<string> {
      const outcome = await balancer(req.loadBalancer).addMember(req.name, req.address, req.loadBalancer.memberPort, healthCheckOf(req.loadBalancer));
      log(req.cluster, req.name).info({ address: req.address, outcome }, 'pool member added');
      return outcome;
    },

    /**
     * Waits until the balancer's own health check passes for the member. A member the balancer lost meanwhile (a
     * restart or reload drops dynamic servers) is added again at `address` and waited for; without an address (calls
     * recorded before it was passed) the loss fails the attempt.
     */
    async waitPoolMemberHealthy(req: MemberRequest & { address?: string }): Promise<PoolMember> {
      const pool = balancer(req.loadBalancer);
      const { healthCheck: h } = req.loadBalancer;
      let last: PoolMember | undefined;
      const up = await poll(`health of ${req.name}`, h.timeout, pool.pollIntervalMs, async () => {
        last = await pool.getMember(req.name);
        if (!last && req.address) {
          await pool.addMember(req.name, req.address, req.loadBalancer.memberPort, healthCheckOf(req.loadBalancer));
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
      const found = await balancer(req.loadBalancer).drainMember(req.name);
      log(req.cluster, req.name).info({ found }, 'draining pool member');
      return found;
    },

    /** Waits until the member has no open or queued sessions, or the grace period passes. */
    async waitForDrain(req: MemberRequest & { graceMs: number }): Promise<{ drained: boolean; sessions: number }> {
      const pool = balancer(req.loadBalancer);
      let sessions = 0;
      const drained = await poll(`drain of ${req.name}`, req.graceMs, Math.max(250, pool.pollIntervalMs), async () => {
        const m = await pool.getMember(req.name);
        sessions = m ? m.sessions + m.queued : 0;
        return sessions === 0 ? true : undefined;
      });
      return { drained: drained === true, sessions };
    },

    async removePoolMember(req: MemberRequest): Promise<boolean> {
      const existed = await balancer(req.loadBalancer).removeMember(req.name);
      log(req.cluster, req.name).info({ existed }, 'pool member removed');
      return existed;
    },

    async listPoolMembers(req: { loadBalancer: LoadBalancerSpec }): Promise<PoolMember[]> {
      return balancer(req.loadBalancer).listMembers();
    },
  };
}
