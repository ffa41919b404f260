// Reads a running Senlin cluster through Senlin's API (clustering v1), for `poolpilot import senlin`, and with
// --adopt takes its servers over: each leaves the Senlin cluster (its server kept: destroy_after_deletion false) and
// gets poolpilot's mark and a member's name. The mapping itself is src/config/import-senlin.ts.
import { NovaCompute } from '../activities/compute/nova';
import type { CredentialResolver } from '../activities/credentials';
import { OpenstackHttpError, type KeystoneSession, type KeystoneSessions } from '../activities/keystone';
import { balancers } from '../activities/loadbalancer';
import { healthCheckOf } from '../config/balancer';
import { ImportError } from '../config/import-common';
import { family, type SenlinCluster } from '../config/import-senlin';
import { memberName, vmNamePrefix } from '../config/names';
import type { ClusterSpec } from '../config/spec';

/** Senlin's API microversion: 1.10 is Zed's; what the import reads has not changed since 1.0. */
const SENLIN_VERSION = { 'OpenStack-API-Version': 'clustering 1.10' };
/** An action Senlin runs for the adoption (del_nodes) may take this long. */
const ACTION_TIMEOUT_MS = 120_000;

const senlin = <T>(ks: KeystoneSession, method: string, path: string, body?: unknown, accept?: number[]) => ks.call<T>('clustering', method, path, body, { headers: SENLIN_VERSION, ...(accept ? { accept } : {}) });

interface ClusterReply {
  id: string;
  name: string;
  status: string;
  min_size: number;
  max_size: number;
  desired_capacity: number;
  profile_id: string;
}

/** The cluster (by name or id), its profile, attached policies, receivers and nodes. */
export async function readSenlinCluster(ks: KeystoneSession, ref: string): Promise<SenlinCluster & { id: string; status: string; nodeIds: Record<string, string> }> {
  const got = await senlin<{ cluster: ClusterReply }>(ks, 'GET', `v1/clusters/${encodeURIComponent(ref)}`, undefined, [404]);
  if (got.status === 404) throw new ImportError(`Senlin has no cluster "${ref}" in this project (${got.detail ?? 'not found'}): openstack cluster list shows them`);
  const c = got.body.cluster;
  const [profile, bindings, receivers, nodes] = await Promise.all([
    senlin<{ profile: SenlinCluster['profile'] }>(ks, 'GET', `v1/profiles/${c.profile_id}`),
    senlin<{ cluster_policies: { policy_id: string; enabled: boolean }[] }>(ks, 'GET', `v1/clusters/${c.id}/policies`),
    senlin<{ receivers: SenlinCluster['receivers'] }>(ks, 'GET', `v1/receivers?cluster_id=${c.id}`),
    senlin<{ nodes: (SenlinCluster['nodes'][number] & { id: string })[] }>(ks, 'GET', `v1/nodes?cluster_id=${c.id}`),
  ]);
  const policies = await Promise.all(
    bindings.body.cluster_policies.map(async (b) => ({ ...(await senlin<{ policy: Omit<SenlinCluster['policies'][number], 'enabled'> }>(ks, 'GET', `v1/policies/${b.policy_id}`)).body.policy, enabled: b.enabled })),
  );
  return {
    id: c.id,
    status: c.status,
    cluster: { name: c.name, min_size: c.min_size, max_size: c.max_size, desired_capacity: c.desired_capacity },
    profile: profile.body.profile,
    policies,
    receivers: receivers.body.receivers,
    nodes: nodes.body.nodes,
    nodeIds: Object.fromEntries(nodes.body.nodes.map((n) => [n.name, n.id])),
  };
}

/** Waits for a Senlin action (from an action's Location) to end; a failed one is refused with Senlin's reason. */
async function waitAction(ks: KeystoneSession, actionId: string, what: string): Promise<void> {
  const deadline = Date.now() + ACTION_TIMEOUT_MS;
  for (;;) {
    const a = (await senlin<{ action: { status: string; status_reason: string } }>(ks, 'GET', `v1/actions/${actionId}`)).body.action;
    if (a.status === 'SUCCEEDED') return;
    if (a.status === 'FAILED' || a.status === 'CANCELLED') throw new ImportError(`${what}: Senlin's action ${actionId} ${a.status}: ${a.status_reason}`);
    if (Date.now() > deadline) throw new ImportError(`${what}: Senlin's action ${actionId} still ${a.status} after ${ACTION_TIMEOUT_MS / 1000} s; see openstack cluster action show ${actionId}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface Adopted {
  /** Server id → the member name it now has. */
  servers: Record<string, string>;
}

/**
 * Takes the cluster's servers as members of `spec`'s cluster, keeping every server:
 *  1. every policy is detached, the load-balancing one last: a deletion policy would make Senlin destroy the servers
 *     the next step releases (its destroy_after_deletion overrides the request's), a health policy would recreate
 *     them, and the load-balancing policy takes its members out of the pool as it goes;
 *  2. min_size 0 (Senlin refuses to go below it), then the nodes leave the cluster (NODE_LEAVE: servers kept, Senlin
 *     keeps orphan node records);
 *  3. each server gets poolpilot's mark and the member name `<cluster>-0-<i>`, and joins the pool under that name at
 *     once: the servers are out of the pool only between step 1's last detach and this.
 * Only ACTIVE nodes with a server are taken; the Senlin cluster stays, empty, for its operator to delete.
 */
export async function adoptSenlinNodes(
  keystone: KeystoneSessions,
  credentials: CredentialResolver,
  src: Awaited<ReturnType<typeof readSenlinCluster>>,
  spec: ClusterSpec,
  log: (m: string) => void,
): Promise<Adopted> {
  const compute = spec.compute?.openstack;
  if (!compute) throw new ImportError('an adopted cluster needs compute.openstack');
  const ks = keystone.get(compute);
  const nova = new NovaCompute(ks, compute, spec.name);
  // Adopted servers are named <cluster>-0-<i>: into a cluster that has members already, they could collide.
  const existing = await nova.listVms(vmNamePrefix(spec.name));
  if (existing.length) throw new ImportError(`cluster ${spec.name} already has ${existing.length} server(s) in Nova (${existing.map((v) => v.name).join(', ')}): adopt into a cluster of another name (--name)`);
  const taken = src.nodes.filter((n) => n.physical_id && n.status === 'ACTIVE');
  for (const n of src.nodes.filter((x) => !taken.includes(x))) log(`node ${n.name} is ${n.status}${n.physical_id ? '' : ' without a server'}: left in Senlin`);
  if (!taken.length) return { servers: {} };
  const act = async (body: unknown, what: string) => {
    let action: string | undefined;
    try {
      action = (await senlin<{ action: string }>(ks, 'POST', `v1/clusters/${src.id}/actions`, body)).body?.action;
    } catch (err) {
      if (err instanceof OpenstackHttpError) throw new ImportError(`Senlin refused ${what}: ${err.message}`);
      throw err;
    }
    if (action) await waitAction(ks, action, what);
  };
  const lbLast = [...src.policies].sort((a, b) => Number(family(a.type) === 'senlin.policy.loadbalance') - Number(family(b.type) === 'senlin.policy.loadbalance'));
  for (const p of lbLast) {
    await act({ policy_detach: { policy_id: p.id } }, `to detach policy ${p.name} from ${src.cluster.name}`);
    log(`policy ${p.name} (${p.type}) detached from Senlin cluster ${src.cluster.name}`);
  }
  if (src.cluster.min_size > 0) {
    await act({ resize: { min_size: 0, strict: true } }, `to set min_size 0 on ${src.cluster.name}`);
    log(`Senlin cluster ${src.cluster.name}: min_size ${src.cluster.min_size} → 0, so its nodes can leave`);
  }
  await act({ del_nodes: { nodes: taken.map((n) => src.nodeIds[n.name]!), destroy_after_deletion: false } }, `to release ${taken.length} node(s) of ${src.cluster.name}`);
  log(`${taken.length} node(s) left Senlin cluster ${src.cluster.name}; their servers are kept`);

  const pool = balancers(credentials, undefined, keystone)(spec.loadBalancer);
  const servers: Record<string, string> = {};
  for (const [i, n] of taken.entries()) {
    const name = memberName(spec.name, 0, i + 1);
    await nova.adoptServer(n.physical_id!, name);
    servers[n.physical_id!] = name;
    const ip = (await nova.listVms(name)).find((v) => v.name === name)?.ip;
    if (ip) {
      await pool.addMember(name, ip, spec.loadBalancer.memberPort, healthCheckOf(spec.loadBalancer));
      log(`server ${n.physical_id} (node ${n.name}) is member ${name} (${ip}), in the pool`);
    } else log(`server ${n.physical_id} (node ${n.name}) is member ${name}; it has no address yet: the cluster's reconcile adds it to the pool`);
  }
  return { servers };
}
