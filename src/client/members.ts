// Reads a cluster's members straight from the cloud and the load balancer, for `poolpilot members`.
import { computes } from '../activities/compute';
import { keystoneSessions } from '../activities/keystone';
import { computeOf } from '../config/compute';
import { vmNamePrefix } from '../config/names';
import { credentialResolver } from '../activities/credentials';
import { balancers } from '../activities/loadbalancer';
import type { ClusterSpec } from '../config/spec';
import { joinInventory, summarize, type MemberSummary } from '../policy/inventory';

export interface MemberRow extends Omit<MemberSummary, 'ip' | 'tools'> {
  ip: string | null;
  served: number;
  createdAt: string | null;
}

/** `credentialsFile`: where the worker's credentials are (POOLPILOT_CREDENTIALS_FILE, or the lab's with --lab). */
export async function readMembers(spec: ClusterSpec, credentialsFile: string | undefined): Promise<MemberRow[]> {
  const credentials = credentialResolver(process.env, credentialsFile);
  const keystone = keystoneSessions(credentials);
  const cloud = computes(credentials, keystone);
  try {
    const lb = balancers(credentials, undefined, keystone)(spec.loadBalancer);
    const [vms, pool] = await Promise.all([cloud(computeOf(spec), spec.name).listVms(vmNamePrefix(spec.name)), lb.listMembers()]);
    const byName = new Map(pool.map((p) => [p.name, p]));
    return joinInventory(spec.name, vms, pool).map((m) => ({
      ...(({ ip, tools: _tools, ...rest }) => ({ ...rest, ip: ip ?? null }))(summarize(m)),
      served: byName.get(m.name)?.totalSessions ?? 0,
      createdAt: m.vm?.createdAt ?? null,
    }));
  } finally {
    await cloud.close();
  }
}

export function formatMembers(rows: MemberRow[]): string {
  if (rows.length === 0) return '(no members)';
  const head = ['NAME', 'IP', 'POWER', 'POOL', 'SESSIONS', 'SERVED', 'CREATED'];
  const cells = rows.map((r) => [r.name, r.ip ?? '-', r.power, r.pool, String(r.sessions), String(r.served), r.createdAt?.slice(0, 19) ?? '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}
