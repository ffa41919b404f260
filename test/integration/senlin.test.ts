// poolpilot import senlin against the test lab's real Senlin 14: a cluster built by the test with openstacksdk (a
// Nova server profile, two scaling policies, deletion, load-balancing and health policies, a webhook receiver), read
// through Senlin's API by the CLI. Senlin, Nova and Octavia are checked through their own APIs (test/openstack/*.py),
// never through poolpilot.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/index';
import { applyCluster, clusterStatus, sendRequest, waitIdle } from '../../src/client/clusters';
import { parseClusterSpecText } from '../../src/config/load';
import { PROJECT_ROOT } from '../../src/config/settings';
import { OPENSTACK_LAB_NAMES } from '../../src/lab/openstack';
import { endCluster, eventually, novaServers, octaviaMembers, openstackLab, startWorker, TEST_LAB, type TestWorker } from './harness';

const CLUSTER = 'snl';
const POOL = OPENSTACK_LAB_NAMES.loadBalancers[0].pool;
const dir = mkdtempSync(path.join(tmpdir(), 'pp-senlin-'));
let w: TestWorker;

interface SenlinShow {
  status: string;
  desired: number;
  min: number;
  nodes: { name: string; status: string; server: string }[];
  policies: string[];
}
/** Senlin through openstacksdk as the project's user (Senlin's objects are the project's). */
function senlin<T>(...args: string[]): T {
  const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'test', 'openstack', 'senlin.py'), ...args], { input: JSON.stringify(openstackLab().user), encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** The CLI in this process, as a user runs it against the test lab; its exit code and what it wrote to stderr. */
async function cli(args: string[]): Promise<{ code: number; said: string }> {
  const said: string[] = [];
  const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void said.push(a.join(' ')));
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(['--lab-dir', TEST_LAB.dataDir!, ...args]), said: said.join('\n') };
  } finally {
    err.mockRestore();
    write.mockRestore();
  }
}

beforeAll(async () => {
  w = await startWorker('test-senlin');
  senlin('build', CLUSTER, '2', POOL, '8080');
}, 300_000);
afterAll(async () => {
  if (w) await endCluster(w.client, CLUSTER).catch((err: unknown) => console.warn(`[senlin] ending cluster ${CLUSTER}: ${String(err)}`));
  await eventually('the servers gone', 120_000, () => (novaServers(`${CLUSTER}-`).length === 0 ? true : undefined)).catch(() => undefined);
  await w?.stop();
  try {
    senlin('delete', CLUSTER);
  } catch {
    /* reported by the tests */
  }
}, 300_000);

test('import reads the real cluster (profile, four policy types, receiver) and changes nothing in Senlin', async () => {
  const before = senlin<SenlinShow>('show', CLUSTER);
  expect(before).toMatchObject({ status: 'ACTIVE', desired: 2, min: 1, policies: ['snl-del', 'snl-health', 'snl-in', 'snl-lb', 'snl-out'] });
  const file = path.join(dir, 'snl.yaml');
  const r = await cli(['import', 'senlin', CLUSTER, '-o', file]);
  expect(r.code).toBe(0);
  const { spec } = parseClusterSpecText(readFileSync(file, 'utf8'), 'imported');
  const poolId = senlin<string>('pool', POOL);
  expect(spec).toMatchObject({
    name: CLUSTER,
    compute: { openstack: { image: 'tiny', flavor: 'm1.tiny', networks: ['private'], credentialRef: OPENSTACK_LAB_NAMES.credentialRef, projectName: OPENSTACK_LAB_NAMES.project } },
    loadBalancer: { octavia: { pool: poolId, subnet: 'private-subnet' }, memberPort: 8080 },
    min: 1,
    max: 5,
    initial: 2,
    deletionPolicy: 'OLDEST_FIRST',
    drainGracePeriod: 20_000,
    health: { replace: true, gracePeriod: 60_000 },
    autoscaling: { scaleOutCooldown: 120_000, scaleInCooldown: 300_000 },
  });
  expect(r.said).toMatch(/^receiver: snl-out \(CLUSTER_SCALE_OUT\): POST \/v1\/webhooks\/snl\/trigger\?V=2&action=CLUSTER_SCALE_OUT&count=2 /m);
  expect(r.said.split('\n').filter((l) => l.startsWith('not mapped: '))).toHaveLength(5);
  expect(senlin<SenlinShow>('show', CLUSTER)).toEqual(before);
});

test('an unknown Senlin cluster: one line, exit 2, nothing written', async () => {
  const file = path.join(dir, 'none.yaml');
  const r = await cli(['import', 'senlin', 'no-such-cluster', '-o', file]);
  expect(r.code).toBe(2);
  expect(r.said).toMatch(/^poolpilot: Senlin has no cluster "no-such-cluster" in this project/);
  expect(r.said.split('\n')).toHaveLength(1);
  expect(existsSync(file)).toBe(false);
});

test('--adopt: the same servers become members, in the pool under their names; the applied spec scales them', async () => {
  const before = senlin<SenlinShow>('show', CLUSTER);
  const ids = before.nodes.map((n) => n.server).sort();
  expect(ids).toHaveLength(2);
  const file = path.join(dir, 'snl-adopted.yaml');
  const r = await cli(['import', 'senlin', CLUSTER, '--adopt', '-o', file]);
  expect(r.code).toBe(0);
  expect(r.said).toMatch(/^adopt: 2 node\(s\) left Senlin cluster snl; their servers are kept$/m);

  // Senlin: every policy detached (a deletion policy would have destroyed the servers), no node left in the cluster.
  expect(senlin<SenlinShow>('show', CLUSTER)).toMatchObject({ desired: 0, min: 0, nodes: [], policies: [] });
  // Nova: the same servers, marked and renamed; Octavia: each in the pool under its member name at its address.
  const servers = novaServers(`${CLUSTER}-`);
  expect(servers.map((s) => s.id).sort()).toEqual(ids);
  expect(servers.map((s) => s.name).sort()).toEqual(['snl-0-1', 'snl-0-2']);
  expect(servers.every((s) => s.metadata['poolpilot-cluster'] === CLUSTER && s.status === 'ACTIVE')).toBe(true);
  const members = octaviaMembers(POOL).filter((m) => m.name.startsWith(`${CLUSTER}-`));
  expect(members.map((m) => [m.name, m.address, m.port]).sort()).toEqual(servers.map((s) => [s.name, s.addresses[OPENSTACK_LAB_NAMES.network]![0], 8080]).sort());
  // Senlin's own members of those servers are gone: one member per address.
  expect(octaviaMembers(POOL).filter((m) => members.some((x) => x.address === m.address))).toHaveLength(2);

  // Applied as written: the autoscaler adopts the two, and the receiver's action (out by 2) scales them to 4.
  const { spec } = parseClusterSpecText(readFileSync(file, 'utf8'), 'imported');
  await applyCluster(w.client, spec);
  const adopted = await eventually('the autoscaler adopting them', 120_000, async () => {
    const st = await waitIdle(w.client, CLUSTER);
    return st.decisions.some((d) => d.code === 'Adopted') ? st : undefined;
  });
  expect(adopted.current).toBe(2);
  expect(adopted.decisions.find((d) => d.code === 'Adopted')!.reason).toMatch(/^adopted 2 member\(s\) of cluster snl; initial capacity 2 within \[1, 5\] → 2$/);
  const res = await sendRequest(w.client, CLUSTER, 'scale-out', 2, 'webhook:CLUSTER_SCALE_OUT', 'alarm');
  expect(res.accepted).toBe(true);
  await eventually('four members', 240_000, async () => {
    const st = await clusterStatus(w.client, CLUSTER);
    return st.current === 4 && !st.currentOperation ? st : undefined;
  });
  const after = novaServers(`${CLUSTER}-`);
  expect(after).toHaveLength(4);
  expect(ids.every((id) => after.some((s) => s.id === id))).toBe(true);
  expect(octaviaMembers(POOL).filter((m) => m.name.startsWith(`${CLUSTER}-`))).toHaveLength(4);

  // Adopting again into a cluster that has servers is refused before anything is touched (the Senlin cluster has no
  // policy left, so the pool and port are given).
  const again = await cli(['import', 'senlin', CLUSTER, '--adopt', '--pool', POOL, '--member-port', '8080', '-o', path.join(dir, 'again.yaml')]);
  expect(again.code).toBe(2);
  expect(again.said).toMatch(/^poolpilot: cluster snl already has 4 server\(s\) in Nova \(.*\): adopt into a cluster of another name \(--name\)$/);
  expect(existsSync(path.join(dir, 'again.yaml'))).toBe(false);
  expect(novaServers(`${CLUSTER}-`)).toHaveLength(4);
}, 600_000);
