// The warm pool's refill: clone → wait for Tools and IP (the first boot done) → power off or stay running, per VM.
// Warm VMs have derived names the autoscaler knows (`<cluster>-w<op>-<i>`): never served, never taken for orphans.
import { computeOf, sourceOf } from '../config/compute';
import { CancellationScope, log, setHandler } from '@temporalio/workflow';
import type { ClusterSpec } from '../config/spec';
import { warmName } from '../config/names';
import { activitiesFor, describeFailure, mapLimited, progressQuery, type OperationProgress } from './shared';

export interface WarmPoolFillInput {
  spec: ClusterSpec;
  op: number;
  count: number;
}

export interface WarmPoolFillResult {
  op: number;
  ready: string[];
  failed: { name: string; error: string }[];
}

export async function warmPoolFill(input: WarmPoolFillInput): Promise<WarmPoolFillResult> {
  const { spec, op, count } = input;
  const cluster = spec.name;
  const a = activitiesFor(spec);
  const names = Array.from({ length: count }, (_, i) => warmName(cluster, op, i + 1));
  const progress: OperationProgress = { kind: 'warm-pool', cluster, op, instances: names.map((name) => ({ name, step: 'pending' })) };
  setHandler(progressQuery, () => progress);
  const outcomes = await mapLimited(names, spec.provisioningConcurrency, async (name, i) => {
    const p = progress.instances[i]!;
    const req = { compute: computeOf(spec), cluster, name };
    try {
      p.step = 'cloning';
      await a.quick.cloneVm.executeWithOptions({ summary: `clone warm ${name} from ${sourceOf(computeOf(spec))}` }, [req]);
      p.step = 'waiting-for-guest';
      const vm = await a.guest.waitForGuestIp.executeWithOptions({ summary: `first boot of warm ${name}` }, [req]);
      p.ip = vm.ip;
      if (spec.warmPool.state === 'poweredOff') {
        p.step = 'powering-off-warm';
        await a.quick.powerOffVm.executeWithOptions({ summary: `power off warm ${name}` }, [req]);
      }
      p.step = 'warm';
      return { ok: true as const, name };
    } catch (err) {
      p.error = describeFailure(err);
      p.step = 'compensating';
      // A warm VM a scale-out took meanwhile has a member's name now: destroying the warm name finds nothing.
      await CancellationScope.nonCancellable(() => a.quick.destroyVm(req)).catch((e: unknown) => log.error('warm VM cleanup failed', { cluster, vm: name, error: describeFailure(e) }));
      p.step = 'failed';
      return { ok: false as const, name, error: p.error };
    }
  });
  const result = {
    op,
    ready: outcomes.flatMap((o) => (o.ok ? [o.name] : [])),
    failed: outcomes.flatMap((o) => (o.ok ? [] : [{ name: o.name, error: o.error }])),
  };
  log.info('warm pool refilled', { cluster, op, ready: result.ready.length, failed: result.failed.length });
  return result;
}
