// The NSX ALB (Avi) provider against the contract endpoint of the Controller API (schema 30.2.1): the shared balancer
// contract, sessions, and each bad input giving one clear, permanent error with nothing changed.
// Verified against the published schema, not a live controller: none can run here.
import { ApplicationFailure } from '@temporalio/common';
import { AviLoadBalancer, AviSession, aviMemberStatus } from '../../src/activities/loadbalancer/avi';
import { LoginGate } from '../../src/activities/login-gate';
import { AviAnalyticsSource } from '../../src/activities/metrics/avi-analytics';
import { parseClusterSpec, type AviBalancerSpec } from '../../src/config/spec';
import { startContractController, type ContractController } from '../avi/contract-controller';
import { balancerContract, startTarget, type BalancerFixture, type TestTarget } from '../contract/balancer-suite';

let ctl: ContractController;
let a: TestTarget;
let b: TestTarget;
let fixture: BalancerFixture;
const cred = { username: 'poolpilot', password: 'pp-test-secret' };

const aviSpec = (over: Partial<AviBalancerSpec> = {}): AviBalancerSpec => ({
  controller: ctl.url,
  credentialRef: 'alb',
  pool: 'web-pool',
  tenant: 'admin',
  version: '30.2.1',
  insecure: false,
  drainMetricStep: 5,
  ...over,
});
const balancer = (over: Partial<AviBalancerSpec> = {}, c = cred) => new AviLoadBalancer(new AviSession(aviSpec(over), c), aviSpec(over));

beforeAll(async () => {
  ctl = await startContractController({ users: { [cred.username]: cred.password } });
  ctl.addPool('web-pool');
  ctl.addPool('team-pool', 'team-a');
  [a, b] = await Promise.all([startTarget(), startTarget()]);
  const lb = balancer();
  fixture = {
    kind: 'avi',
    lb,
    cluster: 'ctr',
    openSessions: async (t, n) => ctl.setOpenConns(`${t.address}:${t.port}`, n),
    closeSessions: async (t) => ctl.setOpenConns(`${t.address}:${t.port}`, 0),
    readSessionsMetric: () => new AviAnalyticsSource(lb).read({ name: 'conns', source: { avi: { metricId: 'l4_server.avg_open_conns', step: 5, limit: 1 } }, target: { value: 1, perMember: false } }),
  };
});
afterEach(() => {
  // Any path, parameter or field the schema does not define fails the test that sent it.
  expect(ctl.violations).toEqual([]);
});
afterAll(async () => {
  await Promise.all([ctl?.close(), a?.close(), b?.close()]);
});

describe('the balancer contract, Avi provider on the contract endpoint', () => {
  balancerContract(
    () => fixture,
    () => ({ a, b }),
  );

  test('members change only by PATCH add / delete of servers: never a PUT of the whole pool', () => {
    expect(ctl.requests.filter((r) => r.startsWith('PATCH /api/pool/')).length).toBeGreaterThan(0);
    expect(ctl.requests.filter((r) => r.startsWith('PUT ') || r.startsWith('POST /api/pool'))).toEqual([]);
  });
});

describe('sessions', () => {
  test('an expired session logs in again once and the call goes through', async () => {
    const lb = balancer();
    await lb.listMembers();
    const logins = () => ctl.requests.filter((r) => r === 'POST /login').length;
    const before = logins();
    ctl.expireSessions();
    await expect(lb.listMembers()).resolves.toEqual(expect.any(Array));
    expect(logins()).toBe(before + 1);
  });

  test('a concurrent first use shares one login', async () => {
    const lb = balancer();
    const before = ctl.requests.filter((r) => r === 'POST /login').length;
    await Promise.all([lb.listMembers(), lb.listMembers(), lb.listMembers()]);
    expect(ctl.requests.filter((r) => r === 'POST /login').length).toBe(before + 1);
  });

  test('the tenant header picks the tenant: a pool of tenant team-a is found only there', async () => {
    await expect(balancer({ pool: 'team-pool', tenant: 'team-a' }).listMembers()).resolves.toEqual([]);
    await expect(balancer({ pool: 'team-pool' }).listMembers()).rejects.toThrow(/no pool "team-pool" in tenant "admin"/);
  });
});

describe('bad input: one clear, permanent error, and nothing changed', () => {
  const permanentError = async (p: Promise<unknown>, type: string, message: RegExp) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(type);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as Error).message).toMatch(message);
  };
  const patches = () => ctl.requests.filter((r) => r.startsWith('PATCH')).length;

  test('a pool that does not exist', async () => {
    const before = patches();
    await permanentError(balancer({ pool: 'nope' }).addMember('ctr-9-1', a.address, a.port, { intervalMs: 1000, rise: 1, fall: 2 }), 'BackendNotFound', /no pool "nope" in tenant "admin"; fix loadBalancer\.avi\.pool/);
    expect(patches()).toBe(before);
  });

  test('a tenant that does not exist', async () => {
    await permanentError(balancer({ tenant: 'nobody' }).listMembers(), 'TenantNotFound', /does not accept tenant "nobody".*Tenant 'nobody' not found/);
  });

  test('a controller that answers 403: the pool is unchanged', async () => {
    ctl.addReadOnlyUser('viewer', 'viewer-secret');
    const before = JSON.stringify(ctl.pool('web-pool')?.servers);
    await permanentError(balancer({}, { username: 'viewer', password: 'viewer-secret' }).addMember('ctr-9-2', a.address, a.port, { intervalMs: 1000, rise: 1, fall: 2 }), 'Forbidden', /HTTP 403: User 'viewer' is not authorized to write/);
    expect(JSON.stringify(ctl.pool('web-pool')?.servers)).toBe(before);
  });

  test('a login the controller refuses', async () => {
    await permanentError(balancer({}, { username: 'poolpilot', password: 'wrong' }).listMembers(), 'BadCredentials', /refused the login of "poolpilot" \(HTTP 401\)/);
  });

  test('refused logins are shared: two sessions for one user, many calls, one POST /login until the interval passes', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z');
    const gate = new LoginGate(300_000, () => now);
    const wrong = { username: 'poolpilot', password: 'wrong' };
    const sessions = [new AviSession(aviSpec(), wrong, undefined, gate), new AviSession(aviSpec({ pool: 'team-pool', tenant: 'team-a' }), wrong, undefined, gate)];
    const logins = () => ctl.requests.filter((r) => r.startsWith('POST /login')).length;
    const before = logins();
    const calls = sessions.flatMap((sn) => Array.from({ length: 5 }, () => new AviLoadBalancer(sn, sn.spec as AviBalancerSpec).listMembers().catch((e: unknown) => e)));
    const errors = await Promise.all(calls);
    expect(errors.every((e) => e instanceof ApplicationFailure && e.type === 'BadCredentials')).toBe(true);
    expect(logins() - before).toBe(1);
    now += 300_000;
    await sessions[0]!.login().catch(() => undefined);
    expect(logins() - before).toBe(2);
  });

  test('a controller that cannot be reached is a plain (retryable) error', async () => {
    const err = await balancer({ controller: 'http://127.0.0.1:1' })
      .listMembers()
      .catch((e: unknown) => e);
    // Node's own errors come from another realm under jest: checked by shape, not instanceof Error.
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(String(err)).toMatch(/ECONNREFUSED/);
  });

  test('an Avi metric with no samples names the metric and the pool', async () => {
    await expect(
      new AviAnalyticsSource(balancer()).read({ name: 'x', source: { avi: { metricId: 'l7_server.avg_complete_responses', step: 300, limit: 1 } }, target: { value: 1, perMember: false } }),
    ).rejects.toThrow(/no samples of l7_server\.avg_complete_responses for pool web-pool/);
  });
});

test.each([
  ['OPER_UP', true, 'UP'],
  ['OPER_DOWN', true, 'DOWN'],
  ['OPER_UNAVAIL', true, 'DOWN'],
  ['OPER_CREATING', true, 'CHECKING'],
  [undefined, true, 'CHECKING'],
  ['OPER_UP', false, 'DRAIN'],
  ['OPER_DISABLED', true, 'DRAIN'],
] as const)('Avi state %s (enabled %s) reads %s', (state, enabled, want) => {
  expect(aviMemberStatus(state, enabled)).toBe(want);
});

describe('the spec picks the balancer', () => {
  const base = {
    name: 'web',
    vsphere: { url: 'https://vc/sdk', credentialRef: 'vc', datacenter: 'DC0', template: '/DC0/vm/t', folder: '/DC0/vm/p', resourcePool: '/DC0/host/C/Resources', network: 'VM Network' },
    min: 1,
    max: 3,
  };
  const parse = (loadBalancer: unknown, extra: Record<string, unknown> = {}) => parseClusterSpec({ ...base, loadBalancer, ...extra });

  test('haproxy and avi shapes', () => {
    expect(parse({ haproxy: { socket: '/run/haproxy.sock', backend: 'web' }, memberPort: 8080 }).loadBalancer.haproxy).toEqual({ socket: '/run/haproxy.sock', backend: 'web' });
    const avi = parse({ avi: { controller: 'https://alb.example.com', credentialRef: 'alb', pool: 'web-pool' }, memberPort: 80 }).loadBalancer.avi;
    expect(avi).toMatchObject({ tenant: 'admin', version: '30.2.1', pool: 'web-pool', drainMetricStep: 5 });
  });

  test('the shape before balancers were pluggable still works', () => {
    const lb = parse({ type: 'haproxy', socket: '/s', backend: 'web', memberPort: 8080 }).loadBalancer;
    expect(lb.haproxy).toEqual({ socket: '/s', backend: 'web' });
    expect(parse({ socket: '/s', backend: 'web', memberPort: 8080 }).loadBalancer.haproxy).toEqual({ socket: '/s', backend: 'web' });
  });

  test.each([
    ['an unknown balancer', { f5: { host: 'x' }, memberPort: 80 }, /loadBalancer: unknown balancer "f5": choose one of haproxy, avi/],
    ['an unknown legacy type', { type: 'nginx', socket: '/s', backend: 'web', memberPort: 80 }, /loadBalancer: unknown balancer type "nginx"/],
    ['two balancers', { haproxy: { socket: '/s', backend: 'web' }, avi: { controller: 'https://a', credentialRef: 'a', pool: 'p' }, memberPort: 80 }, /names haproxy and avi: a cluster has one balancer/],
    ['no balancer', { memberPort: 80 }, /names no balancer/],
    ['a secret in credentialRef', { avi: { controller: 'https://a', credentialRef: 'p@ss w0rd', pool: 'p' }, memberPort: 80 }, /loadBalancer\.avi\.credentialRef: must be a credential name/],
  ])('%s is one clear message', (_what, lb, message) => {
    const err = (() => {
      try {
        parse(lb);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(message);
    expect(err?.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(1);
  });

  test("a balancer metric must be the cluster's balancer's", () => {
    expect(() => parse({ haproxy: { socket: '/s', backend: 'web' }, memberPort: 80 }, { metrics: [{ name: 'c', source: { avi: { metricId: 'l4_server.avg_open_conns' } }, target: { value: 5 } }] })).toThrow(
      /metrics\.0\.source\.avi: a avi metric reads the cluster's balancer, and its balancer is haproxy/,
    );
  });
});
