// Guest customization on the lab's vcsim, observed through govc and HAProxy's socket: each clone is customized with
// CustomizeVM_Task before its first power-on (hostname from the pattern, a static address from the pool); addresses
// are held by the VM's poolpilot.ip mark, never shared, freed when the VM is destroyed, and kept across a worker
// killed mid scale-out. An exhausted pool and a stored spec that does not exist are one clear message, nothing made.
import type { ChildProcess } from 'node:child_process';
import { VimClient } from '../../src/activities/compute/vim';
import { VsphereCompute } from '../../src/activities/compute/vsphere';
import { failureMessage, startScaleIn, startScaleOut } from '../../src/client/operations';
import { vsphereSchema } from '../../src/config/spec';
import { LAB_INVENTORY } from '../../src/lab/state';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import { eventually, govc, govcFields, govcPowerState, haproxy, lab, specFor, spawnWorkerProcess, startWorker, vsphereVms, type TestWorker } from './harness';

// Loopback, outside the test lab's guest subnet (127.0.13.x): the guest simulator serves on what the VM was given.
const POOL = { range: '127.0.19.10-127.0.19.12', prefix: 24, gateway: '127.0.19.1', dns: ['127.0.19.2'] };
const IN_POOL = ['127.0.19.10', '127.0.19.11', '127.0.19.12'];
const customization = { hostnamePattern: '{name}-g', domain: 'lab.example', ipPool: POOL };
let w: TestWorker;
const spawned = new Set<ChildProcess>();

beforeAll(async () => {
  w = await startWorker('test-customization');
});
afterAll(async () => {
  for (const p of spawned) p.kill('SIGKILL');
  for (const name of vsphereVms('cz')) govc('vm.destroy', `${lab().folder}/${name}`);
  await w?.stop();
});

/** What vSphere reports of a VM's guest after customization: its address and hostname, and its ip mark. */
function guestOf(name: string): { ip: string; host: string; mark: string | undefined } {
  const path = `${lab().folder}/${name}`;
  const [ip, host] = govc('object.collect', '-s', path, 'guest.ipAddress', 'guest.hostName').trim().split('\n');
  return { ip: ip ?? '', host: host ?? '', mark: govcFields(name)['poolpilot.ip'] };
}

/** The address HAProxy's backend has for each server named with `prefix`, from its socket. */
function backendAddresses(prefix: string): Record<string, string> {
  const rows = haproxy(`show servers state ${lab().haproxyBackend}`)
    .split('\n')
    .filter((l) => /^\d+ /.test(l))
    .map((l) => l.split(' '));
  return Object.fromEntries(rows.filter((c) => (c[3] ?? '').startsWith(prefix)).map((c) => [c[3]!, c[4]!]));
}

test('three members from a pool of three: each customized before power-on with its own address and hostname; a fourth is refused, nothing made; a destroyed member frees its address', async () => {
  const spec = specFor('czp', { vsphere: { customization } });
  const out: ScaleOutResult = await (await startScaleOut(w.client, spec, 3, 1)).result();
  expect(out.failed).toEqual([]);
  const names = vsphereVms('czp-');
  expect(names).toEqual(['czp-1-1', 'czp-1-2', 'czp-1-3']);
  const guests = names.map(guestOf);
  // Each VM's guest took the address its mark holds, all different, all from the pool; the hostname from the pattern.
  expect(guests.map((g) => g.ip).sort()).toEqual(IN_POOL);
  for (const [i, g] of guests.entries()) {
    expect(g.mark).toBe(g.ip);
    expect(g.host).toBe(`${names[i]}-g`);
  }
  // vCenter's events: the customization started and succeeded for each (posted at power-on, after CustomizeVM_Task).
  for (const name of names) expect(govc('events', `${lab().folder}/${name}`)).toMatch(/Customization of VM .* succeeded/);
  // The balancer serves them at those addresses.
  expect(backendAddresses('czp-')).toEqual(Object.fromEntries(names.map((n, i) => [n, guests[i]!.ip])));

  // The pool is exhausted: the fourth clone is refused on its first attempt, and no VM is made.
  const fourth = await startScaleOut(w.client, spec, 1, 2);
  const err = await fourth.result().catch((e: unknown) => e);
  expect(failureMessage(err)).toMatch(/VM czp-2-1 needs an address, and vsphere.customization.ipPool.range 127.0.19.10-127.0.19.12 has none free: all 3 are held/);
  const events = (await fourth.fetchHistory()).events ?? [];
  const failed = events.find((e) => e.activityTaskFailedEventAttributes)!;
  expect(failed.activityTaskFailedEventAttributes!.failure!.applicationFailureInfo).toMatchObject({ type: 'AddressPoolExhausted', nonRetryable: true });
  expect(vsphereVms('czp-')).toEqual(names);

  // A scale-in destroys one member: its address is free again, and the next member takes it.
  const removed = (await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 1 }, 3)).result()).removed.map((r: { name: string }) => r.name);
  expect(removed).toHaveLength(1);
  const freed = guests[names.indexOf(removed[0]!)]!.ip;
  const next: ScaleOutResult = await (await startScaleOut(w.client, spec, 1, 4)).result();
  expect(next.failed).toEqual([]);
  expect(guestOf('czp-4-1')).toEqual({ ip: freed, host: 'czp-4-1-g', mark: freed });

  await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 3 }, 5)).result();
  expect(vsphereVms('czp-')).toEqual([]);
});

test('a worker killed in the middle of a customized scale-out: the next finishes it, and no two members share an address', async () => {
  const taskQueue = 'test-customization-crash';
  const spec = specFor('czk', { provisioningConcurrency: 3, vsphere: { customization } });
  process.env.POOLPILOT_TASK_QUEUE = taskQueue;
  const handle = await startScaleOut(w.client, spec, 3, 10);
  process.env.POOLPILOT_TASK_QUEUE = w.taskQueue;
  let worker = spawnWorkerProcess(taskQueue, 'customization-crash-worker', spawned);
  try {
    // Killed once a clone exists: mid clone, mark, customization or boot.
    await eventually('a clone of czk', 60_000, () => vsphereVms('czk-').length > 0 || undefined, 100);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = spawnWorkerProcess(taskQueue, 'customization-crash-worker', spawned);
    const result: ScaleOutResult = await handle.result();
    expect(result.failed).toEqual([]);
  } finally {
    worker.kill('SIGTERM');
  }
  const names = vsphereVms('czk-');
  expect(names).toEqual(['czk-10-1', 'czk-10-2', 'czk-10-3']);
  const guests = names.map(guestOf);
  expect(guests.map((g) => g.ip).sort()).toEqual(IN_POOL);
  expect(guests.map((g) => g.mark).sort()).toEqual(IN_POOL);
  await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 3 }, 11)).result();
  expect(vsphereVms('czk-')).toEqual([]);
});

test('a clone left powered off by a dead worker is customized with the address it holds before it starts (or powered on, if its customization is pending)', async () => {
  const e = lab();
  const name = 'czr-20-1';
  // What the dead worker left: the clone, marked with the cluster and its address, powered off, never customized.
  govc('vm.clone', '-vm', LAB_INVENTORY.template, '-folder', e.folder, '-pool', LAB_INVENTORY.resourcePool, '-ds', LAB_INVENTORY.datastore, '-on=false', name);
  const path = `${e.folder}/${name}`;
  govc('fields.set', '-add', 'poolpilot.ip', '127.0.19.11', path);
  govc('fields.set', '-add', 'poolpilot.cluster', 'czr', path);
  const client = new VimClient({ url: e.vsphereUrl, username: e.vsphereUsername, password: e.vspherePassword, insecure: true });
  const spec = vsphereSchema.parse({ url: e.vsphereUrl, credentialRef: 'lab', insecure: true, datacenter: 'DC0', template: LAB_INVENTORY.template, folder: e.folder, resourcePool: LAB_INVENTORY.resourcePool, network: LAB_INVENTORY.network, customization });
  const c = new VsphereCompute(client, spec, 'czr');
  try {
    const vm = await c.cloneVm(name);
    expect(vm.adopted).toBe(true);
    expect(govcPowerState(name)).toBe('poweredOn');
    expect(guestOf(name)).toEqual({ ip: '127.0.19.11', host: 'czr-20-1-g', mark: '127.0.19.11' });
    // A second clone of the cluster takes the lowest address this one does not hold.
    await c.cloneVm('czr-20-2');
    expect(guestOf('czr-20-2')).toMatchObject({ ip: '127.0.19.10', mark: '127.0.19.10' });
    // Killed after CustomizeVM_Task, before the power-on: vSphere refuses a second customization (CustomizationPending);
    // the one pending is the VM's own, so the retry powers it on.
    const pending = 'czr-21-1';
    govc('vm.clone', '-vm', LAB_INVENTORY.template, '-folder', e.folder, '-pool', LAB_INVENTORY.resourcePool, '-ds', LAB_INVENTORY.datastore, '-on=false', pending);
    govc('fields.set', '-add', 'poolpilot.ip', '127.0.19.12', `${e.folder}/${pending}`);
    govc('fields.set', '-add', 'poolpilot.cluster', 'czr', `${e.folder}/${pending}`);
    govc('vm.customize', '-vm', `${e.folder}/${pending}`, '-ip', '127.0.19.12', '-netmask', '255.255.255.0', '-name', `${pending}-g`);
    expect((await c.cloneVm(pending)).adopted).toBe(true);
    expect(guestOf(pending)).toEqual({ ip: '127.0.19.12', host: `${pending}-g`, mark: '127.0.19.12' });
    expect(await c.destroyVm(pending)).toBe(true);
    expect(await c.destroyVm(name)).toBe(true);
    expect(await c.destroyVm('czr-20-2')).toBe(true);
  } finally {
    await client.logout();
    client.close();
  }
});

test('a stored customization spec that does not exist: one clear message, nothing made', async () => {
  const spec = specFor('czs', { vsphere: { customization: { spec: 'no-such-spec' } } });
  const run = await startScaleOut(w.client, spec, 1, 1);
  expect(failureMessage(await run.result().catch((e: unknown) => e))).toMatch(/vsphere.customization.spec "no-such-spec" was not found in vSphere/);
  expect(vsphereVms('czs-')).toEqual([]);
});

test("a stored spec that exists (vcsim's vcsim-linux: DHCP) is applied with CustomizeVM_Task before power-on", async () => {
  const spec = specFor('czv', { vsphere: { customization: { spec: 'vcsim-linux' } } });
  const out: ScaleOutResult = await (await startScaleOut(w.client, spec, 1, 1)).result();
  expect(out.failed).toEqual([]);
  expect(govc('events', `${lab().folder}/czv-1-1`)).toMatch(/Customization of VM czv-1-1 succeeded/);
  await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 1 }, 2)).result();
  expect(vsphereVms('czv-')).toEqual([]);
});
