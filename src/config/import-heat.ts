// `poolpilot import heat FILE`: a Heat template's autoscaling group as a cluster spec. Read: one
// OS::Heat::AutoScalingGroup (min_size, max_size, desired_capacity, cooldown) whose member is an OS::Nova::Server,
// inline or in a nested template beside it with an OS::Octavia::PoolMember; OS::Heat::ScalingPolicy (each becomes a
// receiver URL its alarm should call; cooldowns become the autoscaler's); alarms (OS::Aodh::*) are named with the URL
// their action becomes. A template of one OS::Senlin::Cluster instead (its OS::Senlin::Profile, Policy and Receiver
// resources) is mapped as `import senlin` maps a running cluster (import-senlin.ts). Everything else in the template
// is listed as not mapped, one line each.
import path from 'node:path';
import { clusterNameFrom, cloudOf, ImportError, isRecord, novaServer, plain, readYamlFile, receiverPath, resolveInputs, seconds, type CloudOptions, type Imported } from './import-common';
import { senlinToSpec, type SenlinCluster } from './import-senlin';

type Resources = Record<string, { type: string; properties: Record<string, unknown> }>;

/** Heat's own resource types are named OS::<Service>::<Thing> (AWS::… for the compatibility ones); a nested template is a file. */
const HEAT_TYPE = /^(OS|AWS)::[A-Za-z0-9]+::[A-Za-z0-9]+$/;

/** A template's resources, with get_param resolved; an unknown type is refused. */
function templateResources(file: string, template: unknown, given: Record<string, unknown>): Resources {
  if (!isRecord(template) || !('heat_template_version' in template)) throw new ImportError(`${file}: not a Heat template (no heat_template_version)`);
  const declared = isRecord(template.parameters) ? template.parameters : {};
  const resources = isRecord(template.resources) ? template.resources : {};
  const out: Resources = {};
  for (const [name, r] of Object.entries(resources)) {
    if (!isRecord(r) || typeof r.type !== 'string') throw new ImportError(`${file}: resource ${name} has no type`);
    if (!HEAT_TYPE.test(r.type) && !/\.ya?ml$/.test(r.type)) throw new ImportError(`${file}: resource ${name} has an unknown resource type "${r.type}" (neither a Heat type such as OS::Nova::Server nor a template file)`);
    out[name] = { type: r.type, properties: resolveInputs(r.properties ?? {}, 'get_param', given, declared, `${file}: resource ${name}`) as Record<string, unknown> };
  }
  return out;
}

/** A pool reference: a name or id, or a get_resource of an OS::Octavia::Pool in the parent template, by its name. */
function poolName(ref: unknown, parent: Resources, where: string): string {
  if (typeof ref === 'string') return ref;
  if (isRecord(ref) && typeof ref.get_resource === 'string') {
    const pool = parent[ref.get_resource];
    const name = pool && plain(pool.properties.name);
    if (name) return name;
    throw new ImportError(`${where}: the pool is ${ref.get_resource}, which the stack makes without a name: give it properties.name, or --parameter for its id`);
  }
  throw new ImportError(`${where}: the pool member's pool is not a name, an id or a pool of this template`);
}

export function importHeat(file: string, o: CloudOptions & { parameters?: Record<string, string>; pool?: string; memberPort?: number }): Imported {
  const given = o.parameters ?? {};
  const resources = templateResources(file, readYamlFile(file), given);
  const unmapped: string[] = [];
  const notes: string[] = [];
  const groups = Object.entries(resources).filter(([, r]) => r.type === 'OS::Heat::AutoScalingGroup');
  const senlinClusters = Object.entries(resources).filter(([, r]) => r.type === 'OS::Senlin::Cluster');
  if (!groups.length && senlinClusters.length === 1) return importHeatSenlin(file, resources, senlinClusters[0]!, o);
  if (groups.length !== 1) throw new ImportError(`${file}: ${groups.length ? `${groups.length} OS::Heat::AutoScalingGroup resources` : 'no OS::Heat::AutoScalingGroup'}: an import makes one cluster of one group`);
  const [groupName, group] = groups[0]!;
  const gp = group.properties;
  const name = o.name ?? clusterNameFrom(path.basename(file).replace(/\.ya?ml$/, ''));

  // The member: an inline OS::Nova::Server, or a nested template with one and its pool member.
  const member = isRecord(gp.resource) ? gp.resource : undefined;
  if (!member || typeof member.type !== 'string') throw new ImportError(`${file}: ${groupName} has no resource (the member template)`);
  let server: Record<string, unknown> | undefined;
  let poolMember: Record<string, unknown> | undefined;
  let memberWhere = `${file}: ${groupName}.resource`;
  if (member.type === 'OS::Nova::Server') server = (member.properties ?? {}) as Record<string, unknown>;
  else if (/\.ya?ml$/.test(member.type)) {
    const nestedFile = path.resolve(path.dirname(file), member.type);
    // The nested template's parameters are the group's resource properties.
    const bound = isRecord(member.properties) ? member.properties : {};
    const nested = templateResources(nestedFile, readYamlFile(nestedFile), bound);
    memberWhere = `${member.type}`;
    for (const [rn, r] of Object.entries(nested)) {
      if (r.type === 'OS::Nova::Server' && !server) server = r.properties;
      else if (r.type === 'OS::Octavia::PoolMember' && !poolMember) {
        // Its pool may be the parent's: the group passes {get_resource: pool} in as a parameter, resolved above.
        poolMember = r.properties;
      } else unmapped.push(`${member.type}: resource ${rn} (${r.type}) is made per member by Heat; poolpilot makes only the server and its pool member`);
    }
  } else throw new ImportError(`${file}: ${groupName}'s member is ${member.type}; poolpilot imports groups of OS::Nova::Server (inline or in a nested template)`);
  if (!server) throw new ImportError(`${memberWhere}: no OS::Nova::Server`);
  const openstack = { ...cloudOf(o), ...novaServer(`${memberWhere}: server`, server, unmapped) };

  // The pool: the nested template's member, else a top-level OS::Octavia::PoolMember.
  if (!poolMember) {
    const top = Object.values(resources).find((r) => r.type === 'OS::Octavia::PoolMember');
    poolMember = top?.properties;
  }
  if (!poolMember) throw new ImportError(`${file}: no OS::Octavia::PoolMember: poolpilot scales a pool's members, and this template puts the servers in no pool`);
  const memberPort = Number(plain(poolMember.protocol_port));
  if (!Number.isInteger(memberPort) || memberPort < 1) throw new ImportError(`${memberWhere}: the pool member's protocol_port is not a port`);
  const octavia = { pool: poolName(poolMember.pool, resources, memberWhere), ...(plain(poolMember.subnet) ? { subnet: plain(poolMember.subnet) } : {}) };

  // Bounds and cooldowns.
  const num = (v: unknown, what: string) => {
    const n = Number(plain(v));
    if (!Number.isInteger(n) || n < 0) throw new ImportError(`${file}: ${groupName}.${what} is not a whole number: ${JSON.stringify(v)}`);
    return n;
  };
  const min = num(gp.min_size, 'min_size');
  const max = num(gp.max_size, 'max_size');
  const initial = gp.desired_capacity !== undefined ? num(gp.desired_capacity, 'desired_capacity') : undefined;
  const autoscaling: Record<string, unknown> = {};
  if (seconds(gp.cooldown)) Object.assign(autoscaling, { scaleOutCooldown: seconds(gp.cooldown), scaleInCooldown: seconds(gp.cooldown) });
  for (const k of Object.keys(gp)) if (!['min_size', 'max_size', 'desired_capacity', 'cooldown', 'resource'].includes(k)) unmapped.push(`${file}: ${groupName}.${k}`);

  // Scaling policies: each is an action a receiver URL serves; the alarms that call it are named with that URL.
  const policyUrls: Record<string, string> = {};
  for (const [pn, r] of Object.entries(resources)) {
    if (r.type !== 'OS::Heat::ScalingPolicy') continue;
    const p = r.properties;
    const adj = Number(plain(p.scaling_adjustment));
    const type = plain(p.adjustment_type) ?? 'change_in_capacity';
    const cd = seconds(p.cooldown);
    if (type === 'exact_capacity') policyUrls[pn] = receiverPath(name, 'CLUSTER_RESIZE', adj);
    else if (type === 'change_in_capacity') policyUrls[pn] = receiverPath(name, adj >= 0 ? 'CLUSTER_SCALE_OUT' : 'CLUSTER_SCALE_IN', Math.abs(adj));
    else unmapped.push(`${file}: ${pn}: adjustment_type ${type} (a receiver takes a count; poolpilot's own policy has maxStepOutPercent)`);
    if (cd) autoscaling[adj >= 0 ? 'scaleOutCooldown' : 'scaleInCooldown'] = cd;
    if (policyUrls[pn]) notes.push(`${pn} (${type} ${adj}): POST ${policyUrls[pn]}`);
  }
  for (const [an, r] of Object.entries(resources)) {
    if (!/^OS::Aodh::/.test(r.type)) continue;
    const actions = (Array.isArray(r.properties.alarm_actions) ? r.properties.alarm_actions : []).map((a) => (isRecord(a) && Array.isArray(a.get_attr) ? String(a.get_attr[0]) : undefined));
    const urls = actions.map((p) => p && policyUrls[p]).filter((u): u is string => !!u);
    notes.push(`alarm ${an} (${r.type}${plain(r.properties.metric) ? `, ${plain(r.properties.metric)} ${plain(r.properties.comparison_operator) ?? ''} ${plain(r.properties.threshold) ?? ''}`.trimEnd() : ''}): point its alarm_actions at ${urls.length ? urls.join(' and ') : 'a receiver URL'} on poolpilot's API (an Aodh body is read as an alarm)`);
  }
  for (const [rn, r] of Object.entries(resources)) {
    if (['OS::Heat::AutoScalingGroup', 'OS::Heat::ScalingPolicy', 'OS::Octavia::PoolMember'].includes(r.type) || /^OS::Aodh::/.test(r.type)) continue;
    unmapped.push(`${file}: resource ${rn} (${r.type}) is the stack's, not the cluster's: keep it in Heat`);
  }

  const spec = {
    name,
    compute: { openstack },
    loadBalancer: { octavia, memberPort },
    min,
    max,
    ...(initial !== undefined ? { initial } : {}),
    ...(Object.keys(autoscaling).length ? { autoscaling } : {}),
  };
  return { spec, unmapped, notes };
}

/** A resource named by {get_resource: name} (or by its name as a plain string) among the template's resources of `type`. */
function referenced(ref: unknown, resources: Resources, type: string, where: string): [string, Resources[string]] {
  const name = isRecord(ref) && typeof ref.get_resource === 'string' ? ref.get_resource : typeof ref === 'string' ? ref : undefined;
  const r = name === undefined ? undefined : resources[name];
  if (!r || r.type !== type) throw new ImportError(`${where}: ${JSON.stringify(ref)} is not a ${type} of this template`);
  return [name!, r];
}

/**
 * One OS::Senlin::Cluster with its OS::Senlin::Profile, the OS::Senlin::Policy resources bound to it (in the cluster's
 * policies list or by the policy's bindings) and its OS::Senlin::Receiver resources: the objects Senlin would hold,
 * mapped as `import senlin` maps a running cluster.
 */
function importHeatSenlin(file: string, resources: Resources, [clusterName, cluster]: [string, Resources[string]], o: CloudOptions & { parameters?: Record<string, string>; pool?: string; memberPort?: number }): Imported {
  const cp = cluster.properties;
  const where = `${file}: ${clusterName}`;
  const [profileName, profile] = referenced(cp.profile, resources, 'OS::Senlin::Profile', `${where}.profile`);
  const isThisCluster = (ref: unknown) => isRecord(ref) && (ref.get_resource === clusterName || ref.cluster === clusterName || (isRecord(ref.cluster) && ref.cluster.get_resource === clusterName));
  const bound = new Map<string, boolean>();
  for (const b of Array.isArray(cp.policies) ? cp.policies : []) {
    if (!isRecord(b)) continue;
    const [pn] = referenced(b.policy, resources, 'OS::Senlin::Policy', `${where}.policies`);
    bound.set(pn, b.enabled !== false);
  }
  for (const [pn, p] of Object.entries(resources)) {
    if (p.type !== 'OS::Senlin::Policy') continue;
    for (const b of Array.isArray(p.properties.bindings) ? p.properties.bindings : []) if (isThisCluster(b)) bound.set(pn, !isRecord(b) || b.enabled !== false);
  }
  const whole = (n: unknown, what: string, fallback: number) => {
    if (n === undefined) return fallback;
    const v = Number(plain(n));
    if (!Number.isInteger(v)) throw new ImportError(`${where}.${what} is not a whole number: ${JSON.stringify(n)}`);
    return v;
  };
  const nameOf = (rn: string, r: Resources[string]) => plain(r.properties.name) ?? rn;
  const src: SenlinCluster = {
    // Senlin's defaults for a cluster: desired 0, min 0, max -1 (no bound).
    cluster: {
      name: o.name ?? plain(cp.name) ?? path.basename(file).replace(/\.ya?ml$/, ''),
      desired_capacity: whole(cp.desired_capacity, 'desired_capacity', 0),
      min_size: whole(cp.min_size, 'min_size', 0),
      max_size: whole(cp.max_size, 'max_size', -1),
    },
    profile: { name: nameOf(profileName, profile), type: plain(profile.properties.type) ?? '', spec: { properties: isRecord(profile.properties.properties) ? profile.properties.properties : {} } },
    policies: [...bound].map(([pn, enabled]) => {
      const p = resources[pn]!;
      return { name: nameOf(pn, p), type: plain(p.properties.type) ?? '', enabled, spec: { properties: isRecord(p.properties.properties) ? p.properties.properties : {} } };
    }),
    receivers: Object.entries(resources)
      .filter(([, r]) => r.type === 'OS::Senlin::Receiver' && isThisCluster({ cluster: r.properties.cluster }))
      .map(([rn, r]) => ({ name: nameOf(rn, r), type: plain(r.properties.type) ?? 'webhook', action: plain(r.properties.action) ?? '', ...(isRecord(r.properties.params) ? { params: r.properties.params } : {}) })),
    nodes: [],
  };
  const r = senlinToSpec(src, where, o);
  const used = new Set([clusterName, profileName, ...bound.keys()]);
  const receiverNames = Object.fromEntries(Object.entries(resources).filter(([, x]) => x.type === 'OS::Senlin::Receiver').map(([rn, x]) => [rn, nameOf(rn, x)]));
  for (const [rn, res] of Object.entries(resources)) {
    if (used.has(rn) || (res.type === 'OS::Senlin::Receiver' && isThisCluster({ cluster: res.properties.cluster }))) continue;
    // An alarm whose action is a receiver's URL ({get_attr: [receiver, channel, alarm_url]}) is pointed at poolpilot's.
    const urls = /^OS::Aodh::/.test(res.type)
      ? (Array.isArray(res.properties.alarm_actions) ? res.properties.alarm_actions : []).map((a) => (isRecord(a) && Array.isArray(a.get_attr) ? r.receiverPaths[receiverNames[String(a.get_attr[0])] ?? ''] : undefined)).filter((u): u is string => !!u)
      : [];
    if (urls.length) {
      r.notes.push(`alarm ${rn} (${res.type}): point its alarm_actions at ${urls.join(' and ')} on poolpilot's API (an Aodh body is read as an alarm)`);
      continue;
    }
    r.unmapped.push(`${file}: resource ${rn} (${res.type}) is the stack's, not the cluster's: keep it in Heat`);
  }
  for (const k of Object.keys(cp)) if (!['name', 'profile', 'desired_capacity', 'min_size', 'max_size', 'policies'].includes(k)) r.unmapped.push(`${where}.${k}`);
  return { spec: r.spec, unmapped: r.unmapped, notes: r.notes };
}
