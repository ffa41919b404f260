// A Senlin cluster as a cluster spec: its os.nova.server profile, its attached policies (scaling, deletion,
// load-balancing, health) and its receivers. Pure: `poolpilot import senlin` reads these objects from Senlin's API
// (src/cli/import-senlin-api.ts), and `import heat` builds them from OS::Senlin::* resources, so both map them here.
// What has no equivalent is listed, one line each.
import { clusterNameFrom, cloudOf, ImportError, isRecord, novaServer, plain, receiverPath, seconds, type CloudOptions, type Imported } from './import-common';

/** What the import reads of a Senlin cluster, in the shapes of Senlin's API (v1) replies. */
export interface SenlinCluster {
  cluster: { name: string; min_size: number; max_size: number; desired_capacity: number };
  profile: { name: string; type: string; spec: { properties?: Record<string, unknown> } & Record<string, unknown> };
  /** The attached policies, each with its spec and whether it is enabled on the cluster. */
  policies: { id?: string; name: string; type: string; enabled: boolean; spec: { properties?: Record<string, unknown> } & Record<string, unknown> }[];
  receivers: { name: string; type: string; action: string; params?: Record<string, unknown> }[];
  /** Senlin's nodes (the servers it made); with --adopt they become members. */
  nodes: { name: string; physical_id: string | null; status: string }[];
}

/** Senlin's "no upper bound" (max_size -1), which a spec cannot say: it becomes the spec's own ceiling. */
const SPEC_MAX = 1000;

type ScaleAction = 'CLUSTER_SCALE_OUT' | 'CLUSTER_SCALE_IN';

/** A policy type without its version: "senlin.policy.scaling-1.0" → "senlin.policy.scaling". */
export const family = (type: string) => type.replace(/-\d+(\.\d+)*$/, '');

function count(v: unknown, what: string, where: string): number {
  const n = Number(plain(v));
  if (!Number.isFinite(n)) throw new ImportError(`${where}: ${what} is not a number: ${JSON.stringify(v)}`);
  return n;
}

/**
 * What a scaling policy's adjustment makes of a receiver's call without a count: a change by n members, or a resize
 * to n (EXACT_CAPACITY). A percentage is of the cluster's size now (poolpilot's receivers take a count), never below
 * min_step.
 */
function adjustmentCount(adj: Record<string, unknown>, desired: number, where: string, unmapped: string[]): { resize: boolean; n: number } {
  const type = plain(adj.type) ?? 'CHANGE_IN_CAPACITY';
  const number = count(adj.number ?? 1, 'adjustment.number', where);
  if (type === 'EXACT_CAPACITY') return { resize: true, n: Math.round(number) };
  if (type === 'CHANGE_IN_CAPACITY') return { resize: false, n: Math.round(number) };
  if (type !== 'CHANGE_IN_PERCENTAGE') throw new ImportError(`${where}: adjustment.type ${type} is not one of CHANGE_IN_CAPACITY, EXACT_CAPACITY, CHANGE_IN_PERCENTAGE`);
  const minStep = adj.min_step === undefined ? 1 : count(adj.min_step, 'adjustment.min_step', where);
  const n = Math.max(minStep, Math.floor((desired * number) / 100));
  unmapped.push(`${where}: adjustment CHANGE_IN_PERCENTAGE ${number}% (min_step ${minStep}) became a count of ${n} (${number}% of the ${desired} members now): poolpilot's receivers take a count`);
  return { resize: false, n };
}

export function senlinToSpec(src: SenlinCluster, where: string, o: CloudOptions & { pool?: string; memberPort?: number }): Imported & { scaleCounts: Record<ScaleAction, number>; receiverPaths: Record<string, string> } {
  const unmapped: string[] = [];
  const notes: string[] = [];
  const name = o.name ?? clusterNameFrom(src.cluster.name);
  if (family(src.profile.type) !== 'os.nova.server') throw new ImportError(`${where}: profile ${src.profile.name} is ${src.profile.type}; poolpilot imports clusters of os.nova.server (Nova servers)`);
  const props = isRecord(src.profile.spec.properties) ? src.profile.spec.properties : {};
  const openstack = { ...cloudOf(o), ...novaServer(`${where}: profile ${src.profile.name}`, props, unmapped) };

  const { min_size: min, desired_capacity: desired } = src.cluster;
  let max = src.cluster.max_size;
  if (max < 0) {
    max = SPEC_MAX;
    unmapped.push(`${where}: max_size -1 (no upper bound): a spec has one; max is ${SPEC_MAX}, lower it to what your quota allows`);
  }
  const spec: Record<string, unknown> = { name, compute: { openstack }, min, max, initial: desired };
  const autoscaling: Record<string, unknown> = {};
  // Without a scaling policy, Senlin's scale_out/scale_in change the cluster by 1.
  const scaleCounts: Record<ScaleAction, number> = { CLUSTER_SCALE_OUT: 1, CLUSTER_SCALE_IN: 1 };
  const resizes: Partial<Record<ScaleAction, number>> = {};
  let octavia: Record<string, unknown> | undefined;
  let memberPort: number | undefined;

  for (const p of src.policies) {
    const pw = `${where}: policy ${p.name} (${p.type})`;
    const pp = isRecord(p.spec.properties) ? p.spec.properties : {};
    if (!p.enabled) {
      unmapped.push(`${pw}: disabled on the cluster, not imported`);
      continue;
    }
    const rest = (mapped: string[]) => {
      for (const k of Object.keys(pp)) if (!mapped.includes(k)) unmapped.push(`${pw}: ${k}`);
    };
    switch (family(p.type)) {
      case 'senlin.policy.scaling': {
        const event = plain(pp.event);
        if (event !== 'CLUSTER_SCALE_OUT' && event !== 'CLUSTER_SCALE_IN') throw new ImportError(`${pw}: event must be CLUSTER_SCALE_OUT or CLUSTER_SCALE_IN, not ${JSON.stringify(pp.event)}`);
        const adj = isRecord(pp.adjustment) ? pp.adjustment : {};
        const made = adjustmentCount(adj, desired, pw, unmapped);
        if (made.resize) resizes[event] = made.n;
        else scaleCounts[event] = made.n;
        const cd = seconds(adj.cooldown);
        if (cd) autoscaling[event === 'CLUSTER_SCALE_OUT' ? 'scaleOutCooldown' : 'scaleInCooldown'] = cd;
        if (adj.best_effort === false) unmapped.push(`${pw}: best_effort false: poolpilot trims a request to [min, max] as best_effort true does, rather than refusing it`);
        for (const k of Object.keys(adj)) if (!['type', 'number', 'min_step', 'best_effort', 'cooldown'].includes(k)) unmapped.push(`${pw}: adjustment.${k}`);
        rest(['event', 'adjustment']);
        break;
      }
      case 'senlin.policy.deletion': {
        const criteria = plain(pp.criteria) ?? 'RANDOM';
        if (criteria === 'OLDEST_FIRST' || criteria === 'YOUNGEST_FIRST') spec.deletionPolicy = criteria;
        else if (criteria === 'OLDEST_PROFILE_FIRST') {
          spec.deletionPolicy = 'OLDEST_FIRST';
          unmapped.push(`${pw}: criteria OLDEST_PROFILE_FIRST: a poolpilot cluster has one profile, so it is OLDEST_FIRST`);
        } else unmapped.push(`${pw}: criteria ${criteria}: poolpilot removes the youngest or the oldest first; the default, YOUNGEST_FIRST, is kept`);
        const grace = seconds(pp.grace_period);
        if (grace) spec.drainGracePeriod = grace;
        if (pp.destroy_after_deletion === false) spec.destroyAfterDeletion = false;
        if (pp.reduce_desired_capacity === false) unmapped.push(`${pw}: reduce_desired_capacity false: a poolpilot scale-in lowers the desired size`);
        if (pp.hooks !== undefined) unmapped.push(`${pw}: hooks: give the spec a terminate hook (hooks: [{on: terminate, url}]) instead`);
        rest(['criteria', 'grace_period', 'destroy_after_deletion', 'reduce_desired_capacity', 'hooks']);
        break;
      }
      case 'senlin.policy.loadbalance': {
        const pool = isRecord(pp.pool) ? pp.pool : {};
        const poolRef = o.pool ?? plain(pool.id);
        if (!poolRef) throw new ImportError(`${pw}: the policy makes its own load balancer and pool; poolpilot joins an existing pool: give --pool with its name or id`);
        memberPort = count(pool.protocol_port ?? 80, 'pool.protocol_port', pw);
        octavia = { pool: poolRef, ...(plain(pool.subnet) ? { subnet: plain(pool.subnet) } : {}) };
        for (const k of Object.keys(pool)) if (!['id', 'protocol_port', 'subnet'].includes(k)) unmapped.push(`${pw}: pool.${k} (the pool's own setting: it stays in Octavia)`);
        for (const k of ['vip', 'health_monitor', 'loadbalancer', 'availability_zone', 'flavor_id']) if (pp[k] !== undefined) unmapped.push(`${pw}: ${k} (the load balancer's own: it stays in Octavia)`);
        if (pp.lb_status_timeout !== undefined) unmapped.push(`${pw}: lb_status_timeout (poolpilot waits for the pool with loadBalancer.healthCheck.timeout)`);
        break;
      }
      case 'senlin.policy.health': {
        const detection = isRecord(pp.detection) ? pp.detection : {};
        const recovery = isRecord(pp.recovery) ? pp.recovery : {};
        const interval = seconds(detection.interval);
        spec.health = { replace: true, ...(interval ? { gracePeriod: interval } : {}) };
        const modes = (Array.isArray(detection.detection_modes) ? detection.detection_modes : []).map((m) => (isRecord(m) ? plain(m.type) : undefined)).filter((t): t is string => !!t);
        for (const m of modes) {
          if (m !== 'NODE_STATUS_POLLING' && m !== 'LB_STATUS_POLLING') unmapped.push(`${pw}: detection ${m}: poolpilot watches the server's state and the pool member's health, not ${m}`);
        }
        const actions = (Array.isArray(recovery.actions) ? recovery.actions : []).map((a) => (isRecord(a) ? plain(a.name) : undefined)).filter((a): a is string => !!a);
        for (const a of actions) if (a !== 'RECREATE') unmapped.push(`${pw}: recovery ${a}: poolpilot replaces an unhealthy member (a new one joins, then the old one goes), as RECREATE does`);
        for (const k of ['node_update_timeout', 'recovery_conditional']) if (detection[k] !== undefined) unmapped.push(`${pw}: detection.${k}`);
        for (const k of ['fencing', 'node_delete_timeout', 'node_force_recreate']) if (recovery[k] !== undefined) unmapped.push(`${pw}: recovery.${k}`);
        rest(['detection', 'recovery']);
        break;
      }
      default:
        unmapped.push(`${pw}: no poolpilot equivalent (it places or batches servers; Nova's scheduler and provisioningConcurrency are what poolpilot has)`);
    }
  }
  // Without a load-balancing policy the flags say where members go.
  octavia ??= o.pool ? { pool: o.pool } : undefined;
  memberPort = o.memberPort ?? memberPort;
  if (!octavia || memberPort === undefined) throw new ImportError(`${where}: no load-balancing policy is attached: poolpilot scales a pool's members: give --pool and --member-port`);
  spec.loadBalancer = { octavia, memberPort };
  if (Object.keys(autoscaling).length) spec.autoscaling = autoscaling;

  const receiverPaths: Record<string, string> = {};
  for (const r of src.receivers) {
    const rw = `${where}: receiver ${r.name}`;
    if (r.type !== 'webhook') {
      unmapped.push(`${rw}: a ${r.type} receiver (Zaqar): poolpilot's receivers are webhooks`);
      continue;
    }
    const params = r.params ?? {};
    let path: string;
    if (r.action === 'CLUSTER_SCALE_OUT' || r.action === 'CLUSTER_SCALE_IN') {
      const resize = resizes[r.action];
      path = params.count !== undefined ? receiverPath(name, r.action, count(params.count, 'params.count', rw)) : resize !== undefined ? receiverPath(name, 'CLUSTER_RESIZE', resize) : receiverPath(name, r.action, scaleCounts[r.action] ?? 1); // no scaling policy for the event: Senlin steps by 1
    } else if (r.action === 'CLUSTER_RESIZE') {
      if (params.adjustment_type !== undefined && params.adjustment_type !== 'EXACT_CAPACITY') {
        unmapped.push(`${rw}: CLUSTER_RESIZE by ${String(params.adjustment_type)}: poolpilot's resize receiver sets a capacity`);
        continue;
      }
      path = receiverPath(name, 'CLUSTER_RESIZE', count(params.number ?? params.capacity ?? desired, 'params.number', rw));
    } else {
      unmapped.push(`${rw}: action ${r.action}: poolpilot's receivers scale out, scale in or resize`);
      continue;
    }
    receiverPaths[r.name] = path;
    notes.push(`${r.name} (${r.action}): POST ${path} on poolpilot's API, with a token that may operate cluster ${name}`);
  }
  return { spec, unmapped, notes, scaleCounts, receiverPaths };
}
