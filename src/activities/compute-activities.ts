// The compute activities: a member's server through the spec's cloud provider (vSphere or Nova), whichever it is.
import { Context } from '@temporalio/activity';
import { cloudOfRequest, guestTimeoutOf } from '../config/compute';
import { vmNamePrefix } from '../config/names';
import type { VmInfo } from './compute/provider';
import type { ActivityKit, ListRequest, VmRequest } from './kit';

export function computeActivities({ compute, log }: ActivityKit) {
  return {
    async cloneVm(req: VmRequest): Promise<VmInfo & { adopted: boolean }> {
      const vm = await compute(req).cloneVm(req.name, { askedAtMs: Context.current().info.scheduledTimestampMs });
      log(req.cluster, req.name).info({ adopted: vm.adopted, id: vm.id }, vm.adopted ? 'adopted existing VM' : 'cloned VM');
      return vm;
    },

    async waitForGuestIp(req: VmRequest): Promise<VmInfo & { ip: string }> {
      const ctx = Context.current();
      const vm = await compute(req).waitForGuestIp(req.name, guestTimeoutOf(cloudOfRequest(req)), (info) => {
        ctx.heartbeat({ power: info?.powerState, tools: info?.toolsRunning });
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
      });
      log(req.cluster, req.name).info({ ip: vm.ip }, 'guest is up');
      return vm;
    },

    async powerOnVm(req: VmRequest): Promise<boolean> {
      return compute(req).powerOnVm(req.name);
    },

    async renameVm(req: VmRequest & { to: string }): Promise<'renamed' | 'done'> {
      const outcome = await compute(req).renameVm(req.name, req.to);
      log(req.cluster, req.name).info({ to: req.to, outcome }, 'renamed VM');
      return outcome;
    },

    async powerOffVm(req: VmRequest): Promise<boolean> {
      return compute(req).powerOffVm(req.name);
    },

    async destroyVm(req: VmRequest): Promise<boolean> {
      const gone = await compute(req).destroyVm(req.name, { unmarkedMember: req.unmarkedMember });
      log(req.cluster, req.name).info({ existed: gone }, 'destroyed VM');
      return gone;
    },

    async releaseVm(req: VmRequest): Promise<boolean> {
      const released = await compute(req).releaseVm(req.name);
      log(req.cluster, req.name).info({ released }, 'released VM: kept, no longer the cluster\'s');
      return released;
    },

    async listVms(req: ListRequest): Promise<VmInfo[]> {
      return compute(req).listVms(vmNamePrefix(req.cluster));
    },
  };
}
