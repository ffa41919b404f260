// Reconcile: read vSphere and the balancer, repair what differs, and refresh the autoscaler's member list.
import { isCancellation } from '@temporalio/workflow';
import { computeOf, guestTimeoutOf } from '../config/compute';
import { trackHealth } from '../policy/health';
import { joinInventory, warmInventory, type Member } from '../policy/inventory';
import { record, type Autoscaling } from './autoscaler-state';
import { activitiesFor, describeFailure } from './shared';
import { poolLabel } from '../config/balancer';
import { opOfName } from '../config/names';

/** While a run is under way: its op, whose members the run adds (and undoes) itself. */
export interface ReconcileDuring {
  running: number;
}

/** Repairs what differs between vSphere and the balancer and refreshes `s.members`; throws if either cannot be read. */
async function repair(a: Autoscaling, during?: ReconcileDuring): Promise<Member[]> {
  const { s, cluster } = a;
  const spec = s.spec;
  const { quick: act, inspect } = activitiesFor(spec);
  const [vms, pool] = await Promise.all([inspect.listVms({ compute: computeOf(spec), cluster }), inspect.listPoolMembers({ loadBalancer: spec.loadBalancer })]);
  const members = joinInventory(cluster, vms, pool);
  s.warm = warmInventory(cluster, vms).map((v) => ({ name: v.name, power: v.powerState, ...(v.ip ? { ip: v.ip } : {}) }));
  const note = (reason: string) => record(a, { current: members.length, desired: members.length, action: 'reconcile', code: 'Reconciled', reason, source: 'reconcile' });
  // A half-built VM older than a scale-out could take was left by a run that died: it is removed.
  const stale = guestTimeoutOf(computeOf(spec)) + spec.loadBalancer.healthCheck.timeout + 120_000;
  for (const m of members) {
    // A run's own members are the run's to add, wait for and undo.
    if (during && m.op === during.running) continue;
    const req = { cluster, name: m.name };
    if (m.vm && !m.pool && m.vm.powerState === 'poweredOn' && m.vm.toolsRunning && m.vm.ip) {
      // The balancer lost it (a reload drops dynamic servers): register it again.
      await act.addPoolMember({ ...req, loadBalancer: spec.loadBalancer, address: m.vm.ip });
      m.pool = { name: m.name, address: m.vm.ip, status: 'CHECKING', sessions: 0 };
      note(`${m.name} (${m.vm.ip}) was missing from ${poolLabel(spec.loadBalancer)}: added again`);
    } else if (!m.vm && m.pool) {
      await act.removePoolMember({ ...req, loadBalancer: spec.loadBalancer });
      note(`pool member ${m.name} has no VM: removed from the pool`);
      m.pool = undefined;
    } else if (m.vm && !m.pool && (!m.vm.createdAt || Date.now() - Date.parse(m.vm.createdAt) > stale)) {
      await act.destroyVm({ ...req, compute: computeOf(spec) });
      note(`VM ${m.name} never joined the pool (${m.vm.powerState}, ${m.vm.ip ?? 'no IP'}): destroyed`);
      m.vm = undefined;
    }
  }
  const live = members.filter((m) => m.vm || m.pool);
  s.members = live;
  s.unhealthy = trackHealth(s.unhealthy ?? {}, s.members, Date.now());
  // Op numbers continue above anything found (warm VMs, and VMs that are not ours but hold a member's name, too), so
  // a derived name is never reused while a VM of that name exists.
  const highest = Math.max(0, ...live.map((m) => m.op), ...vms.map((v) => opOfName(cluster, v.name) ?? 0));
  if (highest >= s.opCounter) s.opCounter = highest + 1;
  s.lastReconcileAt = Date.now();
  return live;
}

/** Reconciles; a failure is kept as the ReconcileFailed condition until a later reconcile succeeds. */
export async function reconcile(a: Autoscaling, during?: ReconcileDuring): Promise<void> {
  try {
    await repair(a, during);
    a.s.reconcileError = undefined;
  } catch (err) {
    // A repair cut short by the end of its run (whileRepairing cancels it) found nothing wrong with vSphere or the
    // balancer: it showed as ReconcileFailed, with no reason, until the reconcile after the run. Still swallowed, so
    // the loop goes on as before (no command changes).
    if (isCancellation(err)) return;
    a.s.reconcileError = `reconcile failed: ${describeFailure(err)}`;
  }
}
