// Joins what vSphere and the load balancer each say about a cluster into one member list, and picks scale-in victims.
import { parseMemberName, parseWarmName } from '../config/names';

export interface VmView {
  name: string;
  powerState: string;
  toolsRunning: boolean;
  ip?: string;
  createdAt?: string;
  /** The cluster the VM's ownership mark names, '' for none; absent if read before marks (see ComputeProvider). */
  owner?: string;
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

/**
 * Whether a VM named like the cluster's is the cluster's: its mark names the cluster; or it carries none but serves in
 * the pool under that name (a member made before marks, taken by its name as then); or it was read before marks
 * existed. A VM without the mark that does not serve is someone else's, whatever its name: never counted or destroyed.
 */
export function isOurs(cluster: string, vm: Pick<VmView, 'owner'>, inPool: boolean): boolean {
  return vm.owner === undefined || vm.owner === cluster || (vm.owner === '' && inPool);
}

/** The cluster's warm VMs, readiest first: running with an IP, then powered off, then any still being prepared. */
export function warmInventory(cluster: string, vms: VmView[]): (VmView & { op: number })[] {
  const rank = (v: VmView) => (v.powerState === 'poweredOn' && v.toolsRunning && v.ip ? 0 : v.powerState === 'poweredOff' ? 1 : 2);
  return vms
    .flatMap((v) => {
      // A warm VM never serves: it is taken only by its mark.
      if (!isOurs(cluster, v, false)) return [];
      const w = parseWarmName(cluster, v.name);
      return w ? [{ ...v, op: w.op }] : [];
    })
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** Members of `cluster`: every VM of its (see isOurs) and every pool member named like one, matched by name. */
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
  // A backend may be shared: only servers named like this cluster's members are ours.
  const served = pool.filter((p) => parseMemberName(cluster, p.name));
  const inPool = new Set(served.map((p) => p.name));
  for (const vm of vms) if (parseMemberName(cluster, vm.name) && isOurs(cluster, vm, inPool.has(vm.name))) get(vm.name).vm = vm;
  for (const p of served) get(p.name).pool = p;
  return [...byName.values()].sort((a, b) => a.op - b.op || a.index - b.index || a.name.localeCompare(b.name));
}

/**
 * Why a member cannot serve, or undefined: the one rule for "broken", used by scale-in's victim choice, health
 * replacement and status alike. MAINT is an operator's choice and DRAIN a scale-in's: neither is broken. A state
 * carried from before Tools were kept has `toolsRunning` true (not known to have stopped).
 */
export function memberProblem(m: Pick<Member, 'vm' | 'pool'>): string | undefined {
  if (!m.vm) return 'it has no VM';
  if (m.vm.powerState !== 'poweredOn') return `its VM is ${m.vm.powerState}`;
  if (!m.vm.toolsRunning) return 'VMware Tools stopped running';
  if (!m.vm.ip) return 'its VM reports no IP';
  if (m.pool?.status === 'DOWN') return 'DOWN in the balancer';
  return undefined;
}

/** A member as status, the API and `poolpilot members` show it: the one place its words for "absent" are written. */
export interface MemberSummary {
  name: string;
  ip?: string;
  /** The cloud's power state, or 'no VM'. */
  power: string;
  /** The balancer's status, or 'not in pool'. */
  pool: string;
  sessions: number;
  /** VMware Tools (or the guest agent) running; absent without a VM. */
  tools?: boolean;
}

const NO_VM = 'no VM';
const NOT_IN_POOL = 'not in pool';

export function summarize(m: Member): MemberSummary {
  return {
    name: m.name,
    ...(m.vm?.ip ?? m.pool?.address ? { ip: m.vm?.ip ?? m.pool?.address } : {}),
    power: m.vm?.powerState ?? NO_VM,
    pool: m.pool?.status ?? NOT_IN_POOL,
    sessions: m.pool?.sessions ?? 0,
    ...(m.vm ? { tools: m.vm.toolsRunning } : {}),
  };
}

/**
 * A member from a summary, for autoscaler states carried from runs that kept only summaries (read once, at start).
 * A VM's creation time was not kept: the op number orders such members by age until the next reconcile.
 */
export function fromSummary(cluster: string, m: MemberSummary): Member {
  const parsed = parseMemberName(cluster, m.name) ?? { op: 0, index: 0 };
  return {
    name: m.name,
    ...parsed,
    ...(m.power !== NO_VM ? { vm: { name: m.name, powerState: m.power, toolsRunning: m.tools ?? true, ...(m.ip ? { ip: m.ip } : {}) } } : {}),
    ...(m.pool !== NOT_IN_POOL ? { pool: { name: m.name, address: m.ip ?? '', status: m.pool, sessions: m.sessions } } : {}),
  };
}

function age(m: Member): number {
  const t = m.vm?.createdAt ? Date.parse(m.vm.createdAt) : NaN;
  // Without a creation time, the op number orders members by age.
  return Number.isFinite(t) ? t : m.op * 1e6 + m.index;
}

/** Broken members first, then by the deletion policy (Senlin's and Avi's YOUNGEST_FIRST by default). */
export function pickVictims(members: Member[], count: number, policy: DeletionPolicy = 'YOUNGEST_FIRST'): Member[] {
  const order = [...members].sort((a, b) => {
    const broken = Number(!!memberProblem(b)) - Number(!!memberProblem(a));
    if (broken) return broken;
    const byAge = policy === 'YOUNGEST_FIRST' ? age(b) - age(a) : age(a) - age(b);
    const byName = a.op - b.op || a.index - b.index || a.name.localeCompare(b.name);
    return byAge || (policy === 'YOUNGEST_FIRST' ? -byName : byName);
  });
  return order.slice(0, Math.max(0, count));
}
