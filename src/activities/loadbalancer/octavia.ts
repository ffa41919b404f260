// The OpenStack Octavia adapter of the load-balancer port, from the Octavia v2 API: pool members added and deleted by
// name, address and protocol port; a drain sets the member's weight to 0 (no new connections, open ones go on); health
// is the member's operating_status. A write while the load balancer is busy (409 "immutable", PENDING_UPDATE) waits
// and is sent again rather than failed.
//
// Octavia reports ONLINE / ERROR only when the pool has a health monitor and its amphorae report; without a monitor a
// member is NO_MONITOR, and poolpilot takes it as serving once it is provisioned (ACTIVE). Octavia has no per-member
// open-connection count in its API, so a drain waits drainGracePeriod in full.
import type { OctaviaBalancerSpec } from '../../config/spec';
import { sleepCancellable as sleep } from '../cancellation';
import { permanent } from '../errors';
import { OpenstackHttpError, type KeystoneSession } from '../keystone';
import type { HealthCheck, LoadBalancer, MemberStatus, PoolMember } from './provider';

/** A member as GET /v2/lbaas/pools/{pool_id}/members gives it; only the fields poolpilot reads. */
export interface OctaviaMember {
  id: string;
  name: string;
  address: string;
  protocol_port: number;
  weight?: number;
  admin_state_up?: boolean;
  provisioning_status?: string;
  operating_status?: string;
}

/** How long a write waits for a busy load balancer (409 immutable) before it gives up as a retryable error. */
const IMMUTABLE_WAIT_MS = 120_000;

/** Octavia's member states → the states the workflows use. */
export function octaviaMemberStatus(m: Pick<OctaviaMember, 'weight' | 'admin_state_up' | 'provisioning_status' | 'operating_status'>): { status: MemberStatus; checkPassed: boolean } {
  if (m.admin_state_up === false) return { status: 'MAINT', checkPassed: false };
  if (m.weight === 0 || m.operating_status === 'DRAINING') return { status: 'DRAIN', checkPassed: m.operating_status === 'ONLINE' || m.operating_status === 'NO_MONITOR' };
  if (m.provisioning_status && m.provisioning_status !== 'ACTIVE') {
    return { status: m.provisioning_status === 'ERROR' ? 'DOWN' : 'CHECKING', checkPassed: false };
  }
  switch (m.operating_status) {
    // NO_MONITOR: no health monitor on the pool, nothing checks the member; provisioned, it is taken as serving.
    case 'ONLINE':
    case 'NO_MONITOR':
      return { status: 'UP', checkPassed: true };
    case 'ERROR':
    case 'OFFLINE':
      return { status: 'DOWN', checkPassed: false };
    default:
      return { status: 'CHECKING', checkPassed: false };
  }
}

export class OctaviaLoadBalancer implements LoadBalancer {
  /** A member read is one API call, but the API is a shared service: not more often than this. */
  readonly pollIntervalMs = 1000;
  private poolId: string | undefined;
  private subnetId: string | undefined;
  /** Writes sent again after a 409 immutable, for tests. */
  immutableRetries = 0;

  constructor(
    private readonly keystone: KeystoneSession,
    readonly spec: Pick<OctaviaBalancerSpec, 'pool' | 'subnet'>,
  ) {}

  private async pool(): Promise<string> {
    if (this.poolId) return this.poolId;
    const p = this.spec.pool;
    const direct = await this.keystone.call<{ pool: { id: string } }>('load-balancer', 'GET', `v2/lbaas/pools/${encodeURIComponent(p)}`, undefined, { accept: [400, 404] });
    let id = direct.status === 200 ? direct.body.pool.id : undefined;
    if (!id) {
      const found = (await this.keystone.call<{ pools: { id: string; name: string }[] }>('load-balancer', 'GET', `v2/lbaas/pools?name=${encodeURIComponent(p)}`)).body.pools.filter((x) => x.name === p);
      if (found.length !== 1)
        throw permanent(
          found.length ? 'InvalidSpec' : 'BackendNotFound',
          found.length ? `loadBalancer.octavia.pool "${p}" names ${found.length} pools: give its id` : `Octavia has no pool "${p}" in this project (${this.keystone.cloud.authUrl}); fix loadBalancer.octavia.pool in the spec`,
        );
      id = found[0]!.id;
    }
    if (this.spec.subnet) {
      const s = this.spec.subnet;
      const byId = await this.keystone.call<{ subnet: { id: string } }>('network', 'GET', `v2.0/subnets/${encodeURIComponent(s)}`, undefined, { accept: [400, 404] });
      this.subnetId = byId.status === 200 ? byId.body.subnet.id : undefined;
      if (!this.subnetId) {
        const found = (await this.keystone.call<{ subnets: { id: string; name: string }[] }>('network', 'GET', `v2.0/subnets?name=${encodeURIComponent(s)}`)).body.subnets;
        if (found.length !== 1) throw permanent('InventoryNotFound', `loadBalancer.octavia.subnet "${s}" ${found.length ? `names ${found.length} subnets: give its id` : 'was not found in Neutron'}`);
        this.subnetId = found[0]!.id;
      }
    }
    this.poolId = id;
    return id;
  }

  /** A call on this pool's members; a 404 on the pool (deleted, or recreated with a new id) finds it by name once more. */
  private async onPool<T>(method: string, sub: string, body?: unknown, accept: number[] = []) {
    const path = async () => `v2/lbaas/pools/${await this.pool()}/members${sub}`;
    const first = await this.write<T>(method, await path(), body, [...accept, 404]);
    if (first.status !== 404 || accept.includes(404)) return first;
    if (/pool/i.test(first.detail ?? '') || sub === '') {
      this.poolId = undefined;
      return this.write<T>(method, await path(), body, accept);
    }
    return first;
  }

  /** Sends a call; a 409 "immutable" (the load balancer is PENDING_UPDATE with another change) is waited out and sent again. */
  private async write<T>(method: string, path: string, body: unknown, accept: number[]) {
    const deadline = Date.now() + IMMUTABLE_WAIT_MS;
    for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
      const r = await this.keystone.call<T>('load-balancer', method, path, body, { accept: [...accept, 409] });
      if (r.status !== 409 || !/immutable/i.test(r.detail ?? '')) {
        if (r.status === 409 && !accept.includes(409)) throw new OpenstackHttpError(409, r.detail ?? '', `${method} ${path}`);
        return r;
      }
      if (Date.now() > deadline) throw new OpenstackHttpError(409, `${r.detail} (still busy after ${IMMUTABLE_WAIT_MS / 1000} s)`, `${method} ${path}`);
      this.immutableRetries++;
      await sleep(wait);
    }
  }

  /**
   * The pool's members, without those on their way out: a member deleted a moment ago stays listed (PENDING_DELETE)
   * until Octavia's worker is done, and a second DELETE of it is accepted once the load balancer is ACTIVE again, so a
   * remove of a removed member would read as a removal.
   */
  async members(): Promise<OctaviaMember[]> {
    const { members } = (await this.onPool<{ members: OctaviaMember[] }>('GET', '')).body;
    return members.filter((m) => m.provisioning_status !== 'PENDING_DELETE' && m.provisioning_status !== 'DELETED');
  }

  private toMember(m: OctaviaMember): PoolMember {
    const { status, checkPassed } = octaviaMemberStatus(m);
    return {
      name: m.name || `${m.address}:${m.protocol_port}`,
      address: m.address,
      port: m.protocol_port,
      status,
      checkPassed,
      sessions: 0,
      totalSessions: 0,
      rate: 0,
      queued: 0,
      check: `${m.provisioning_status ?? '?'}/${m.operating_status ?? '?'}`,
    };
  }

  async listMembers(): Promise<PoolMember[]> {
    return (await this.members()).map((m) => this.toMember(m));
  }

  async getMember(name: string): Promise<PoolMember | undefined> {
    const m = (await this.members()).find((x) => x.name === name);
    return m && this.toMember(m);
  }

  /** Health checks are the pool's health monitor in Octavia; `check` is not used. */
  async addMember(name: string, address: string, port: number, _check: HealthCheck): Promise<'added' | 'exists' | 'replaced'> {
    const all = await this.members();
    const existing = all.find((m) => m.name === name);
    if (existing && existing.address === address && existing.protocol_port === port) {
      // A member left at weight 0 by an interrupted drain takes connections again.
      if (existing.weight === 0 || existing.admin_state_up === false) await this.onPool('PUT', `/${existing.id}`, { member: { weight: 1, admin_state_up: true } });
      return 'exists';
    }
    // The same address and port under another name (a member whose server was replaced) must go: Octavia keeps them unique.
    const stale = all.filter((m) => m !== existing && m.address === address && m.protocol_port === port);
    for (const m of [...(existing ? [existing] : []), ...stale]) await this.onPool('DELETE', `/${m.id}`, undefined, [404]);
    await this.pool();
    const r = await this.onPool<{ member: OctaviaMember }>('POST', '', { member: { name, address, protocol_port: port, weight: 1, ...(this.subnetId ? { subnet_id: this.subnetId } : {}) } }, [409]);
    if (r.status === 409) {
      // Added meanwhile by an earlier attempt whose answer was lost: the duplicate is this member.
      const again = (await this.members()).find((m) => m.name === name && m.address === address && m.protocol_port === port);
      if (!again) throw new OpenstackHttpError(409, r.detail ?? '', `add member ${name}`);
      return 'exists';
    }
    return existing || stale.length ? 'replaced' : 'added';
  }

  async drainMember(name: string): Promise<boolean> {
    const m = (await this.members()).find((x) => x.name === name);
    if (!m) return false;
    if (m.weight !== 0) await this.onPool('PUT', `/${m.id}`, { member: { weight: 0 } });
    return true;
  }

  async removeMember(name: string): Promise<boolean> {
    const m = (await this.members()).find((x) => x.name === name);
    if (!m) return false;
    const r = await this.onPool('DELETE', `/${m.id}`, undefined, [404]);
    return r.status !== 404;
  }
}
