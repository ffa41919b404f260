// OpenStack for real: the test lab's Keystone, Nova (fake driver), Neutron and Octavia (amphora provider, noop drivers).
// Servers and members are checked through OpenStack's own API as its admin (openstacksdk, test/openstack/look.py),
// never through poolpilot. The noop drivers never report a member ONLINE or ERROR and count no sessions: those cases
// of the balancer contract are skipped here and run on recorded replies in test/unit/octavia.test.ts.
import { Client, Connection } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { keystoneSessions } from '../../src/activities/keystone';
import { OctaviaLoadBalancer } from '../../src/activities/loadbalancer/octavia';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { failureMessage, startScaleIn, startScaleOut } from '../../src/client/operations';
import { applyCluster } from '../../src/client/clusters';
import { NOVA_MICROVERSION } from '../../src/activities/compute/nova';
import { CREDENTIAL_ENV } from '../../src/config/settings';
import { parseClusterSpec, type ClusterSpec, type OpenstackCloudSpec } from '../../src/config/spec';
import { OPENSTACK_LAB_NAMES } from '../../src/lab/openstack';
import type { ScaleInResult } from '../../src/workflows/scale-in';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import type { WarmPoolFillResult } from '../../src/workflows/warm-pool';
import { balancerContract, startTarget, type BalancerFixture, type TestTarget } from '../contract/balancer-suite';
import { endCluster, eventually, lab, novaServers, octaviaHealthReport, octaviaMembers, openstackLab, openstackLook, rawOpenstackSpecFor, spawnWorkerProcess, startWorker, type TestWorker } from './harness';

const POOL = OPENSTACK_LAB_NAMES.loadBalancers[0].pool;

/** A token of the lab's user and the user's id, straight from Keystone. */
async function tokenOf(user: { authUrl: string; username: string; password: string; projectName: string }): Promise<{ token: string; userId: string }> {
  const r = await fetch(`${user.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user.username, domain: { name: 'Default' }, password: user.password } } }, scope: { project: { name: user.projectName, domain: { name: 'Default' } } } } }),
  });
  const body = (await r.json()) as { token: { user: { id: string } } };
  return { token: r.headers.get('x-subject-token') ?? '', userId: body.token.user.id };
}

/** The fault's code of a failed run: a member's (the run's details) or the failed activity's type. */
function failureCode(err: unknown): string | undefined {
  let e: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (e instanceof Error && 'cause' in e && e.cause instanceof Error) e = e.cause;
  if (!(e instanceof ApplicationFailure)) return undefined;
  const result = e.details?.[0] as ScaleOutResult | undefined;
  return result?.failed?.[0]?.code ?? e.type ?? undefined;
}
const spec = (name: string, over: Record<string, unknown> = {}): ClusterSpec => parseClusterSpec(rawOpenstackSpecFor(name, over));
const marked = (prefix: string) => novaServers(prefix).filter((s) => s.metadata['poolpilot-cluster'] === prefix.replace(/-$/, ''));
const poolMembers = (prefix: string) => octaviaMembers(POOL).filter((m) => m.name.startsWith(prefix));

describe('the balancer contract, Octavia provider on the lab Octavia', () => {
  let a: TestTarget;
  let b: TestTarget;
  let fixture: BalancerFixture;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTarget(), startTarget()]);
    const { user } = openstackLab();
    const cloud: OpenstackCloudSpec = {
      authUrl: user.authUrl, credentialRef: 'lab-openstack', auth: 'password', projectName: user.projectName, projectDomainName: 'Default', userDomainName: 'Default',
      region: user.region, interface: 'public', insecure: false,
    };
    const sessions = keystoneSessions(() => ({ username: user.username, password: user.password }));
    const lb = new OctaviaLoadBalancer(sessions.get(cloud), { pool: OPENSTACK_LAB_NAMES.loadBalancers[1].pool });
    const none = async () => 0;
    fixture = { kind: 'octavia', lb, cluster: 'ctr', openSessions: none as never, closeSessions: none as never, readSessionsMetric: none };
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  balancerContract(
    () => fixture,
    () => ({ a, b }),
    { healthChecks: false, sessions: false },
  );

  test("health as Octavia's health manager records it: ERROR reads DOWN, ONLINE reads UP, through the real API", async () => {
    // The health manager writes members' operating_status from amphora heartbeats; noop amphorae send none, so the
    // test writes it where the health manager would, and reads it back through Octavia's API like any other.
    const { a } = { a: (await startTarget()) };
    try {
      const name = 'ctr-1-7';
      expect(await fixture.lb.addMember(name, a.address, a.port, { intervalMs: 1000, rise: 1, fall: 1 })).toBe('added');
      await eventually('provisioned', 30_000, async () => ((await fixture.lb.getMember(name))?.status === 'UP' ? true : undefined));
      octaviaHealthReport(name, 'ERROR');
      expect(await fixture.lb.getMember(name)).toMatchObject({ status: 'DOWN', checkPassed: false, check: 'ACTIVE/ERROR' });
      octaviaHealthReport(name, 'ONLINE');
      expect(await fixture.lb.getMember(name)).toMatchObject({ status: 'UP', checkPassed: true, check: 'ACTIVE/ONLINE' });
      expect(await fixture.lb.removeMember(name)).toBe(true);
    } finally {
      await a.close();
    }
  });

  test('Octavia itself (its API as admin) has no contract member left', () => {
    expect(octaviaMembers(OPENSTACK_LAB_NAMES.loadBalancers[1].pool).filter((m) => m.name.startsWith('ctr-'))).toEqual([]);
  });
});

describe('scaling Nova servers behind an Octavia pool through the workflows', () => {
  let w: TestWorker;
  const wrong = CREDENTIAL_ENV('oswrong');

  beforeAll(async () => {
    process.env[wrong.username] = OPENSTACK_LAB_NAMES.username;
    process.env[wrong.password] = 'not-the-password';
    w = await startWorker('test-openstack');
  });
  afterAll(async () => {
    await w?.stop();
    delete process.env[wrong.username];
    delete process.env[wrong.password];
  });

  test('0 → 3 → 0: servers ACTIVE with fixed IPs on the network, each a member of the pool at its address, then all gone', async () => {
    const s = spec('osa', { max: 4 });
    const out: ScaleOutResult = await (await startScaleOut(w.client, s, 3, 200)).result();
    expect(out.failed).toEqual([]);
    const names = ['osa-200-1', 'osa-200-2', 'osa-200-3'];
    expect(out.joined.map((j) => j.name).sort()).toEqual(names);

    const servers = marked('osa-');
    expect(servers.map((x) => x.name)).toEqual(names);
    expect(servers.every((x) => x.status === 'ACTIVE')).toBe(true);
    const ips = servers.map((x) => x.addresses[OPENSTACK_LAB_NAMES.network]?.[0]);
    expect(ips.every((ip) => ip?.startsWith('10.250.0.'))).toBe(true);
    const members = poolMembers('osa-');
    expect(members.map((m) => m.name)).toEqual(names);
    expect(members.map((m) => m.address)).toEqual(ips);
    expect(members.every((m) => m.port === 8080 && m.provisioning_status === 'ACTIVE' && m.weight === 1)).toBe(true);
    expect(new Set(out.joined.map((j) => j.ip))).toEqual(new Set(ips));

    const removed: ScaleInResult = await (await startScaleIn(w.client, s, { count: 3 }, 201)).result();
    expect(removed.removed.map((r) => r.name).sort()).toEqual(names);
    expect(marked('osa-')).toEqual([]);
    expect(poolMembers('osa-')).toEqual([]);
  });

  test('a token revoked in Keystone mid-run: poolpilot takes a new one and the run completes', async () => {
    const { user } = openstackLab();
    const before = openstackLook<string>(['token', user.username, user.password, user.projectName]);
    const s = spec('osrev', { max: 3 });
    const run = await startScaleOut(w.client, s, 2, 210);
    // Revoked once the run has made its first server (its token is in use).
    await eventually('a server of the run', 60_000, () => (marked('osrev-').length ? true : undefined), 200);
    expect(openstackLook<string>(['revoke', user.username, user.password])).toBe('revoked');
    // Keystone itself now refuses a token taken before the revocation.
    const check = await fetch(`${user.authUrl}/auth/tokens`, { headers: { 'X-Auth-Token': before, 'X-Subject-Token': before } });
    expect([401, 404]).toContain(check.status);
    const out: ScaleOutResult = await run.result();
    expect(out.failed).toEqual([]);
    expect(marked('osrev-').map((x) => x.name)).toEqual(['osrev-210-1', 'osrev-210-2']);
    expect(poolMembers('osrev-').map((m) => m.name)).toEqual(['osrev-210-1', 'osrev-210-2']);
    await (await startScaleIn(w.client, s, { count: 2 }, 211)).result();
    expect(marked('osrev-')).toEqual([]);
    expect(poolMembers('osrev-')).toEqual([]);
  });

  const badCases: [string, Record<string, unknown>, RegExp, string][] = [
    ['an unknown flavor', { compute: { openstack: { flavor: 'm1.huge' } } }, /compute\.openstack\.flavor "m1\.huge" was not found/, 'InventoryNotFound'],
    ['an unknown image', { compute: { openstack: { image: 'no-such-image' } } }, /compute\.openstack\.image "no-such-image" was not found/, 'TemplateNotFound'],
    ['an unknown network', { compute: { openstack: { networks: ['nowhere'] } } }, /compute\.openstack\.networks\.0 "nowhere" was not found/, 'InventoryNotFound'],
    ['an unknown pool', { loadBalancer: { octavia: { pool: 'no-such-pool' } } }, /Octavia has no pool "no-such-pool"/, 'BackendNotFound'],
  ];
  // The run fails as a whole (nothing joined), with the one fault's message and code.
  const failsAlone = async (name: string, over: Record<string, unknown>, message: RegExp, code: string) => {
    const err = await (await startScaleOut(w.client, spec(name, over), 1, 220)).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureMessage(err)).toMatch(message);
    expect(failureCode(err)).toBe(code);
    expect(marked(`${name}-`)).toEqual([]);
    expect(poolMembers(`${name}-`)).toEqual([]);
  };
  test.each(badCases)('bad input, %s: one clear error, nothing left behind', (_what, over, message, code) => failsAlone(`osbad${badCases.findIndex((c) => c[1] === over)}`, over, message, code));

  test('a project with a quota of one server: the second is refused with Nova\'s message, the first serves, nothing else is left', async () => {
    // One at a time: two servers built at once both pass the API's quota check and both fail Nova's recheck.
    const s = spec('osq', { provisioningConcurrency: 1, compute: { openstack: { projectName: OPENSTACK_LAB_NAMES.tinyProject } }, loadBalancer: { octavia: { projectName: OPENSTACK_LAB_NAMES.project } } });
    const out: ScaleOutResult = await (await startScaleOut(w.client, s, 2, 230)).result();
    expect(out.joined).toHaveLength(1);
    expect(out.failed).toHaveLength(1);
    expect(out.failed[0]!.code).toBe('QuotaExceeded');
    expect(out.failed[0]!.message ?? out.failed[0]!.error).toMatch(/Quota exceeded/i);
    expect(marked('osq-').map((x) => x.name)).toEqual([out.joined[0]!.name]);
    expect(poolMembers('osq-').map((m) => m.name)).toEqual([out.joined[0]!.name]);
    await (await startScaleIn(w.client, s, { count: 1 }, 231)).result();
    expect(marked('osq-')).toEqual([]);
    expect(poolMembers('osq-')).toEqual([]);
  });

  test('destroyAfterDeletion false: the scaled-in server stays, SHUTOFF, out of the pool, its mark deleted', async () => {
    const s = spec('oskeep', { destroyAfterDeletion: false });
    const out: ScaleOutResult = await (await startScaleOut(w.client, s, 1, 270)).result();
    expect(out.joined.map((j) => j.name)).toEqual(['oskeep-270-1']);
    const id = marked('oskeep-')[0]!.id;
    const removed: ScaleInResult = await (await startScaleIn(w.client, s, { count: 1 }, 271)).result();
    expect(removed.removed.map((r) => r.name)).toEqual(['oskeep-270-1']);
    // Seen by Nova and Octavia: the same server, off, without the mark; no member of it.
    const kept = novaServers('oskeep-');
    expect(kept.map((x) => [x.id, x.status, x.metadata['poolpilot-cluster'] ?? null])).toEqual([[id, 'SHUTOFF', null]]);
    expect(marked('oskeep-')).toEqual([]);
    expect(poolMembers('oskeep-')).toEqual([]);
    const { user } = openstackLab();
    const sessions = keystoneSessions(() => ({ username: user.username, password: user.password }));
    const ks = sessions.get({ authUrl: user.authUrl, credentialRef: 'x', auth: 'password', projectName: user.projectName, projectDomainName: 'Default', userDomainName: 'Default', region: user.region, interface: 'public', insecure: false });
    await ks.call('compute', 'DELETE', `servers/${id}`, undefined, { accept: [404] }).finally(() => sessions.close());
  });

  test('a server of the same name without the mark is not ours: never adopted, listed or destroyed', async () => {
    // Made by someone else in the same project, under a name a member of cluster osm would have.
    const { user } = openstackLab();
    const sessions = keystoneSessions(() => ({ username: user.username, password: user.password }));
    const ks = sessions.get({ authUrl: user.authUrl, credentialRef: 'x', auth: 'password', projectName: user.projectName, projectDomainName: 'Default', userDomainName: 'Default', region: user.region, interface: 'public', insecure: false });
    const flavors = (await ks.call<{ flavors: { id: string; name: string }[] }>('compute', 'GET', 'flavors')).body.flavors;
    const images = (await ks.call<{ images: { id: string; name: string }[] }>('image', 'GET', 'v2/images?name=tiny')).body.images;
    const made = await ks.call<{ server: { id: string } }>('compute', 'POST', 'servers', { server: { name: 'osm-240-1', imageRef: images[0]!.id, flavorRef: flavors.find((f) => f.name === 'm1.tiny')!.id, networks: 'none' } }, { headers: { 'OpenStack-API-Version': `compute ${NOVA_MICROVERSION}` } });
    try {
      const s = spec('osm');
      const out: ScaleOutResult = await (await startScaleOut(w.client, s, 1, 240)).result();
      expect(out.failed).toEqual([]);
      const all = novaServers('osm-');
      expect(all.map((x) => `${x.name} ${x.metadata['poolpilot-cluster'] ?? '-'}`).sort()).toEqual(['osm-240-1 -', 'osm-240-1 osm']);
      const ours = all.find((x) => x.metadata['poolpilot-cluster'] === 'osm')!;
      expect(poolMembers('osm-').map((m) => m.address)).toEqual(ours.addresses[OPENSTACK_LAB_NAMES.network]);
      await (await startScaleIn(w.client, s, { count: 1 }, 241)).result();
      expect(novaServers('osm-').map((x) => x.id)).toEqual([made.body.server.id]);
    } finally {
      await ks.call('compute', 'DELETE', `servers/${made.body.server.id}`, undefined, { accept: [404] });
      sessions.close();
    }
  });
  test('the warm pool on OpenStack: SHUTOFF servers off the pool, started and renamed into service, then destroyed', async () => {
    const s = spec('oswarm', { max: 3, warmPool: { size: 2, state: 'poweredOff' } });
    const fill: WarmPoolFillResult = await w.client.workflow.execute('warmPoolFill', { args: [{ spec: s, op: 1, count: 2 }], taskQueue: w.taskQueue, workflowId: 'warm-pool:oswarm:1' });
    expect(fill.ready.sort()).toEqual(['oswarm-w1-1', 'oswarm-w1-2']);
    expect(marked('oswarm-').map((x) => `${x.name} ${x.status}`)).toEqual(['oswarm-w1-1 SHUTOFF', 'oswarm-w1-2 SHUTOFF']);
    expect(poolMembers('oswarm-')).toEqual([]);
    const ids = new Map(marked('oswarm-').map((x) => [x.name, x.id]));

    const out: ScaleOutResult = await w.client.workflow.execute('scaleOut', { args: [{ spec: s, op: 2, count: 2, warm: ['oswarm-w1-1', 'oswarm-w1-2'] }], taskQueue: w.taskQueue, workflowId: 'scale-out:oswarm:2' });
    expect(out.failed).toEqual([]);
    const servers = marked('oswarm-');
    // The same two servers (ids), now ACTIVE under member names and in the pool: nothing new was built.
    expect(servers.map((x) => `${x.name} ${x.status}`)).toEqual(['oswarm-2-1 ACTIVE', 'oswarm-2-2 ACTIVE']);
    expect(new Set(servers.map((x) => x.id))).toEqual(new Set(ids.values()));
    expect(poolMembers('oswarm-').map((m) => m.name)).toEqual(['oswarm-2-1', 'oswarm-2-2']);
    await (await startScaleIn(w.client, s, { count: 2 }, 3)).result();
    expect(marked('oswarm-')).toEqual([]);
    expect(poolMembers('oswarm-')).toEqual([]);
  });

  test('an application credential instead of a password: a token scoped by the credential itself', async () => {
    const { user } = openstackLab();
    let appCred = { username: '', password: '' };
    const sessions = keystoneSessions(() => appCred);
    try {
      // The user makes one for itself: Keystone lets users manage their own application credentials.
      const { token, userId } = await tokenOf(user);
      const made = await fetch(`${user.authUrl}/users/${userId}/application_credentials`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Auth-Token': token },
        body: JSON.stringify({ application_credential: { name: `poolpilot-test-${Date.now()}` } }),
      });
      expect(made.status).toBe(201);
      const cred = ((await made.json()) as { application_credential: { id: string; secret: string } }).application_credential;
      appCred = { username: cred.id, password: cred.secret };
      const viaApp = sessions.get({ authUrl: user.authUrl, credentialRef: 'app', auth: 'applicationCredential', projectDomainName: 'Default', userDomainName: 'Default', region: user.region, interface: 'public', insecure: false });
      const listed = await viaApp.call<{ servers: unknown[] }>('compute', 'GET', 'servers');
      expect(Array.isArray(listed.body.servers)).toBe(true);
      // Scoped to the credential's project, though the spec named none.
      expect(await viaApp.projectId()).toMatch(/^[0-9a-f]{32}$/);
      expect(viaApp.tokensIssued).toBe(1);
    } finally {
      sessions.close();
    }
  });

  test('a server gone to ERROR is replaced by the autoscaler: a new member joins, the broken one is drained and deleted', async () => {
    const raw = rawOpenstackSpecFor('osheal', { min: 1, max: 2, metrics: [], health: { gracePeriod: '2s' }, autoscaling: { pollInterval: '1s', reconcileInterval: '2s' } });
    await applyCluster(w.client, parseClusterSpec(raw));
    try {
      const first = await eventually('one member serving', 120_000, () => {
        const s = marked('osheal-').filter((x) => x.status === 'ACTIVE');
        return s.length === 1 && poolMembers('osheal-').some((m) => m.name === s[0]!.name) ? s[0] : undefined;
      }, 500);
      expect(openstackLook<string>(['error', first.id])).toBe('error');
      const replaced = await eventually('a new member serving, the broken one gone', 180_000, () => {
        const s = marked('osheal-');
        return s.length === 1 && s[0]!.id !== first.id && s[0]!.status === 'ACTIVE' && poolMembers('osheal-').map((m) => m.name).join() === s[0]!.name ? s[0] : undefined;
      }, 500);
      expect(replaced.addresses[OPENSTACK_LAB_NAMES.network]?.[0]).toMatch(/^10\.250\.0\./);
    } finally {
      // Ended, not only deleted: the autoscaler's end is waited for, so it does not outlive this file's worker.
      await endCluster(w.client, 'osheal');
      await eventually('the cluster gone', 120_000, () => (marked('osheal-').length === 0 && poolMembers('osheal-').length === 0 ? true : undefined), 500);
    }
  });

  // Last here: the worker's login gate then answers every login of that user from memory for the interval.
  test('bad input, a wrong password: one clear error, nothing left behind', () =>
    failsAlone('osbadpw', { compute: { openstack: { credentialRef: 'oswrong' } } }, /Keystone at .* refused credential "oswrong" \(HTTP 401/, 'BadCredentials'));
});

describe('OpenStack failures in the middle of a scale-out', () => {
  const QUEUE = 'test-openstack-chaos';
  const spawned = new Set<ChildProcess>();
  let client: Client;
  let conn: Connection;

  beforeAll(async () => {
    conn = await Connection.connect({ address: lab().temporalAddress });
    client = new Client({ connection: conn });
    process.env.POOLPILOT_TASK_QUEUE = QUEUE;
  });
  afterAll(async () => {
    for (const p of spawned) p.kill('SIGKILL');
    await conn?.close();
  });

  const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

  test('the worker SIGKILLed while servers build: another worker completes the run, no orphan server, no stray member', async () => {
    const s = spec('oskill', { max: 4 });
    const first = spawnWorkerProcess(QUEUE, 'openstack-worker-1', spawned);
    const run = await startScaleOut(client, s, 3, 250);
    // Killed once Nova has the run's servers but before they all serve.
    await eventually('servers in Nova', 90_000, () => (marked('oskill-').length >= 1 ? true : undefined), 200);
    first.kill('SIGKILL');
    await eventually('the worker gone', 10_000, () => (!alive(first) ? true : undefined));
    spawnWorkerProcess(QUEUE, 'openstack-worker-2', spawned);
    const out: ScaleOutResult = await run.result();
    expect(out.failed).toEqual([]);
    const names = ['oskill-250-1', 'oskill-250-2', 'oskill-250-3'];
    expect(marked('oskill-').map((x) => x.name)).toEqual(names);
    expect(poolMembers('oskill-').map((m) => m.name)).toEqual(names);
    await (await startScaleIn(client, s, { count: 3 }, 251)).result();
    expect(marked('oskill-')).toEqual([]);
    expect(poolMembers('oskill-')).toEqual([]);
  });

  test('nova-api frozen (SIGSTOP) for 60 s mid scale-out: the run waits it out and completes, no orphan, no stray member', async () => {
    if (![...spawned].some(alive)) spawnWorkerProcess(QUEUE, 'openstack-worker-3', spawned);
    const s = spec('osfrz', { max: 4 });
    const { state } = openstackLab();
    const novaApi = state.pids['nova-api']!;
    const run = await startScaleOut(client, s, 2, 260);
    await eventually('a server in Nova', 90_000, () => (marked('osfrz-').length >= 1 ? true : undefined), 200);
    // The whole group: nova-api's eventlet worker answers the API, its parent only watches it.
    process.kill(-novaApi, 'SIGSTOP');
    const frozenAt = Date.now();
    try {
      // Meanwhile the run cannot finish: it waits on Nova.
      await new Promise((r) => setTimeout(r, 60_000));
      const desc = await run.describe();
      expect(desc.status.name).toBe('RUNNING');
    } finally {
      process.kill(-novaApi, 'SIGCONT');
    }
    const out: ScaleOutResult = await run.result();
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(60_000);
    expect(out.failed).toEqual([]);
    const names = ['osfrz-260-1', 'osfrz-260-2'];
    expect(marked('osfrz-').map((x) => x.name)).toEqual(names);
    expect(poolMembers('osfrz-').map((m) => m.name)).toEqual(names);
    await (await startScaleIn(client, s, { count: 2 }, 261)).result();
    expect(marked('osfrz-')).toEqual([]);
    expect(poolMembers('osfrz-')).toEqual([]);
  });
});
