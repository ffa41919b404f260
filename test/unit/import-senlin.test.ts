// The Senlin mapping (src/config/import-senlin.ts) on a reply recorded from the lab's real Senlin 14 (test/fixtures/
// senlin/web3.json: readSenlinCluster on a cluster that test/openstack/senlin.py built with a profile, two scaling
// policies and a deletion, a load-balancing and a health policy, and a webhook receiver), then on variations of it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ImportError } from '../../src/config/import-common';
import { senlinToSpec, type SenlinCluster } from '../../src/config/import-senlin';
import { parseClusterSpecValue } from '../../src/config/load';
import { PROJECT_ROOT } from '../../src/config/settings';

const recorded = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'senlin', 'web3.json'), 'utf8')) as SenlinCluster;
const cloud = { authUrl: 'http://127.0.0.1:15000/v3', projectName: 'poolpilot', credentialRef: 'lab-openstack' };
const where = 'Senlin cluster web3';

/** The recorded cluster with one policy's properties changed (by type family), or policies/receivers replaced. */
function variant(change: (c: SenlinCluster) => void): SenlinCluster {
  const c = structuredClone(recorded);
  change(c);
  return c;
}
const policy = (c: SenlinCluster, name: string) => c.policies.find((p) => p.name === name)!.spec.properties!;

test('the recorded cluster: profile, bounds, cooldowns, deletion, pool, health and the receiver', () => {
  const r = senlinToSpec(recorded, where, cloud);
  const { spec } = parseClusterSpecValue(r.spec, 'imported');
  const pool = (policy(recorded, 'web3-lb').pool as { id: string }).id;
  expect(spec).toMatchObject({
    name: 'web3',
    compute: { openstack: { image: 'tiny', flavor: 'm1.tiny', networks: ['private'], credentialRef: 'lab-openstack' } },
    loadBalancer: { octavia: { pool, subnet: 'private-subnet' }, memberPort: 8080 },
    min: 1,
    max: 5,
    initial: 2,
    deletionPolicy: 'OLDEST_FIRST',
    drainGracePeriod: 20_000,
    health: { replace: true, gracePeriod: 60_000 },
    autoscaling: { scaleOutCooldown: 120_000, scaleInCooldown: 300_000 },
  });
  // The receiver without a count takes the scaling policy's: 2 out.
  expect(r.notes).toEqual(['web3-out (CLUSTER_SCALE_OUT): POST /v1/webhooks/web3/trigger?V=2&action=CLUSTER_SCALE_OUT&count=2 on poolpilot\'s API, with a token that may operate cluster web3']);
  expect(r.scaleCounts).toEqual({ CLUSTER_SCALE_OUT: 2, CLUSTER_SCALE_IN: 1 });
  // Every property without an equivalent, one line each; nothing else.
  expect(r.unmapped.map((u) => u.replace(`${where}: `, ''))).toEqual([
    'profile web3-profile: property metadata (no spec field: set it on the image or in user data)',
    'policy web3-lb (senlin.policy.loadbalance-1.1): pool.lb_method (the pool\'s own setting: it stays in Octavia)',
    'policy web3-lb (senlin.policy.loadbalance-1.1): pool.protocol (the pool\'s own setting: it stays in Octavia)',
    'policy web3-lb (senlin.policy.loadbalance-1.1): vip (the load balancer\'s own: it stays in Octavia)',
    'policy web3-lb (senlin.policy.loadbalance-1.1): loadbalancer (the load balancer\'s own: it stays in Octavia)',
  ]);
});

const lines: [string, (c: SenlinCluster) => void, RegExp][] = [
  ['max_size -1', (c) => (c.cluster.max_size = -1), /max_size -1 \(no upper bound\): a spec has one; max is 1000/],
  ['CHANGE_IN_PERCENTAGE', (c) => Object.assign(policy(c, 'web3-out').adjustment as object, { type: 'CHANGE_IN_PERCENTAGE', number: 50, min_step: 1 }), /CHANGE_IN_PERCENTAGE 50% \(min_step 1\) became a count of 1 \(50% of the 2 members now\)/],
  ['best_effort false', (c) => Object.assign(policy(c, 'web3-out').adjustment as object, { best_effort: false }), /best_effort false: poolpilot trims a request to \[min, max\]/],
  ['OLDEST_PROFILE_FIRST', (c) => (policy(c, 'web3-del').criteria = 'OLDEST_PROFILE_FIRST'), /OLDEST_PROFILE_FIRST: a poolpilot cluster has one profile, so it is OLDEST_FIRST/],
  ['RANDOM', (c) => (policy(c, 'web3-del').criteria = 'RANDOM'), /criteria RANDOM: .*YOUNGEST_FIRST, is kept/],
  ['deletion hooks', (c) => (policy(c, 'web3-del').hooks = { type: 'webhook', params: { url: 'http://x' } }), /hooks: give the spec a terminate hook/],
  ['REBOOT recovery', (c) => ((policy(c, 'web3-health').recovery as { actions: unknown[] }).actions = [{ name: 'REBOOT' }]), /recovery REBOOT: poolpilot replaces an unhealthy member/],
  ['poll-URL detection', (c) => ((policy(c, 'web3-health').detection as { detection_modes: unknown[] }).detection_modes = [{ type: 'NODE_STATUS_POLL_URL', options: { poll_url: 'http://{nodename}/health' } }]), /detection NODE_STATUS_POLL_URL: poolpilot watches the server's state/],
  ['a disabled policy', (c) => (c.policies.find((p) => p.name === 'web3-health')!.enabled = false), /policy web3-health .*disabled on the cluster, not imported/],
  ['an affinity policy', (c) => c.policies.push({ name: 'aff', type: 'senlin.policy.affinity-1.0', enabled: true, spec: { properties: { servergroup: { policies: 'anti-affinity' } } } }), /policy aff \(senlin.policy.affinity-1.0\): no poolpilot equivalent/],
  ['a message receiver', (c) => c.receivers.push({ name: 'zq', type: 'message', action: 'CLUSTER_SCALE_OUT' }), /receiver zq: a message receiver \(Zaqar\)/],
  ['a receiver for another action', (c) => c.receivers.push({ name: 'chk', type: 'webhook', action: 'CLUSTER_CHECK' }), /receiver chk: action CLUSTER_CHECK: poolpilot's receivers scale out, scale in or resize/],
];

test.each(lines)('%s: named in one line, and the spec still validates', (_name, change, line) => {
  const r = senlinToSpec(variant(change), where, cloud);
  expect(r.unmapped.filter((u) => line.test(u))).toHaveLength(1);
  expect(() => parseClusterSpecValue(r.spec, 'imported')).not.toThrow();
});

test('receivers: a count on the receiver wins; EXACT_CAPACITY and CLUSTER_RESIZE become a resize', () => {
  const r = senlinToSpec(
    variant((c) => {
      c.receivers = [
        { name: 'out5', type: 'webhook', action: 'CLUSTER_SCALE_OUT', params: { count: 5 } },
        { name: 'in', type: 'webhook', action: 'CLUSTER_SCALE_IN' },
        { name: 'size', type: 'webhook', action: 'CLUSTER_RESIZE', params: { adjustment_type: 'EXACT_CAPACITY', number: 3 } },
      ];
      Object.assign(policy(c, 'web3-in').adjustment as object, { type: 'EXACT_CAPACITY', number: 1 });
    }),
    where,
    cloud,
  );
  expect(r.notes.map((n) => n.split(': POST ')[1]!.split(' ')[0])).toEqual([
    '/v1/webhooks/web3/trigger?V=2&action=CLUSTER_SCALE_OUT&count=5',
    '/v1/webhooks/web3/trigger?V=2&action=CLUSTER_RESIZE&capacity=1',
    '/v1/webhooks/web3/trigger?V=2&action=CLUSTER_RESIZE&capacity=3',
  ]);
});

const refused: [string, (c: SenlinCluster) => void, Record<string, string>, RegExp][] = [
  ['a Heat-stack profile', (c) => (c.profile.type = 'os.heat.stack-1.0'), {}, /profile web3-profile is os.heat.stack-1.0; poolpilot imports clusters of os.nova.server/],
  ['no load-balancing policy', (c) => (c.policies = c.policies.filter((p) => p.name !== 'web3-lb')), {}, /no load-balancing policy is attached: poolpilot scales a pool's members: give --pool and --member-port/],
  ['a policy that makes its own pool', (c) => delete (policy(c, 'web3-lb').pool as Record<string, unknown>).id, {}, /makes its own load balancer and pool; poolpilot joins an existing pool: give --pool/],
  ['an unknown adjustment type', (c) => Object.assign(policy(c, 'web3-out').adjustment as object, { type: 'CHANGE_BY_MAGIC' }), {}, /adjustment.type CHANGE_BY_MAGIC is not one of/],
];

test.each(refused)('%s: refused with one ImportError naming it', (_name, change, extra, message) => {
  expect(() => senlinToSpec(variant(change), where, { ...cloud, ...extra })).toThrow(ImportError);
  expect(() => senlinToSpec(variant(change), where, { ...cloud, ...extra })).toThrow(message);
});

test('destroy_after_deletion false keeps the servers a scale-in removes: destroyAfterDeletion false', () => {
  const r = senlinToSpec(variant((c) => (policy(c, 'web3-del').destroy_after_deletion = false)), where, cloud);
  expect(parseClusterSpecValue(r.spec, 'imported').spec.destroyAfterDeletion).toBe(false);
  expect(r.unmapped.filter((u) => /destroy_after_deletion/.test(u))).toEqual([]);
  // The recorded one (true) is the default.
  expect(parseClusterSpecValue(senlinToSpec(recorded, where, cloud).spec, 'imported').spec.destroyAfterDeletion).toBe(true);
});

test('a receiver without a count on a cluster without a scaling policy steps by 1, as Senlin does', () => {
  const r = senlinToSpec(variant((c) => (c.policies = c.policies.filter((p) => !p.type.startsWith('senlin.policy.scaling')))), where, cloud);
  expect(Object.values(r.receiverPaths)).toEqual(['/v1/webhooks/web3/trigger?V=2&action=CLUSTER_SCALE_OUT&count=1']);
});

test('--pool names the pool of a policy that makes its own', () => {
  const r = senlinToSpec(variant((c) => delete (policy(c, 'web3-lb').pool as Record<string, unknown>).id), where, { ...cloud, pool: 'web-pool' });
  expect(r.spec.loadBalancer).toEqual({ octavia: { pool: 'web-pool', subnet: 'private-subnet' }, memberPort: 8080 });
});

test('without a load-balancing policy, --pool and --member-port say where members go', () => {
  const r = senlinToSpec(variant((c) => (c.policies = c.policies.filter((p) => p.name !== 'web3-lb'))), where, { ...cloud, pool: 'web-pool', memberPort: 8081 });
  expect(r.spec.loadBalancer).toEqual({ octavia: { pool: 'web-pool' }, memberPort: 8081 });
});
