// poolpilot import heat / tosca on the examples in examples/openstack/import (a Heat stack in the style of heat-templates'
// autoscaling example, a Tacker VNFD in the style of Tacker's scaling samples): the spec validates as cluster apply
// would, what has no equivalent is named one line each, and a bad file is one line, exit 2, nothing written.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/index';
import { parseClusterSpecText } from '../../src/config/load';
import { PROJECT_ROOT } from '../../src/config/settings';
import { useCliHarness } from './cli-harness';

const cli = useCliHarness();
const ex = (f: string) => path.join(PROJECT_ROOT, 'examples', 'openstack', 'import', f);
const cloud = ['--auth-url', 'http://127.0.0.1:15000/v3', '--project', 'poolpilot', '--credential-ref', 'lab-openstack'];
const dir = mkdtempSync(path.join(tmpdir(), 'pp-import-'));

/** Runs an import with -o; the written spec (parsed as cluster apply parses it) and the standard-error lines. */
async function imported(args: string[]) {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}.yaml`);
  const code = await main([...args, '-o', out]);
  return { code, out, text: existsSync(out) ? readFileSync(out, 'utf8') : undefined, said: cli.out.join('\n') };
}

test('a Heat autoscaling group of Nova servers in an Octavia pool: the spec, its receivers, what is not mapped', async () => {
  const r = await imported(['import', 'heat', ex('heat-asg.yaml'), ...cloud, '--parameter', 'key_name=ops']);
  expect(r.code).toBe(0);
  const { spec } = parseClusterSpecText(r.text!, 'imported');
  expect(spec).toMatchObject({
    name: 'heatasg',
    compute: { openstack: { authUrl: 'http://127.0.0.1:15000/v3', credentialRef: 'lab-openstack', projectName: 'poolpilot', image: 'tiny', flavor: 'm1.tiny', networks: ['private'], keyName: 'ops' } },
    loadBalancer: { octavia: { pool: 'web-pool', subnet: 'private-subnet' }, memberPort: 8080 },
    min: 1,
    max: 5,
    initial: 2,
    autoscaling: { scaleOutCooldown: 60_000, scaleInCooldown: 300_000 },
  });
  expect(spec.compute!.openstack!.userData).toMatch(/systemctl start web/);
  expect(r.said).toMatch(/^receiver: scale_out \(change_in_capacity 1\): POST \/v1\/webhooks\/heatasg\/trigger\?V=2&action=CLUSTER_SCALE_OUT&count=1$/m);
  expect(r.said).toMatch(/^receiver: alarm cpu_low \(.*cpu lt 9600000000\): point its alarm_actions at \/v1\/webhooks\/heatasg\/trigger\?V=2&action=CLUSTER_SCALE_IN&count=1/m);
  // Every resource that is not the group's is named; the member's server property without a field too.
  for (const what of [/not mapped: .*resource pool \(OS::Octavia::Pool\)/, /not mapped: .*resource lb \(OS::Octavia::LoadBalancer\)/, /not mapped: .*resource listener/, /not mapped: lb-server\.yaml: server: property metadata/]) expect(r.said).toMatch(what);
});

test('a Tacker VNFD: min 1, max 3, default 2, increment 1, cooldown 120, its alarms as receivers', async () => {
  const r = await imported(['import', 'tosca', ex('tacker-vnfd.yaml'), ...cloud, '--pool', 'web-pool', '--member-port', '8080']);
  expect(r.code).toBe(0);
  const { spec } = parseClusterSpecText(r.text!, 'imported');
  expect(spec).toMatchObject({
    name: 'tackervnfd',
    compute: { openstack: { image: 'tiny', flavor: 'm1.tiny', networks: ['private'], availabilityZone: 'nova' } },
    loadBalancer: { octavia: { pool: 'web-pool' }, memberPort: 8080 },
    min: 1,
    max: 3,
    initial: 2,
    autoscaling: { maxStepOut: 1, maxStepIn: 1, scaleOutCooldown: 120_000, scaleInCooldown: 120_000 },
  });
  expect(r.said).toMatch(/^receiver: alarm vdu_cpu_usage_monitoring_policy\.vdu_hcpu_usage_scaling_out \(cpu_util gt 80\): point it at POST \/v1\/webhooks\/tackervnfd\/trigger\?V=2&action=CLUSTER_SCALE_OUT&count=1/m);
  expect(r.said).toMatch(/^receiver: alarm vdu_cpu_usage_monitoring_policy\.vdu_lcpu_usage_scaling_in .*CLUSTER_SCALE_IN&count=1/m);
  expect(r.said).toMatch(/^not mapped: .*VDU1\.properties\.mgmt_driver/m);
});

test('a Heat template of an OS::Senlin::Cluster: mapped as import senlin maps a running one, its alarm pointed at the receiver', async () => {
  const r = await imported(['import', 'heat', ex('senlin-cluster.yaml'), ...cloud, '--parameter', 'pool_id=web-pool', '--parameter', 'loadbalancer_id=web-lb']);
  expect(r.code).toBe(0);
  const { spec } = parseClusterSpecText(r.text!, 'imported');
  expect(spec).toMatchObject({
    name: 'websenlin',
    compute: { openstack: { image: 'tiny', flavor: 'm1.tiny', networks: ['private'] } },
    loadBalancer: { octavia: { pool: 'web-pool', subnet: 'private-subnet' }, memberPort: 8080 },
    min: 1,
    max: 4,
    initial: 2,
    deletionPolicy: 'OLDEST_FIRST',
    drainGracePeriod: 20_000,
    // The health policy is bound by its own bindings, not the cluster's list.
    health: { replace: true, gracePeriod: 60_000 },
    autoscaling: { scaleOutCooldown: 120_000, scaleInCooldown: 300_000 },
  });
  expect(r.said).toMatch(/^receiver: scale_out_receiver \(CLUSTER_SCALE_OUT\): POST \/v1\/webhooks\/websenlin\/trigger\?V=2&action=CLUSTER_SCALE_OUT&count=2 /m);
  expect(r.said).toMatch(/^receiver: alarm cpu_alarm_high \(OS::Aodh::GnocchiAggregationByResourcesAlarm\): point its alarm_actions at \/v1\/webhooks\/websenlin\/trigger\?V=2&action=CLUSTER_SCALE_OUT&count=2/m);
  for (const what of [/not mapped: .*profile profile: property metadata/, /not mapped: .*policy lb_policy .*: vip/, /not mapped: .*policy lb_policy .*: loadbalancer/]) expect(r.said).toMatch(what);
  expect(r.said).not.toMatch(/not mapped: .*cpu_alarm_high/);
});

const heat = readFileSync(ex('heat-asg.yaml'), 'utf8');
const senlinHeat = readFileSync(ex('senlin-cluster.yaml'), 'utf8');
const vnfd = readFileSync(ex('tacker-vnfd.yaml'), 'utf8');
const bad: [string, string, string, string[], RegExp][] = [
  ['a YAML error', 'heat', 'heat_template_version: 2018-08-31\nresources: [a, b\n', [], /: not valid YAML at line \d+/],
  ['an unknown resource type', 'heat', heat.replace('type: OS::Octavia::Listener', 'type: Acme::Widget'), ['--parameter', 'key_name=k'], /resource listener has an unknown resource type "Acme::Widget"/],
  ['a missing parameter', 'heat', heat, [], /parameter "key_name" has no default: give --parameter key_name=VALUE/],
  ['not a Heat template', 'heat', 'a: 1\n', [], /not a Heat template \(no heat_template_version\)/],
  ['a malformed --parameter', 'heat', heat, ['--parameter', 'key_name'], /--parameter must be NAME=VALUE, not "key_name"/],
  ['no cloud given', 'heat', heat, ['--parameter', 'key_name=k', '--auth-url', ''], /give --auth-url \(or set OS_AUTH_URL\)/],
  ['a Senlin cluster whose profile is not in the template', 'heat', senlinHeat.replace('profile: {get_resource: profile}', 'profile: {get_resource: nowhere}'), ['--parameter', 'pool_id=p', '--parameter', 'loadbalancer_id=l'], /cluster\.profile: \{"get_resource":"nowhere"\} is not a OS::Senlin::Profile of this template/],
  ['a Senlin pool parameter not given', 'heat', senlinHeat, ['--parameter', 'loadbalancer_id=l'], /parameter "pool_id" has no default: give --parameter pool_id=VALUE/],
  ['a TOSCA node of an unknown type', 'tosca', vnfd.replace('type: tosca.nodes.nfv.VL', 'type: acme.Link'), [], /node VL1 has an unknown type "acme\.Link"/],
  ['a TOSCA input without a default', 'tosca', vnfd.replace('      default: tiny\n', ''), [], /parameter "image_name" has no default: give --parameter image_name=VALUE/],
  ['max below min in the VNFD', 'tosca', vnfd.replace('max_instances: 3', 'max_instances: 0'), [], /SP1\.properties\.max_instances must be a whole number of at least 1, not 0/],
];
test.each(bad)('%s: one line, exit 2, nothing written', async (_n, kind, text, extra, message) => {
  const file = path.join(dir, `${kind}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  // lb-server.yaml sits beside the Heat template.
  if (kind === 'heat') writeFileSync(path.join(dir, 'lb-server.yaml'), readFileSync(ex('lb-server.yaml')));
  const env = { ...process.env };
  delete process.env.OS_AUTH_URL;
  try {
    const r = await imported(['import', kind, file, ...(extra.includes('--auth-url') ? ['--project', 'p'] : cloud), ...(kind === 'tosca' ? ['--pool', 'p', '--member-port', '80'] : []), ...extra]);
    expect(r.code).toBe(2);
    expect(r.said).toMatch(message);
    expect(r.said.trim().split('\n')).toHaveLength(1);
    expect(r.text).toBeUndefined();
  } finally {
    process.env = env;
  }
});
