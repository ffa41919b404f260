// Joins what vSphere and the load balancer each say about a cluster into one member list, and picks scale-in victims.
import { parseMemberName, parseWarmName } from '../config/names';

export interface VmView {
  name: string;
  powerState: string;
  toolsRunning: boolean;
  ip?: string;
  createdAt?: string;
}

export interface PoolView {
  name: string;
  address: string;
  status: string;
  sessions: number;
}

export interface Member {
  name: string;
  vm?: VmView;
  pool?: PoolView;
  /** Op number and index parsed from the derived name <cluster>-<op>-<i>. */
  op: number;
  index: number;
}

export type DeletionPolicy = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

/** The cluster's warm VMs, readiest first: running with an IP, then powered off, then any still being prepared. */
export function warmInventory(cluster: string, vms: VmView[]): (VmView & { op: number })[] {
  const rank = (v: VmView) => (v.powerState === 'poweredOn' && v.toolsRunning && v.ip ? 0 : v.powerState === 'poweredOff' ? 1 : 2);
  return vms
    .flatMap((v) => {
      const w = parseWarmName(cluster, v.name);
      return w ? [{ ...v, op: w.op }] : [];
    })
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** Members of `cluster`: every VM and every pool member named like one, matched by name. */
export function joinInventory(cluster: string, vms: VmView[], pool: PoolView[]): Member[] {
  const byName = new Map<string, Member>();
  const get = (name: string) => {
    let m = byName.get(name);
    if (!m) {
      const parsed = parseMemberName(cluster, name) ?? { op: 0, index: 0 };
      m = { name, ...parsed };
      byName.set(name, m);
    }
    return m;
  };
  for (const vm of vms) if (parseMemberName(cluster, vm.name)) get(vm.name).vm = vm;
  // A backend may be shared: only servers named like this cluster's members are ours.
  for (const p of pool) if (parseMemberName(cluster, p.name)) get(p.name).pool = p;
  return [...byName.values()].sort((a, b) => a.op - b.op || a.index - b.index || a.name.localeCompare(b.name));
}

/** A member that cannot serve: no VM, VM not running, or the balancer says DOWN. */
export function isBroken(m: Member): boolean {
  if (!m.vm || m.vm.powerState !== 'poweredOn') return true;
  return m.pool?.status === 'DOWN' || m.pool?.status === 'MAINT';
}

function age(m: Member): number {
  const t = m.vm?.createdAt ? Date.parse(m.vm.createdAt) : NaN;
  // Without a creation time, the op number orders members by age.
  return Number.isFinite(t) ? t : m.op * 1e6 + m.index;
}

/** Broken members first, then by the deletion policy (Senlin's and Avi's YOUNGEST_FIRST by default). */
export function pickVictims(members: Member[], count: number, policy: DeletionPolicy = 'YOUNGEST_FIRST'): Member[] {
  const order = [...members].sort((a, b) => {
    const broken = Number(isBroken(b)) - Number(isBroken(a));
    if (broken) return broken;
    const byAge = policy === 'YOUNGEST_FIRST' ? age(b) - age(a) : age(a) - age(b);
    const byName = a.op - b.op || a.index - b.index || a.name.localeCompare(b.name);
    return byAge || (policy === 'YOUNGEST_FIRST' ? -byName : byName);
  });
  return order.slice(0, Math.max(0, count));
}
