// The load-balancer contract on HAProxy for real (its runtime socket, checked again with socat), and one whole
// scale-out / scale-in through the workflows with the NSX ALB (Avi) provider on the contract endpoint of its API
// (schema 30.2.1; no controller can run here), with VMs in vcsim and guests the endpoint's health monitor probes.
import { HaproxyLoadBalancer } from '../../src/activities/loadbalancer/haproxy';
import { HaproxyStatsSource } from '../../src/activities/metrics/haproxy-stats';
import { CREDENTIAL_ENV } from '../../src/config/settings';
import { parseClusterSpec } from '../../src/config/spec';
import { startScaleIn, startScaleOut } from '../../src/client/operations';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import type { ScaleInResult } from '../../src/workflows/scale-in';
import { startContractController, type ContractController } from '../avi/contract-controller';
import { balancerContract, startTarget, type BalancerFixture, type TestTarget } from '../contract/balancer-suite';
import { haproxy, lab, rawSpecFor, startWorker, vsphereVms, type TestWorker } from './harness';

describe('the balancer contract, HAProxy provider on the lab HAProxy', () => {
  let a: TestTarget;
  let b: TestTarget;
  let fixture: BalancerFixture;
  const pending: Promise<unknown>[] = [];
  const backend = () => `${lab().haproxyBackend}-contract`;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTarget(), startTarget()]);
    const lb = new HaproxyLoadBalancer(lab().haproxySocket, backend());
    fixture = {
      kind: 'haproxy',
      lb,
      cluster: 'ctr',
      // Real sessions: requests through the VIP to the contract backend, held open by the target.
      async openSessions(t, n) {
        const before = t.held();
        for (let i = 0; i < n; i++) pending.push(fetch(lab().vipUrl + '/hold', { headers: { 'x-pool': 'contract' } }).then((r) => r.text()));
        const deadline = Date.now() + 10_000;
        while (t.held() < before + n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(t.held()).toBe(before + n);
      },
      async closeSessions(t) {
        t.releaseAll();
        await Promise.all(pending.splice(0));
      },
      readSessionsMetric: () => new HaproxyStatsSource(lb, 'ctr').read({ name: 'conns', source: { haproxy: { field: 'scur', aggregate: 'sum' } }, target: { value: 1, perMember: false } }),
    };
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  balancerContract(
    () => fixture,
    () => ({ a, b }),
  );

  test('HAProxy itself (socat on its socket) has no contract server left', () => {
    const lines = haproxy(`show servers state ${backend()}`).split('\n').filter((l) => /^\d+ /.test(l));
    expect(lines.filter((l) => l.split(' ')[3]?.startsWith('ctr-'))).toEqual([]);
  });
});

describe('a whole scale-out and scale-in through the workflows with the Avi provider', () => {
  let ctl: ContractController;
  let w: TestWorker;
  const env = CREDENTIAL_ENV('alb');

  beforeAll(async () => {
    ctl = await startContractController({ users: { poolpilot: 'alb-test-secret' }, defaultPort: 8080 });
    ctl.addPool('avi-pool');
    // The worker resolves loadBalancer.avi.credentialRef from its environment; the secret never enters a workflow.
    process.env[env.username] = 'poolpilot';
    process.env[env.password] = 'alb-test-secret';
    w = await startWorker('test-avi');
  });
  afterAll(async () => {
    await w?.stop();
    await ctl?.close();
    delete process.env[env.username];
    delete process.env[env.password];
  });

  test('1 → 3 → 1: VMs in vSphere and servers in the Avi pool follow, with no request outside the schema', async () => {
    const raw = rawSpecFor('avione', { min: 1, max: 4 });
    raw.loadBalancer = { avi: { controller: ctl.url, credentialRef: 'alb', pool: 'avi-pool' }, memberPort: 8080, healthCheck: { timeout: '20s' } };
    const spec = parseClusterSpec(raw);

    const out: ScaleOutResult = await (await startScaleOut(w.client, spec, 3, 100)).result();
    expect(out.failed).toEqual([]);
    const names = ['avione-100-1', 'avione-100-2', 'avione-100-3'];
    expect(out.joined.map((j) => j.name).sort()).toEqual(names);
    expect(vsphereVms('avione-')).toEqual(names);
    const servers = ctl.pool('avi-pool')!.servers;
    expect(servers.map((s) => s.hostname).sort()).toEqual(names);
    expect(servers.every((s) => s.enabled === true && s.port === 8080 && s.ip.type === 'V4' && s.ip.addr.startsWith('127.0.11.'))).toBe(true);
    // Joined means the pool's health monitor saw each guest serve.
    expect(new Set(out.joined.map((j) => j.ip))).toEqual(new Set(servers.map((s) => s.ip.addr)));

    const removed: ScaleInResult = await (await startScaleIn(w.client, spec, { count: 2 }, 101)).result();
    expect(removed.removed).toHaveLength(2);
    expect(removed.removed.every((r) => r.drained)).toBe(true);
    const left = removed.removed.map((r) => r.name);
    const kept = names.filter((n) => !left.includes(n));
    expect(vsphereVms('avione-')).toEqual(kept);
    expect(ctl.pool('avi-pool')!.servers.map((s) => s.hostname)).toEqual(kept);

    // Drain disabled each server before it was deleted: PATCH add (enabled false), then PATCH delete.
    expect(ctl.requests.filter((r) => r.startsWith('PATCH')).length).toBeGreaterThanOrEqual(3 + 2 * 2);
    expect(ctl.requests.filter((r) => r.startsWith('PUT '))).toEqual([]);
    expect(ctl.violations).toEqual([]);

    await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 1 }, 102)).result();
    expect(vsphereVms('avione-')).toEqual([]);
    expect(ctl.pool('avi-pool')!.servers).toEqual([]);
  });
});
