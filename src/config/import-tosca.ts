// `poolpilot import tosca FILE`: a Tacker VNFD's scaling as a cluster spec. Read: the VDU the
// tosca.policies.tacker.Scaling policy targets (image and flavor as names; its connection points' virtual links give
// the networks), the policy's min_instances, max_instances, default_instances, increment and cooldown, and
// tosca.policies.tacker.Alarming triggers, each named with the receiver URL its action becomes (the direction from
// its comparison operator: greater is out, less is in). A VNFD puts its VDUs in no load-balancer pool, so the Octavia
// pool and port come from the command line. Everything else is listed as not mapped, one line each.
import path from 'node:path';
import { clusterNameFrom, cloudOf, ImportError, isRecord, readYamlFile, receiverPath, resolveInputs, seconds, type CloudOptions, type Imported } from './import-common';

type Named = [string, Record<string, unknown>];

/** TOSCA lists policies as a list of one-key maps (or, in some VNFDs, one map). */
function policiesOf(t: Record<string, unknown>): Named[] {
  const p = t.policies;
  const entries = Array.isArray(p) ? p.flatMap((x) => (isRecord(x) ? Object.entries(x) : [])) : isRecord(p) ? Object.entries(p) : [];
  return entries.filter((e): e is Named => isRecord(e[1]));
}

export function importTosca(file: string, o: CloudOptions & { parameters?: Record<string, string>; pool?: string; memberPort?: number }): Imported {
  const doc = readYamlFile(file);
  if (!isRecord(doc) || typeof doc.tosca_definitions_version !== 'string') throw new ImportError(`${file}: not a TOSCA template (no tosca_definitions_version)`);
  const raw = isRecord(doc.topology_template) ? doc.topology_template : undefined;
  if (!raw) throw new ImportError(`${file}: no topology_template`);
  const declared = isRecord(raw.inputs) ? raw.inputs : {};
  const t = resolveInputs(raw, 'get_input', o.parameters ?? {}, declared, file) as Record<string, unknown>;
  const nodes = (isRecord(t.node_templates) ? t.node_templates : {}) as Record<string, Record<string, unknown>>;
  for (const [n, node] of Object.entries(nodes)) {
    if (!isRecord(node) || typeof node.type !== 'string') throw new ImportError(`${file}: node ${n} has no type`);
    if (!/^tosca\.nodes\./.test(node.type)) throw new ImportError(`${file}: node ${n} has an unknown type "${node.type}" (not a tosca.nodes.* type)`);
  }
  const unmapped: string[] = [];
  const notes: string[] = [];
  const policies = policiesOf(t);
  for (const [pn, p] of policies) if (typeof p.type !== 'string' || !/^tosca\.policies\./.test(p.type)) throw new ImportError(`${file}: policy ${pn} has an unknown type "${String(p.type)}" (not a tosca.policies.* type)`);
  const scaling = policies.filter(([, p]) => p.type === 'tosca.policies.tacker.Scaling');
  if (scaling.length !== 1) throw new ImportError(`${file}: ${scaling.length ? `${scaling.length} tosca.policies.tacker.Scaling policies` : 'no tosca.policies.tacker.Scaling policy'}: an import makes one cluster of one scaling policy`);
  const [spName, sp] = scaling[0]!;
  const props = isRecord(sp.properties) ? sp.properties : {};
  const targets = Array.isArray(sp.targets) ? sp.targets.map(String) : [];
  if (targets.length !== 1) throw new ImportError(`${file}: ${spName} targets ${targets.length} VDUs: poolpilot scales one kind of member per cluster`);
  const vduName = targets[0]!;
  const vdu = nodes[vduName];
  if (!vdu) throw new ImportError(`${file}: ${spName} targets ${vduName}, which is not a node of the template`);
  const vp = isRecord(vdu.properties) ? vdu.properties : {};
  const image = typeof vp.image === 'string' ? vp.image : undefined;
  const flavor = typeof vp.flavor === 'string' ? vp.flavor : undefined;
  if (!image) throw new ImportError(`${file}: ${vduName} has no image name (properties.image): give --parameter for its input, or name a Glance image`);
  if (!flavor) throw new ImportError(`${file}: ${vduName} has no flavor name (properties.flavor; a flavor Tacker would make from capabilities.nfv_compute must exist in Nova first)`);
  for (const k of Object.keys(vp)) if (!['image', 'flavor', 'availability_zone', 'key_name', 'user_data', 'monitoring_policy', 'mgmt_driver', 'config'].includes(k)) unmapped.push(`${file}: ${vduName}.properties.${k}`);
  for (const k of ['monitoring_policy', 'mgmt_driver', 'config']) if (k in vp) unmapped.push(`${file}: ${vduName}.properties.${k} (Tacker's own; poolpilot's health: replaces broken members)`);
  // Networks: the virtual links of the connection points bound to the VDU, in their order.
  const networks: string[] = [];
  for (const [cn, cp] of Object.entries(nodes)) {
    if (!/^tosca\.nodes\.nfv\.CP/.test(String(cp.type))) continue;
    const reqs = Array.isArray(cp.requirements) ? cp.requirements.filter(isRecord) : [];
    const bound = reqs.some((r) => r.virtualBinding === vduName || (isRecord(r.virtualBinding) && r.virtualBinding.node === vduName));
    const link = reqs.map((r) => (typeof r.virtualLink === 'string' ? r.virtualLink : isRecord(r.virtualLink) ? String(r.virtualLink.node) : undefined)).find(Boolean);
    if (!bound || !link) continue;
    const vl = nodes[link];
    const net = vl && isRecord(vl.properties) ? vl.properties.network_name : undefined;
    if (typeof net !== 'string') throw new ImportError(`${file}: ${cn} links ${vduName} to ${link}, which names no network_name`);
    networks.push(net);
  }
  if (!networks.length) throw new ImportError(`${file}: ${vduName} has no connection point on a virtual link with a network_name`);
  const num = (k: string, least: number) => {
    const v = props[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < least) throw new ImportError(`${file}: ${spName}.properties.${k} must be a whole number of at least ${least}, not ${JSON.stringify(v)}`);
    return v;
  };
  const min = num('min_instances', 0) ?? 1;
  const max = num('max_instances', 1);
  if (max === undefined) throw new ImportError(`${file}: ${spName}.properties.max_instances is required`);
  const initial = num('default_instances', 0);
  const increment = num('increment', 1) ?? 1;
  if (!o.pool) throw new ImportError(`${file}: a VNFD puts its VDUs in no load-balancer pool: give --pool (the Octavia pool, by name or id) and --member-port`);
  if (!o.memberPort) throw new ImportError(`${file}: give --member-port (the port ${vduName} serves on)`);
  const name = o.name ?? clusterNameFrom(path.basename(file).replace(/\.ya?ml$/, ''));
  const cooldown = seconds(props.cooldown);
  for (const k of Object.keys(props)) if (!['min_instances', 'max_instances', 'default_instances', 'increment', 'cooldown'].includes(k)) unmapped.push(`${file}: ${spName}.properties.${k}`);
  notes.push(`${spName} out: POST ${receiverPath(name, 'CLUSTER_SCALE_OUT', increment)}`, `${spName} in: POST ${receiverPath(name, 'CLUSTER_SCALE_IN', increment)}`);
  // Alarming triggers: each one's action is the scaling policy; greater-than means out, less-than in.
  for (const [an, a] of policies.filter(([, p]) => p.type === 'tosca.policies.tacker.Alarming')) {
    const triggers = isRecord(a.triggers) ? a.triggers : {};
    for (const [tn, tr] of Object.entries(triggers)) {
      if (!isRecord(tr)) continue;
      const c = isRecord(tr.condition) ? tr.condition : {};
      const op = String(c.comparison_operator ?? '');
      const dir = /^(gt|ge)$/.test(op) ? 'CLUSTER_SCALE_OUT' : /^(lt|le)$/.test(op) ? 'CLUSTER_SCALE_IN' : undefined;
      const acts = Array.isArray(tr.action) ? tr.action.map(String) : [];
      if (!dir || !acts.includes(spName)) {
        unmapped.push(`${file}: ${an}.triggers.${tn} (its action is not ${spName}, or its comparison_operator "${op}" is neither greater nor less)`);
        continue;
      }
      notes.push(`alarm ${an}.${tn} (${String(tr.metric ?? '?')} ${op} ${String(c.threshold ?? '?')}): point it at POST ${receiverPath(name, dir, increment)} (an Aodh body is read as an alarm)`);
    }
  }
  for (const [pn, p] of policies) if (p.type !== 'tosca.policies.tacker.Scaling' && p.type !== 'tosca.policies.tacker.Alarming') unmapped.push(`${file}: policy ${pn} (${String(p.type)})`);
  for (const [nn, n] of Object.entries(nodes)) if (nn !== vduName && !/^tosca\.nodes\.nfv\.(CP|VL)/.test(String(n.type))) unmapped.push(`${file}: node ${nn} (${String(n.type)}): only ${vduName} is scaled`);

  const spec = {
    name,
    compute: {
      openstack: {
        ...cloudOf(o),
        image,
        flavor,
        networks,
        ...(typeof vp.availability_zone === 'string' ? { availabilityZone: vp.availability_zone } : {}),
        ...(typeof vp.key_name === 'string' ? { keyName: vp.key_name } : {}),
        ...(typeof vp.user_data === 'string' ? { userData: vp.user_data } : {}),
      },
    },
    loadBalancer: { octavia: { pool: o.pool }, memberPort: o.memberPort },
    min,
    max,
    ...(initial !== undefined ? { initial } : {}),
    // A Tacker scaling step is `increment` members, with one cooldown both ways.
    autoscaling: { maxStepOut: increment, maxStepIn: increment, ...(cooldown ? { scaleOutCooldown: cooldown, scaleInCooldown: cooldown } : {}) },
  };
  return { spec, unmapped, notes };
}
