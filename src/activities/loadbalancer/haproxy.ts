// The HAProxy adapter of the load-balancer port: dynamic servers through the Runtime API.
import { permanent } from '../errors';
import type { HealthCheck, LoadBalancer, MemberStatus, PoolMember } from './provider';
import { parseStatCsv, RuntimeApiError, socketTransport, type RuntimeTransport } from './runtime-api';

function memberStatus(status: string): MemberStatus {
  if (status.startsWith('MAINT')) return 'MAINT';
  if (status.startsWith('DRAIN') || status === 'NOLB') return 'DRAIN';
  // "UP 1/2" is UP and going down; "DOWN 1/2" is DOWN and coming up.
  if (status.startsWith('UP') || status === 'no check') return 'UP';
  if (status.startsWith('DOWN')) return status.includes('/') ? 'CHECKING' : 'DOWN';
  return 'CHECKING';
}

function toMember(row: Record<string, string>): PoolMember {
  const addr = row.addr ?? '';
  const colon = addr.lastIndexOf(':');
  const status = memberStatus(row.status ?? '');
  return {
    name: row.svname ?? '',
    address: colon > 0 ? addr.slice(0, colon) : addr,
    port: colon > 0 ? Number(addr.slice(colon + 1)) : 0,
    status,
    // A new server reads UP with check INI before its first check; only a passed check counts.
    checkPassed: status === 'UP' && /^L[467]OK$/.test(row.check_status ?? ''),
    sessions: Number(row.scur || 0),
    totalSessions: Number(row.stot || 0),
    rate: Number(row.rate || 0),
    queued: Number(row.qcur || 0),
    check: row.check_status || undefined,
  };
}

export class HaproxyLoadBalancer implements LoadBalancer {
  /**
   * The runtime API on a local socket answers one backend's `show stat` in about a millisecond, so a health wait reads
   * every 25 ms: the check passes one check interval after the member is added, and at 100 ms a read just before it
   * could add up to 100 ms to every scale-out (bench/scale-out.ts measures it).
   */
  readonly pollIntervalMs = 25;

  constructor(
    private readonly socket: string,
    private readonly backend: string,
    /** The runtime socket, or recorded answers in tests. */
    private readonly transport: RuntimeTransport = socketTransport,
  ) {}

  private command(command: string): Promise<string> {
    return this.transport(this.socket, command, {});
  }

  private async run(command: string, ok: RegExp = /^\s*$/, shared = false): Promise<string> {
    const answer = await this.transport(this.socket, command, { shared });
    if (/No such backend|No such proxy|is not a backend/i.test(answer)) {
      throw permanent('BackendNotFound', `HAProxy at ${this.socket} has no backend "${this.backend}"; fix loadBalancer.haproxy.backend in the spec or the HAProxy configuration`);
    }
    if (!ok.test(answer)) throw new RuntimeApiError(command, answer);
    return answer;
  }

  /**
   * The backend's server rows of `show stat`. `shared` joins an identical read already in flight: right for metric
   * polls, wrong after a change this caller made (the shared answer may predate it).
   */
  async stats(opts: { shared?: boolean } = {}): Promise<Record<string, string>[]> {
    // Type 4 is "servers"; -1 is "all of them".
    const csv = await this.run(`show stat ${this.backend} 4 -1`, /^# pxname/, !!opts.shared);
    return parseStatCsv(csv).filter((r) => r.pxname === this.backend && r.svname !== 'BACKEND' && r.svname !== 'FRONTEND');
  }

  async listMembers(): Promise<PoolMember[]> {
    return (await this.stats()).map(toMember);
  }

  async getMember(name: string): Promise<PoolMember | undefined> {
    return (await this.listMembers()).find((m) => m.name === name);
  }

  async addMember(name: string, address: string, port: number, check: HealthCheck): Promise<'added' | 'exists' | 'replaced'> {
    const existing = await this.getMember(name);
    let outcome: 'added' | 'exists' | 'replaced' = 'added';
    if (existing && existing.address === address && existing.port === port) {
      outcome = 'exists';
    } else {
      if (existing) {
        await this.removeMember(name);
        outcome = 'replaced';
      }
      const answer = await this.command(
        `add server ${this.backend}/${name} ${address}:${port} check inter ${check.intervalMs} rise ${check.rise} fall ${check.fall}`,
      );
      // A concurrent attempt may have added it first: that is the outcome we want.
      if (!/New server registered|Already exists a server/i.test(answer)) {
        if (/No such backend/i.test(answer)) await this.run(`show stat ${this.backend} 4 -1`, /^# pxname/);
        throw new RuntimeApiError(`add server ${this.backend}/${name}`, answer);
      }
    }
    // Dynamic servers start in maintenance with checks off; both commands are harmless when repeated.
    if (outcome !== 'exists' || existing?.status === 'MAINT') {
      await this.run(`enable health ${this.backend}/${name}`);
      await this.run(`enable server ${this.backend}/${name}`);
    }
    return outcome;
  }

  async drainMember(name: string): Promise<boolean> {
    const answer = await this.command(`set server ${this.backend}/${name} state drain`);
    if (/No such server/i.test(answer)) return false;
    if (answer.trim() !== '') throw new RuntimeApiError(`set server ${this.backend}/${name} state drain`, answer);
    return true;
  }

  async removeMember(name: string): Promise<boolean> {
    const target = `${this.backend}/${name}`;
    const maint = await this.command(`set server ${target} state maint`);
    if (/No such server/i.test(maint)) return false;
    if (maint.trim() !== '') throw new RuntimeApiError(`set server ${target} state maint`, maint);
    // Sessions still open after the drain grace period are cut: the member is going away.
    await this.run(`shutdown sessions server ${target}`);
    const answer = await this.command(`del server ${target}`);
    if (/Server deleted/i.test(answer)) return true;
    if (/No such server/i.test(answer)) return false;
    throw new RuntimeApiError(`del server ${target}`, answer);
  }
}
