// Scale-out: take a warm VM or clone → wait for tools and IP → add to pool → wait healthy, per new member; a failed
// member is undone.
import { computeOf, sourceOf } from '../config/compute';
import { ApplicationFailure, CancellationScope, isCancellation, log, patched, setHandler } from '@temporalio/workflow';
import type { ClusterSpec } from '../config/spec';
import { hookAbandoned, lifecycleHooks } from './hooks';
import { memberName } from '../config/names';
import { activitiesFor, describeFailure, mapLimited, memberFailure, outOfRange, progressQuery, type InstanceProgress, type MemberFailure, type OperationProgress } from './shared';
import { poolName } from '../config/balancer';
import { PATCHES } from './patches';

export interface ScaleOutInput {
  spec: ClusterSpec;
  op: number;
  count: number;
  /** Refuse a count that would take the cluster above max (the autoscaler has already checked). */
  checkBounds?: boolean;
  /** Warm VMs to take first, in order: each becomes a member (renamed, powered on), the rest are cloned. */
  warm?: string[];
}

export interface ScaleOutResult {
  op: number;
  joined: { name: string; ip: string }[];
  failed: MemberFailure[];
}

export async function scaleOut(input: ScaleOutInput): Promise<ScaleOutResult> {
  const { spec, op, count } = input;
  const cluster = spec.name;
  if (!Number.isInteger(count) || count < 1) throw outOfRange(`scale-out count must be a whole number of at least 1, not ${count}`);
  const a = activitiesFor(spec);
  // The bound check and the join of the pool: local activities since this patch (the same calls and retries).
  const short = patched(PATCHES.localRunSteps) ? a.local : a.quick;
  const names = Array.from({ length: count }, (_, i) => memberName(cluster, op, i + 1));
  const progress: OperationProgress = { kind: 'scale-out', cluster, op, instances: names.map((name) => ({ name, step: 'pending' })) };
  setHandler(progressQuery, () => progress);
  const runHooks = lifecycleHooks(spec, op, progress);

  if (input.checkBounds) {
    const existing = (await short.listVms({ compute: computeOf(spec), cluster })).filter((vm) => !names.includes(vm.name));
    if (existing.length + count > spec.max) {
      throw outOfRange(`scale-out of ${count} would make ${existing.length + count} members in cluster ${cluster}, above max ${spec.max}`);
    }
  }

  let cancelled: unknown;
  const outcomes = await mapLimited(names, spec.provisioningConcurrency, async (name, i) => {
    const p: InstanceProgress = progress.instances[i]!;
    const vmReq = { compute: computeOf(spec), cluster, name };
    const memberReq = { loadBalancer: spec.loadBalancer, cluster, name };
    // Newest first. Each undo is registered before its step runs: a step that succeeded in the world
    // but not in our history (a crash, a timeout) is undone too, and undoing what is not there succeeds.
    const compensations: { what: string; run: () => Promise<unknown> }[] = [];
    try {
      compensations.unshift({ what: `destroy ${name}`, run: () => a.quick.destroyVm(vmReq) });
      compensations.unshift({ what: `power off ${name}`, run: () => a.quick.powerOffVm(vmReq) });
      const warm = input.warm?.[i];
      if (warm) {
        // Renamed first: the VM is warm (never served) or a member, never both, whatever happens next.
        p.step = 'taking-warm';
        await a.quick.renameVm.executeWithOptions({ summary: `take warm ${warm} as ${name}` }, [{ ...vmReq, name: warm, to: name }]);
        await a.quick.powerOnVm.executeWithOptions({ summary: `power on ${name}` }, [vmReq]);
      } else {
        p.step = 'cloning';
        await a.quick.cloneVm.executeWithOptions({ summary: `clone ${name} from ${sourceOf(computeOf(spec))}` }, [vmReq]);
      }
      p.step = 'waiting-for-guest';
      const vm = await a.guest.waitForGuestIp.executeWithOptions({ summary: `wait for VMware Tools and an IP on ${name}` }, [vmReq]);
      p.ip = vm.ip;
      // Launch hooks: the VM has its IP and has not joined; ABANDON undoes it like any failed member.
      if ((await runHooks('launch', name, vm.ip, p)) === 'ABANDON') throw hookAbandoned(name, p);
      compensations.unshift({ what: `remove ${name} from the pool`, run: () => a.quick.removePoolMember(memberReq) });
      p.step = 'adding-to-pool';
      await short.addPoolMember.executeWithOptions({ summary: `add ${name} (${vm.ip}) to ${poolName(spec.loadBalancer)}` }, [{ ...memberReq, address: vm.ip }]);
      p.step = 'waiting-healthy';
      await a.health.waitPoolMemberHealthy.executeWithOptions({ summary: `wait until ${name} passes its health check` }, [{ ...memberReq, address: vm.ip }]);
      p.step = 'joined';
      return { ok: true as const, name, ip: vm.ip };
    } catch (err) {
      if (isCancellation(err)) cancelled = err;
      const failure = memberFailure(name, p.step, err);
      p.error = failure.error;
      p.step = 'compensating';
      log.warn('scale-out member failed; compensating', { cluster, op, vm: name, step: failure.step, error: p.error });
      await CancellationScope.nonCancellable(async () => {
        for (const c of compensations) {
          try {
            await c.run();
          } catch (undoErr) {
            // A failed undo is logged, not thrown: the remaining undos still run, and reconcile finds leftovers.
            log.error('compensation failed', { cluster, op, vm: name, compensation: c.what, error: describeFailure(undoErr) });
          }
        }
      });
      p.step = 'failed';
      return { ok: false as const, failure };
    }
  });

  if (cancelled) throw cancelled;
  const result: ScaleOutResult = {
    op,
    joined: outcomes.flatMap((o) => (o.ok ? [{ name: o.name, ip: o.ip }] : [])),
    failed: outcomes.flatMap((o) => (o.ok ? [] : [o.failure])),
  };
  log.info('scale-out finished', { cluster, op, joined: result.joined.length, failed: result.failed.length });
  if (result.joined.length === 0) {
    const reasons = [...new Set(result.failed.map((f) => f.error))];
    throw ApplicationFailure.create({
      type: 'ScaleOutFailed',
      nonRetryable: true,
      message: `scale-out ${op} of cluster ${cluster}: no member joined (${reasons.join('; ')}); everything it made was undone`,
      details: [result],
    });
  }
  return result;
}
