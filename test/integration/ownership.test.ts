// Ownership marks on the lab's vcsim, observed through govc and HAProxy's socket: every clone carries the custom
// attributes poolpilot.cluster and poolpilot.op; a hand-made VM named like a member survives reconcile and a scale to
// zero; a member from before marks (unmarked, serving in the pool under its name) is still scaled in.
import { VimClient } from '../../src/activities/compute/vim';
import { VsphereCompute } from '../../src/activities/compute/vsphere';
import { applyCluster, clusterStatus, requestScale, setPaused, waitIdle } from '../../src/client/clusters';
import { startScaleIn, startScaleOut } from '../../src/client/operations';
import type { ScaleInResult } from '../../src/workflows/scale-in';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import { parseClusterSpec, vsphereSchema } from '../../src/config/spec';
import { LAB_INVENTORY } from '../../src/lab/state';
import { backendServers, endCluster, eventually, govc, govcFields, govcPowerState, haproxy, lab, rawSpecFor, specFor, startWorker, vsphereVms, type TestWorker } from './harness';

const CLUSTER = 'own';
const HAND_MADE = `${CLUSTER}-9-1`;
const LEGACY = `${CLUSTER}-8-1`;
let w: TestWorker;

const raw = (over: Record<string, unknown> = {}) =>
  rawSpecFor(CLUSTER, { min: 1, max: 4, metrics: [], autoscaling: { pollInterval: '1s', reconcileInterval: '1s', scaleOutCooldown: '0s', scaleInCooldown: '0s' }, ...over });
const memberNames = async () => (await clusterStatus(w.client, CLUSTER)).members.map((m) => m.name).sort();

/** A VM made by hand in the pool folder (no mark), powered on: the lab's guest simulator gives it an IP. */
function handClone(name: string): void {
  govc('vm.clone', '-vm', LAB_INVENTORY.template, '-folder', lab().folder, '-pool', LAB_INVENTORY.resourcePool, '-ds', LAB_INVENTORY.datastore, '-on=true', name);
}

function provider() {
  const e = lab();
  const client = new VimClient({ url: e.vsphereUrl, username: e.vsphereUsername, password: e.vspherePassword, insecure: true });
  const spec = vsphereSchema.parse({ url: e.vsphereUrl, credentialRef: 'lab', insecure: true, datacenter: 'DC0', template: LAB_INVENTORY.template, folder: e.folder, resourcePool: LAB_INVENTORY.resourcePool, network: LAB_INVENTORY.network });
  return { c: new VsphereCompute(client, spec, CLUSTER), client };
}

beforeAll(async () => {
  w = await startWorker('test-ownership');
});
afterAll(async () => {
  // The cluster first (its members drained and destroyed, the autoscaler ended), then what it must not touch.
  if (w) await endCluster(w.client, CLUSTER).catch((err: unknown) => console.warn(`[ownership] ending cluster ${CLUSTER}: ${String(err)}`));
  for (const name of vsphereVms(`${CLUSTER}-`)) govc('vm.destroy', `${lab().folder}/${name}`);
  await w?.stop();
});

test('clones are marked; a hand-made VM named like a member survives reconcile and a scale to zero; a member from before marks is scaled in', async () => {
  handClone(HAND_MADE);
  await applyCluster(w.client, parseClusterSpec(raw()));
  let st = await eventually('the first member', 120_000, async () => {
    const s = await waitIdle(w.client, CLUSTER, 120_000);
    return s.current === 1 ? s : undefined;
  });
  // Paused from here: the policy (no metrics: it wants min) must not scale in the second member while the test looks.
  await setPaused(w.client, CLUSTER, true);
  const [first] = st.members.map((m) => m.name) as [string];
  // The mark, read back through the vSphere API: the cluster, and the op of the run that made it.
  const op = first.split('-')[1]!;
  expect(govcFields(first)).toEqual({ 'poolpilot.cluster': CLUSTER, 'poolpilot.op': op });
  // The hand-made VM's name is never reused: op numbers continue above it.
  expect(Number(op)).toBeGreaterThan(9);
  expect(govcFields(HAND_MADE)).toEqual({});

  // A member from before marks: unmarked, serving in the pool under a member's name.
  handClone(LEGACY);
  const ip = await eventually(`an IP on ${LEGACY}`, 60_000, async () => govc('object.collect', '-s', `${lab().folder}/${LEGACY}`, 'guest.ipAddress').trim() || false);
  const backend = lab().haproxyBackend;
  haproxy(`add server ${backend}/${LEGACY} ${ip}:8080 check inter 300 rise 1 fall 2`);
  haproxy(`enable health ${backend}/${LEGACY}`);
  haproxy(`enable server ${backend}/${LEGACY}`);
  await eventually('reconcile to take the serving unmarked VM as a member, and not the other', 60_000, async () => {
    const names = await memberNames();
    return names.includes(LEGACY) ? names : undefined;
  });
  expect(await memberNames()).toEqual([first, LEGACY].sort());

  // Scale to zero: both members go, the hand-made VM stays, powered on, untouched.
  await applyCluster(w.client, parseClusterSpec(raw({ min: 0 })));
  await requestScale(w.client, CLUSTER, 'set-desired', 0, 'test');
  st = await eventually('the cluster at zero', 180_000, async () => {
    const s = await waitIdle(w.client, CLUSTER, 120_000);
    return s.current === 0 ? s : undefined;
  });
  expect(vsphereVms(`${CLUSTER}-`)).toEqual([HAND_MADE]);
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
  expect(govcPowerState(HAND_MADE)).toBe('poweredOn');
  expect(st.runs.at(-1)).toMatchObject({ kind: 'scale-in', count: 2 });
  // More turns of the loop (each reconciles: reconcileInterval 1s) pass; it is still there.
  const since = (await clusterStatus(w.client, CLUSTER)).iterations;
  await eventually('three more turns of the loop', 60_000, async () => (await clusterStatus(w.client, CLUSTER)).iterations >= since + 3);
  expect(vsphereVms(`${CLUSTER}-`)).toEqual([HAND_MADE]);

  // The provider itself refuses it, whoever asks: one clear line, and nothing changed.
  const { c, client } = provider();
  try {
    const err = (await c.destroyVm(HAND_MADE).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`VM ${HAND_MADE} in ${lab().folder} has no poolpilot.cluster mark: poolpilot will not destroy it. Rename or remove it by hand if it is in the way`);
    const adopt = (await c.cloneVm(HAND_MADE, { askedAtMs: Date.now() + 120_000 }).catch((e: unknown) => e)) as Error;
    expect(adopt.message).toMatch(/has no poolpilot.cluster mark: poolpilot will not adopt it/);
    expect(vsphereVms(`${CLUSTER}-`)).toEqual([HAND_MADE]);
    expect(govcFields(HAND_MADE)).toEqual({});
  } finally {
    await client.logout();
    client.close();
    await setPaused(w.client, CLUSTER, false);
  }
});

test("a clone left unmarked by a worker killed before it marked it is the retry's: adopted and marked", async () => {
  // What the dead worker left: the clone, made after the clone was first asked for, without the mark.
  const name = `${CLUSTER}-40-1`;
  const askedAtMs = Date.now();
  handClone(name);
  const { c, client } = provider();
  try {
    const vm = await c.cloneVm(name, { askedAtMs });
    expect(vm.adopted).toBe(true);
    expect(govcFields(name)).toEqual({ 'poolpilot.cluster': CLUSTER, 'poolpilot.op': '40' });
    expect(await c.destroyVm(name)).toBe(true);
    expect(vsphereVms(name)).toEqual([]);
  } finally {
    await client.logout();
    client.close();
  }
});

test('destroyAfterDeletion false: a scale-in keeps the VM, powered off, out of the pool and no longer marked', async () => {
  const spec = specFor('keep', { destroyAfterDeletion: false });
  const out: ScaleOutResult = await (await startScaleOut(w.client, spec, 1, 50)).result();
  expect(out.joined.map((j) => j.name)).toEqual(['keep-50-1']);
  expect(govcFields('keep-50-1')).toEqual({ 'poolpilot.cluster': 'keep', 'poolpilot.op': '50' });
  const removed: ScaleInResult = await (await startScaleIn(w.client, spec, { count: 1 }, 51)).result();
  expect(removed.removed.map((r) => r.name)).toEqual(['keep-50-1']);
  // Seen by vSphere and HAProxy: the VM is there, off, its mark cleared; the pool has no server of it.
  expect(vsphereVms('keep-')).toEqual(['keep-50-1']);
  expect(govcPowerState('keep-50-1')).toBe('poweredOff');
  expect(Object.values(govcFields('keep-50-1')).filter(Boolean)).toEqual([]);
  expect(backendServers('keep-')).toEqual([]);
  // No longer the cluster's: the next scale-in finds nothing to remove, and the VM stays.
  const again = await startScaleIn(w.client, { ...spec, destroyAfterDeletion: true }, { count: 1 }, 52);
  expect((await again.result()).removed).toEqual([]);
  expect(vsphereVms('keep-')).toEqual(['keep-50-1']);
  govc('vm.destroy', `${lab().folder}/keep-50-1`);
});
