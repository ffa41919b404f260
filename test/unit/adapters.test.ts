// The vSphere, Prometheus and HAProxy adapters on replies recorded from the real servers (test/unit/recorded), given
// through each adapter's transport parameter; and the activity's cancellation signal stopping their calls.
import { ApplicationFailure } from '@temporalio/common';
import { readFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withCancellation } from '../../src/activities/cancellation';
import { VimClient, VimFault, type SoapRequest } from '../../src/activities/compute/vim';
import { VsphereCompute } from '../../src/activities/compute/vsphere';
import { HaproxyLoadBalancer } from '../../src/activities/loadbalancer/haproxy';
import { runtimeCommand } from '../../src/activities/loadbalancer/runtime-api';
import { PrometheusSource } from '../../src/activities/metrics/prometheus';
import { vsphereSchema } from '../../src/config/spec';

const recorded = (file: string) => readFileSync(path.join(__dirname, 'recorded', file), 'utf8');
const SESSION = ['vmware_soap_session="5f1c0d7e"; Path=/; HttpOnly; Secure'];

/** A vSphere endpoint that answers each method from a script of recorded replies, and notes what it was asked. */
function vim(script: Record<string, string[]>) {
  const asked: string[] = [];
  const transport = async (req: SoapRequest) => {
    asked.push(`${req.method}${req.cookie ? ' +cookie' : ''}`);
    const next = script[req.method]?.shift();
    if (!next) throw new Error(`no recorded reply left for ${req.method}`);
    return { status: next.includes('Fault>') ? 500 : 200, text: recorded(next), setCookie: req.method === 'Login' && next === 'vim-login-ok.xml' ? SESSION : undefined };
  };
  return { asked, client: new VimClient({ url: 'https://vcenter.example/sdk', username: 'u', password: 'p', transport }) };
}

describe('vSphere (vim25 SOAP)', () => {
  test('NotAuthenticated: logs in again once and repeats the call', async () => {
    const { client, asked } = vim({
      RetrieveServiceContent: ['vim-service-content.xml'],
      Login: ['vim-login-ok.xml', 'vim-login-ok.xml'],
      FindByInventoryPath: ['vim-not-authenticated.xml', 'vim-find-template.xml'],
    });
    expect(await client.findByInventoryPath('/DC0/vm/web-template')).toEqual({ type: 'VirtualMachine', value: 'vm-31' });
    // The new login drops the dead session's cookie first.
    expect(asked).toEqual(['RetrieveServiceContent', 'Login', 'FindByInventoryPath +cookie', 'Login', 'FindByInventoryPath +cookie']);
  });

  test('a SOAP fault names its type and method', async () => {
    const { client } = vim({ RetrieveServiceContent: ['vim-service-content.xml'], Login: ['vim-login-invalid.xml'] });
    const err = await client.login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VimFault);
    expect(err).toMatchObject({ faultType: 'InvalidLogin', method: 'Login', message: 'Login: InvalidLogin: Login failure' });
  });

  test('bad credentials are a permanent failure naming the credential', async () => {
    const { client } = vim({ RetrieveServiceContent: ['vim-service-content.xml'], Login: ['vim-login-invalid.xml'] });
    const spec = vsphereSchema.parse({ url: 'https://vcenter.example/sdk', credentialRef: 'prod', datacenter: 'DC0', template: '/DC0/vm/t', folder: '/DC0/vm/p', resourcePool: '/DC0/host/C/Resources', network: 'VM Network' });
    const err = await new VsphereCompute(client, spec, 'web').listVms('web-').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'BadCredentials', nonRetryable: true });
    expect((err as Error).message).toMatch(/refused credential "prod" \(InvalidLogin\)/);
  });

  test('a cancelled activity makes no call', async () => {
    const { client, asked } = vim({ RetrieveServiceContent: ['vim-service-content.xml'] });
    const ac = new AbortController();
    ac.abort(new Error('activity cancelled'));
    await expect(withCancellation(ac.signal, () => client.findByInventoryPath('/DC0/vm/t'))).rejects.toThrow('activity cancelled');
    expect(asked).toEqual([]);
  });
});

describe('Prometheus', () => {
  const prom = (file: string, status = 200) => {
    const seen: AbortSignal[] = [];
    const source = new PrometheusSource('http://prometheus.example:9090', 5000, async (_url, init) => {
      seen.push(init.signal);
      return new Response(recorded(file), { status, headers: { 'content-type': 'application/json' } });
    });
    return { source, seen };
  };
  test('an error body is reported with its message', async () => {
    await expect(prom('prometheus-bad-query.json', 400).source.query('sum(rate(x[')).rejects.toThrow('Prometheus rejected "sum(rate(x[": invalid parameter "query": 1:12: parse error: missing unit character in duration');
  });
  test('several series must be aggregated', async () => {
    await expect(prom('prometheus-many-series.json').source.query('haproxy_backend_status')).rejects.toThrow('"haproxy_backend_status" returned 2 series; aggregate it to one (e.g. avg(...) or sum(...))');
  });
  test('no series is no data, not zero', async () => {
    await expect(prom('prometheus-empty.json').source.query('nosuch_metric')).rejects.toThrow('"nosuch_metric" returned no data');
  });
  test('a scalar is read', async () => expect(await prom('prometheus-scalar.json').source.query('scalar(count(up))')).toBe(1));
  test("the request carries the activity's cancellation", async () => {
    const { source, seen } = prom('prometheus-scalar.json');
    const ac = new AbortController();
    await withCancellation(ac.signal, () => source.query('scalar(count(up))'));
    ac.abort();
    expect(seen[0]!.aborted).toBe(true);
  });
});

describe('HAProxy runtime API', () => {
  const lb = (answers: Record<string, string>) => {
    const asked: string[] = [];
    const balancer = new HaproxyLoadBalancer('/run/haproxy.sock', 'web', async (_socket, command) => {
      asked.push(command);
      const key = Object.keys(answers).find((k) => command.startsWith(k));
      return key ? recorded(answers[key]!) : '\n';
    });
    return { balancer, asked };
  };
  test('"No such server" on drain and remove: the member was not there', async () => {
    const { balancer, asked } = lb({ 'set server': 'haproxy-no-such-server.txt' });
    expect(await balancer.drainMember('web-1-1')).toBe(false);
    expect(await balancer.removeMember('web-1-1')).toBe(false);
    // Nothing more is attempted on a server that does not exist.
    expect(asked).toEqual(['set server web/web-1-1 state drain', 'set server web/web-1-1 state maint']);
  });
  test('"No such proxy" is a permanent BackendNotFound', async () => {
    const err = await lb({ 'show stat': 'haproxy-no-such-backend.txt' }).balancer.listMembers().catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'BackendNotFound', nonRetryable: true });
  });
  test('a backend without servers lists none', async () => expect(await lb({ 'show stat': 'haproxy-show-stat.txt' }).balancer.listMembers()).toEqual([]));

  test('a command on a socket that never answers stops when the activity is cancelled', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pp-sock-'));
    const socket = path.join(dir, 'admin.sock');
    const open = new Set<net.Socket>();
    const server = net.createServer((c) => void open.add(c));
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('activity cancelled')), 100);
      const started = Date.now();
      await expect(withCancellation(ac.signal, () => runtimeCommand(socket, 'show stat', 10_000))).rejects.toThrow('activity cancelled');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const c of open) c.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('lifecycle hook over HTTP', () => {
  // A real HTTP server on loopback, answering by path.
  let server: http.Server;
  let base = '';
  const seen: unknown[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        seen.push(JSON.parse(body));
        const answers: Record<string, [number, string]> = { '/ok': [200, ''], '/abandon': [200, '{"result":"ABANDON"}'], '/missing': [404, 'no'], '/broken': [503, 'down'] };
        const [status, text] = answers[req.url ?? ''] ?? [500, ''];
        res.writeHead(status).end(text);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const acts = createActivities({ credentials: () => ({ username: 'u', password: 'p' }), logger: pino({ level: 'silent' }) });
  const call = (p: string) =>
    new MockActivityEnvironment().run(acts.callLifecycleHook, { url: base + p, timeoutMs: 5000, payload: { cluster: 'web', member: 'web-3-1', hook: 'cmdb', transition: 'launch' as const, ip: '10.0.0.7', op: 3 } });
  test('2xx is CONTINUE, with the member in the body', async () => {
    expect(await call('/ok')).toBe('CONTINUE');
    expect(seen[seen.length - 1]).toEqual({ cluster: 'web', member: 'web-3-1', hook: 'cmdb', transition: 'launch', ip: '10.0.0.7', op: 3 });
  });
  test('a body saying ABANDON, or a 4xx, is ABANDON', async () => {
    expect(await call('/abandon')).toBe('ABANDON');
    expect(await call('/missing')).toBe('ABANDON');
  });
  test('a 5xx is an error Temporal retries until the hook times out', async () => {
    await expect(call('/broken')).rejects.toThrow(/lifecycle hook cmdb at http:\/\/127\.0\.0\.1:\d+\/broken answered HTTP 503/);
  });
});
