// Placement on the lab's vcsim (two clusters of two hosts, three datastores), read back through govc: members spread
// across hosts or datastores, each clone names its host, datastore and pool; a bad or unsatisfiable placement is one
// clear message and leaves nothing behind.
import { failureMessage, startScaleIn, startScaleOut } from '../../src/client/operations';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import { govc, lab, specFor, startWorker, vsphereVms, type TestWorker } from './harness';

let w: TestWorker;
beforeAll(async () => {
  w = await startWorker('test-placement');
});
afterAll(async () => {
  await w?.stop();
});

const C0 = '/DC0/host/DC0_C0';
/** Where a VM runs and lives, by name, per govc. */
function whereIs(vm: string): { host: string; datastore: string } {
  const path = `${lab().folder}/${vm}`;
  const hostRef = govc('object.collect', '-s', path, 'runtime.host').trim();
  const host = govc('object.collect', '-s', hostRef, 'name').trim();
  const dsRef = govc('object.collect', '-s', path, 'datastore').trim();
  const datastore = govc('object.collect', '-s', dsRef, 'name').trim();
  return { host, datastore };
}

test('spread hosts: 4 members land 2 and 2 on the two hosts of the cluster, on the roomiest datastore', async () => {
  const spec = specFor('plh', { vsphere: { placement: { cluster: C0 } } });
  const out: ScaleOutResult = await (await startScaleOut(w.client, spec, 4, 1)).result();
  expect(out.failed).toEqual([]);
  const names = vsphereVms('plh-');
  expect(names).toHaveLength(4);
  const where = names.map(whereIs);
  const perHost = where.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x.host]: (acc[x.host] ?? 0) + 1 }), {});
  expect(perHost).toEqual({ DC0_C0_H0: 2, DC0_C0_H1: 2 });
  // vcsim reports the same free space for every datastore: the tie goes by name.
  expect(new Set(where.map((x) => x.datastore))).toEqual(new Set(['LocalDS_0']));
  await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 4 }, 2)).result();
  expect(vsphereVms('plh-')).toEqual([]);
});

test('spread datastores over a listed set: 3 members, one on each', async () => {
  const spec = specFor('pld', { vsphere: { placement: { hosts: [`${C0}/DC0_C0_H1`], datastores: ['/DC0/datastore/LocalDS_0', '/DC0/datastore/LocalDS_1', '/DC0/datastore/LocalDS_2'], spread: 'datastores' } } });
  const out: ScaleOutResult = await (await startScaleOut(w.client, spec, 3, 1)).result();
  expect(out.failed).toEqual([]);
  const where = vsphereVms('pld-').map(whereIs);
  expect(where.map((x) => x.host)).toEqual(['DC0_C0_H1', 'DC0_C0_H1', 'DC0_C0_H1']);
  expect(where.map((x) => x.datastore).sort()).toEqual(['LocalDS_0', 'LocalDS_1', 'LocalDS_2']);
  await (await startScaleIn(w.client, { ...spec, min: 0 }, { count: 3 }, 2)).result();
  expect(vsphereVms('pld-')).toEqual([]);
});

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['a host outside the cluster', { hosts: ['/DC0/host/DC0_C1/DC0_C1_H0'] }, /vsphere.placement.hosts "\/DC0\/host\/DC0_C1\/DC0_C1_H0": host DC0_C1_H0 is not in the cluster of vsphere.resourcePool "\/DC0\/host\/DC0_C0\/Resources"/],
  ['a host that does not exist', { hosts: [`${C0}/no-such-host`] }, /vsphere.placement.hosts "\/DC0\/host\/DC0_C0\/no-such-host" was not found in vSphere/],
  ['a datastore where a host belongs', { datastores: [`${C0}/DC0_C0_H0`] }, /vsphere.placement.datastores "\/DC0\/host\/DC0_C0\/DC0_C0_H0" is a HostSystem, not a Datastore/],
  ['every datastore below the floor', { minFreeSpace: '64TiB' }, /VM plb\d-1-1 cannot be placed under vsphere.placement: no datastore can take a new VM: LocalDS_0 10240.0 GiB free, below minFreeSpace 65536.0 GiB; /],
];
test.each(bad.map((b, i) => [...b, i] as const))('bad placement, %s: one clear message, nothing left behind', async (_what, placement, message, i) => {
  const spec = specFor(`plb${i}`, { vsphere: { placement } });
  const run = await startScaleOut(w.client, spec, 1, 1);
  const err = await run.result().catch((e: unknown) => e);
  expect(failureMessage(err)).toMatch(message);
  // Permanent: the clone failed on its first attempt, non-retryable (read from the run's history, not from a clock).
  const events = (await run.fetchHistory()).events ?? [];
  const clone = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'cloneVm')!;
  const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(clone.eventId))!;
  expect(started.activityTaskStartedEventAttributes!.attempt).toBe(1);
  const failed = events.find((e) => String(e.activityTaskFailedEventAttributes?.scheduledEventId) === String(clone.eventId))!;
  expect(failed.activityTaskFailedEventAttributes!.failure!.applicationFailureInfo!.nonRetryable).toBe(true);
  expect(vsphereVms(`plb${i}-`)).toEqual([]);
});
