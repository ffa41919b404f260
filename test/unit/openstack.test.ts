// OpenStack's pure parts: the spec's two clouds, the Octavia pool's connection taken from compute.openstack, Octavia's
// member states, and the error bodies of its services. The APIs themselves are tested on the real lab
// (test/integration/openstack.test.ts).
import { errorDetail } from '../../src/activities/keystone';
import { sleepCancellable, withCancellation } from '../../src/activities/cancellation';
import { octaviaMemberStatus } from '../../src/activities/loadbalancer/octavia';
import { balancerOf, poolLabel } from '../../src/config/balancer';
import { cloudOfRequest, computeOf, sourceOf } from '../../src/config/compute';
import { parseClusterSpec, SpecError } from '../../src/config/spec';
import { loadClusterSpec } from '../../src/config/load';
import path from 'node:path';

const openstack = { authUrl: 'https://keystone.example.com:5000/v3', credentialRef: 'os', projectName: 'web', image: 'ubuntu-24.04', flavor: 'm1.small', networks: ['web-net'] };
const base = { name: 'web', min: 1, max: 5, compute: { openstack }, loadBalancer: { octavia: { pool: 'web-pool' }, memberPort: 8080 } };
const vsphere = { url: 'https://vc/sdk', credentialRef: 'vc', datacenter: 'DC0', template: '/DC0/vm/t', folder: '/DC0/vm/p', resourcePool: '/DC0/host/C/Resources', network: 'VM Network' };

const problems = (spec: unknown): string[] => {
  try {
    parseClusterSpec(spec);
    return [];
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
};

describe('the spec names one cloud', () => {
  test('compute.openstack: defaults for the connection and the timings', () => {
    const s = parseClusterSpec(base);
    const c = computeOf(s);
    expect(c.kind).toBe('openstack');
    expect(c.spec).toMatchObject({ auth: 'password', region: 'RegionOne', interface: 'public', userDomainName: 'Default', projectDomainName: 'Default', guestTimeout: 300_000, outageTolerance: 900_000 });
    expect(sourceOf(c)).toBe('image ubuntu-24.04');
  });

  test('the Octavia pool takes the connection of compute.openstack, field by field, unless it names its own', () => {
    const s = parseClusterSpec({ ...base, compute: { openstack: { ...openstack, region: 'north', interface: 'internal' } } });
    const b = balancerOf(s.loadBalancer);
    expect(b.kind).toBe('octavia');
    expect(b.spec).toMatchObject({ pool: 'web-pool', authUrl: openstack.authUrl, credentialRef: 'os', projectName: 'web', region: 'north', interface: 'internal' });
    expect(poolLabel(s.loadBalancer)).toBe('pool web-pool');
    const own = parseClusterSpec({ ...base, loadBalancer: { octavia: { pool: 'p', authUrl: 'https://other/v3', credentialRef: 'lb', projectName: 'net' }, memberPort: 80 } });
    expect(balancerOf(own.loadBalancer).spec).toMatchObject({ authUrl: 'https://other/v3', credentialRef: 'lb', projectName: 'net', region: 'RegionOne' });
  });

  test('the old top-level vsphere still works, and both shapes read the same', () => {
    const legacy = parseClusterSpec({ name: 'v', min: 0, max: 2, vsphere, loadBalancer: { haproxy: { socket: '/s', backend: 'b' }, memberPort: 80 } });
    const modern = parseClusterSpec({ name: 'v', min: 0, max: 2, compute: { vsphere }, loadBalancer: { haproxy: { socket: '/s', backend: 'b' }, memberPort: 80 } });
    expect(computeOf(legacy)).toEqual(computeOf(modern));
    expect(computeOf(legacy).kind).toBe('vsphere');
    // Activities scheduled by workflows from before the field send a bare vsphere.
    expect(cloudOfRequest({ vsphere: legacy.vsphere })).toEqual(computeOf(legacy));
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no cloud', { ...base, compute: undefined }, /^compute: names no cloud/],
    ['two clouds under compute', { ...base, compute: { openstack, vsphere } }, /^compute: names no cloud or two/],
    ['compute and a top-level vsphere', { ...base, vsphere }, /^vsphere: a cluster has one cloud/],
    ['no network', { ...base, compute: { openstack: { ...openstack, networks: [] } } }, /^compute\.openstack\.networks: /],
    ['password auth without a project', { ...base, compute: { openstack: { ...openstack, projectName: undefined } } }, /^compute\.openstack\.projectName: password auth needs projectName/],
    ['a secret instead of a credential name', { ...base, compute: { openstack: { ...openstack, credentialRef: 'pass word!' } } }, /^compute\.openstack\.credentialRef: must be a credential name/],
    ['an unknown field', { ...base, compute: { openstack: { ...openstack, flavour: 'm1' } } }, /^compute\.openstack: .*flavour/],
    ['a bad interface', { ...base, compute: { openstack: { ...openstack, interface: 'private' } } }, /^compute\.openstack\.interface: /],
    ['user data over Nova\'s limit', { ...base, compute: { openstack: { ...openstack, userData: 'x'.repeat(50_000) } } }, /^compute\.openstack\.userData: a string of 50000 characters, over the limit of 16384/],
    ['an Octavia pool beside vSphere without its own connection', { ...base, compute: { vsphere } }, /^loadBalancer\.octavia: an Octavia pool beside a cloud other than OpenStack needs its own authUrl/],
    ['an Octavia pool without a name', { ...base, loadBalancer: { octavia: {}, memberPort: 80 } }, /^loadBalancer\.octavia\.pool: /],
  ];
  test.each(cases)('%s: one line naming the field', (_what, spec, message) => {
    const p = problems(spec);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(message);
  });
});

test('examples/openstack/web.yaml parses: Nova servers behind the Octavia pool, the pool on the same connection', () => {
  const s = loadClusterSpec(path.join(__dirname, '..', '..', 'examples', 'openstack', 'web.yaml'));
  expect(computeOf(s)).toMatchObject({ kind: 'openstack', spec: { image: 'tiny', flavor: 'm1.tiny', networks: ['private'] } });
  expect(balancerOf(s.loadBalancer)).toMatchObject({ kind: 'octavia', spec: { pool: 'web-pool', authUrl: 'http://127.0.0.1:15000/v3', credentialRef: 'lab-openstack' } });
});

describe("Octavia's member states", () => {
  const cases: [string, Parameters<typeof octaviaMemberStatus>[0], string, boolean][] = [
    ['provisioned, no health monitor', { provisioning_status: 'ACTIVE', operating_status: 'NO_MONITOR', weight: 1, admin_state_up: true }, 'UP', true],
    ['a monitor says ONLINE', { provisioning_status: 'ACTIVE', operating_status: 'ONLINE', weight: 1, admin_state_up: true }, 'UP', true],
    ['a monitor says ERROR', { provisioning_status: 'ACTIVE', operating_status: 'ERROR', weight: 1, admin_state_up: true }, 'DOWN', false],
    ['OFFLINE', { provisioning_status: 'ACTIVE', operating_status: 'OFFLINE', weight: 1, admin_state_up: true }, 'DOWN', false],
    ['being created', { provisioning_status: 'PENDING_CREATE', operating_status: 'NO_MONITOR', weight: 1, admin_state_up: true }, 'CHECKING', false],
    ['being updated', { provisioning_status: 'PENDING_UPDATE', operating_status: 'ONLINE', weight: 1, admin_state_up: true }, 'CHECKING', false],
    ['provisioning failed', { provisioning_status: 'ERROR', operating_status: 'NO_MONITOR', weight: 1, admin_state_up: true }, 'DOWN', false],
    ['drained: weight 0', { provisioning_status: 'ACTIVE', operating_status: 'NO_MONITOR', weight: 0, admin_state_up: true }, 'DRAIN', true],
    ['draining by the monitor', { provisioning_status: 'ACTIVE', operating_status: 'DRAINING', weight: 1, admin_state_up: true }, 'DRAIN', false],
    ['administratively down', { provisioning_status: 'ACTIVE', operating_status: 'OFFLINE', weight: 1, admin_state_up: false }, 'MAINT', false],
    ['a state Octavia may add', { provisioning_status: 'ACTIVE', operating_status: 'DEGRADED', weight: 1, admin_state_up: true }, 'CHECKING', false],
  ];
  test.each(cases)('%s → %s', (_what, member, status, checkPassed) => {
    expect(octaviaMemberStatus(member)).toEqual({ status, checkPassed });
  });
});

describe("the services' error bodies give their own message", () => {
  const cases: [string, string, string][] = [
    ['Nova', '{"itemNotFound": {"code": 404, "message": "Flavor m1.huge could not be found."}}', 'Flavor m1.huge could not be found.'],
    ['Nova quota', '{"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"}}', 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances'],
    ['Neutron', '{"NeutronError": {"type": "NetworkNotFound", "message": "Network nowhere could not be found.", "detail": ""}}', 'Network nowhere could not be found.'],
    ['Octavia', '{"faultcode": "Client", "faultstring": "Load Balancer 5f3a is immutable and cannot be updated.", "debuginfo": null}', 'Load Balancer 5f3a is immutable and cannot be updated.'],
    ['Keystone', '{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}', 'The request you have made requires authentication.'],
    ['an HTML page from a proxy', '<html><body><h1>503 Service Unavailable</h1> No server is available.</body></html>', '503 Service Unavailable No server is available.'],
  ];
  test.each(cases)('%s', (_what, body, message) => {
    expect(errorDetail(body)).toBe(message);
  });
});

describe('the adapters\' polling sleep', () => {
  test('leaves no listener on the activity\'s signal after each sleep, and ends at once when cancelled', async () => {
    const ac = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await withCancellation(ac.signal, async () => {
        for (let i = 0; i < 30; i++) await sleepCancellable(1);
        const started = Date.now();
        const long = sleepCancellable(60_000);
        ac.abort(new Error('cancelled by Temporal'));
        await expect(long).rejects.toThrow('cancelled by Temporal');
        expect(Date.now() - started).toBeLessThan(1000);
      });
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
