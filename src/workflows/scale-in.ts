// Scale-in: pick victims → drain → remove from pool → power off → destroy.
import { computeOf } from '../config/compute';
import { ApplicationFailure, CancellationScope, log, setHandler } from '@temporalio/workflow';
import type { ClusterSpec } from '../config/spec';
import { joinInventory, pickVictims } from '../policy/inventory';
import { warmName } from '../config/names';
import { lifecycleHooks } from './hooks';
import { activitiesFor, mapLimited, memberFailure, outOfRange, progressQuery, type MemberFailure, type OperationProgress } from './shared';
import { poolName } from '../config/balancer';

export interface ScaleInInput {
  spec: ClusterSpec;
  op: number;
  /** How many members to remove, chosen by the deletion policy... */
  count?: number;
  /** ...or exactly these members. */
  victims?: string[];
  /** Refuse a request that would take the cluster below min (the autoscaler has already checked). */
  checkBounds?: boolean;
  /** Return the first `count` victims to the warm pool (powered off, named `<cluster>-w<op>-<i>`) instead of destroying them. */
  reuse?: { count: number; op: number };
}

export interface ScaleInResult {
  op: number;
  removed: { name: string; drained: boolean; sessionsCut: number }[];
  failed: MemberFailure[];
}

export async function scaleIn(input: ScaleInInput): Promise<ScaleInResult> {
  const { spec, op } = input;
  const cluster = spec.name;
  const a = activitiesFor(spec);
  const progress: OperationProgress = { kind: 'scale-in', cluster, op, instances: [] };
  setHandler(progressQuery, () => progress);
  const runHooks = lifecycleHooks(spec, op, progress);

  const [vms, pool] = await Promise.all([
    a.quick.listVms({ compute: computeOf(spec), cluster }),
    a.quick.listPoolMembers({ loadBalancer: spec.loadBalancer }),
  ]);
  const members = joinInventory(cluster, vms, pool);
  let victims: string[];
  if (input.victims) {
    const unknown = input.victims.filter((v) => !members.some((m) => m.name === v));
    if (unknown.length) throw ApplicationFailure.create({ type: 'UnknownMember', nonRetryable: true, message: `cluster ${cluster} has no member ${unknown.join(', ')}` });
    victims = [...new Set(input.victims)];
  } else {
    const count = input.count ?? 0;
    if (!Number.isInteger(count) || count < 1) throw outOfRange(`scale-in count must be a whole number of at least 1, not ${count}`);
    victims = pickVictims(members, count, spec.deletionPolicy).map((m) => m.name);
  }
  if (input.checkBounds && members.length - victims.length < spec.min) {
    throw outOfRange(`scale-in of ${victims.length} would leave ${members.length - victims.length} members in cluster ${cluster}, below min ${spec.min}`);
  }
  progress.instances = victims.map((name) => ({ name, step: 'pending' }));

  // Once a victim is chosen it is taken all the way out, even if this run is cancelled: a half-removed member serves nobody.
  const outcomes = await CancellationScope.nonCancellable(() =>
    mapLimited(victims, Math.max(victims.length, 1), async (name, i) => {
      const p = progress.instances[i]!;
      // A member from before marks, serving under its name: destroyed by its name, as it was taken.
      const unmarked = members.find((m) => m.name === name)?.vm?.owner === '';
      const vmReq = { compute: computeOf(spec), cluster, name, ...(unmarked ? { unmarkedMember: true } : {}) };
      const memberReq = { loadBalancer: spec.loadBalancer, cluster, name };
      try {
        p.step = 'draining';
        const inPool = await a.quick.drainPoolMember.executeWithOptions({ summary: `drain ${name} in ${poolName(spec.loadBalancer)}` }, [memberReq]);
        const drain = inPool ? await a.drain.waitForDrain({ ...memberReq, graceMs: spec.drainGracePeriod }) : { drained: true, sessions: 0 };
        if (!drain.drained) log.warn('drain grace period passed; cutting sessions', { cluster, op, vm: name, sessions: drain.sessions });
        p.step = 'removing-from-pool';
        await a.quick.removePoolMember.executeWithOptions({ summary: `remove ${name} from ${poolName(spec.loadBalancer)}` }, [memberReq]);
        // Terminate hooks: drained and out of the pool, before power-off (collect logs, deregister…). Termination
        // goes on whatever they answer, as an auto-scaling group's does.
        await runHooks('terminate', name, undefined, p);
        p.step = 'powering-off';
        await a.quick.powerOffVm.executeWithOptions({ summary: `power off ${name}` }, [vmReq]);
        if (input.reuse && i < input.reuse.count) {
          const to = warmName(cluster, input.reuse.op, i + 1);
          await a.quick.renameVm.executeWithOptions({ summary: `return ${name} to the warm pool as ${to}` }, [{ ...vmReq, to }]);
          p.step = 'returned-to-warm-pool';
        } else if (spec.destroyAfterDeletion === false) {
          // Kept, off and out of the pool, and no longer the cluster's: never counted, reused or destroyed by it again.
          p.step = 'releasing';
          await a.quick.releaseVm.executeWithOptions({ summary: `release ${name}: kept powered off, no longer the cluster's` }, [vmReq]);
          p.step = 'released';
        } else {
          p.step = 'destroying';
          await a.quick.destroyVm.executeWithOptions({ summary: `destroy ${name}` }, [vmReq]);
          p.step = 'removed';
        }
        return { ok: true as const, name, drained: drain.drained, sessionsCut: drain.drained ? 0 : drain.sessions };
      } catch (err) {
        const failure = memberFailure(name, p.step, err);
        p.error = failure.error;
        p.step = 'failed';
        log.error('scale-in member failed', { cluster, op, vm: name, step: failure.step, error: p.error });
        return { ok: false as const, failure };
      }
    }),
  );
  const result: ScaleInResult = {
    op,
    removed: outcomes.flatMap((o) => (o.ok ? [{ name: o.name, drained: o.drained, sessionsCut: o.sessionsCut }] : [])),
    failed: outcomes.flatMap((o) => (o.ok ? [] : [o.failure])),
  };
  log.info('scale-in finished', { cluster, op, removed: result.removed.length, failed: result.failed.length });
  return result;
}
