// Placement: where the next clone goes, table-tested on facts as vSphere gives them.
import { choosePlacement, type DatastoreFacts, type HostFacts, type PlacementLoad, type PlacementRule } from '../../src/policy/placement';

const GIB = 1024 ** 3;
const host = (name: string, datastores: string[], over: Partial<HostFacts> = {}): HostFacts => ({ id: name, name, connected: true, inMaintenance: false, datastores, ...over });
const ds = (name: string, freeGiB: number, over: Partial<DatastoreFacts> = {}): DatastoreFacts => ({ id: name, name, accessible: true, freeSpace: freeGiB * GIB, ...over });
const H = [host('H0', ['A', 'B', 'C']), host('H1', ['A', 'B', 'C'])];
const D = [ds('A', 100), ds('B', 300), ds('C', 200)];
const hostsRule: PlacementRule = { spread: 'hosts', minFreeSpace: 0 };
const load = (hosts: Record<string, number> = {}, datastores: Record<string, number> = {}): PlacementLoad => ({ hosts, datastores });

const cases: [string, HostFacts[], DatastoreFacts[], PlacementLoad, PlacementRule, string][] = [
  ['empty cluster: the first host by name, the roomiest datastore', H, D, load(), hostsRule, 'H0/B'],
  ['the host with fewer members', H, D, load({ H0: 2, H1: 1 }), hostsRule, 'H1/B'],
  ['a host in maintenance mode is passed over', [host('H0', ['A'], { inMaintenance: true }), host('H1', ['A'])], D, load({ H1: 5 }), hostsRule, 'H1/A'],
  ['a disconnected host is passed over', [host('H0', ['A'], { connected: false }), host('H1', ['A'])], D, load({ H1: 5 }), hostsRule, 'H1/A'],
  ['a datastore below the floor is passed over', H, D, load(), { spread: 'hosts', minFreeSpace: 250 * GIB }, 'H0/B'],
  ['an inaccessible datastore is passed over', H, [ds('A', 100), ds('B', 300, { accessible: false })], load(), hostsRule, 'H0/A'],
  ['only datastores the host mounts', [host('H0', ['A']), host('H1', ['B'])], D, load({ H1: 1 }), hostsRule, 'H0/A'],
  ['the least loaded host mounts nothing usable: the next host', [host('H0', ['A']), host('H1', ['B'])], D, load({ H1: 1 }), { spread: 'hosts', minFreeSpace: 150 * GIB }, 'H1/B'],
  ['spread datastores: the datastore with the fewest members', H, D, load({}, { A: 0, B: 2, C: 1 }), { spread: 'datastores', minFreeSpace: 0 }, 'H0/A'],
  ['spread datastores, a tie: the roomiest, then the host with fewest members', H, D, load({ H0: 3, H1: 1 }, { A: 1, B: 1, C: 1 }), { spread: 'datastores', minFreeSpace: 0 }, 'H1/B'],
  ['no host usable: refused, each named', [host('H0', ['A'], { inMaintenance: true }), host('H1', ['A'], { connected: false })], D, load(), hostsRule, 'refused: no host can take a new VM: H0 in maintenance mode; H1 not connected'],
  ['no datastore above the floor: refused, each with its free space', H, [ds('A', 10), ds('B', 12.5)], load(), { spread: 'hosts', minFreeSpace: 20 * GIB }, 'refused: no datastore can take a new VM: A 10.0 GiB free, below minFreeSpace 20.0 GiB; B 12.5 GiB free, below minFreeSpace 20.0 GiB'],
  ['no usable host mounts a usable datastore', [host('H0', ['A'])], [ds('A', 1), ds('B', 300)], load(), { spread: 'hosts', minFreeSpace: 2 * GIB }, 'refused: no usable host mounts a usable datastore (hosts H0; datastores B)'],
];

test.each(cases)('%s', (_name, hosts, datastores, l, rule, want) => {
  const got = choosePlacement(hosts, datastores, l, rule);
  expect('refused' in got ? `refused: ${got.refused}` : `${got.host.name}/${got.datastore.name}`).toBe(want);
});

test('four clones one after another, each counted as it is placed: 2 and 2 on two hosts', () => {
  const l = load();
  const placed = [1, 2, 3, 4].map(() => {
    const got = choosePlacement(H, D, l, hostsRule);
    if ('refused' in got) throw new Error(got.refused);
    l.hosts[got.host.id] = (l.hosts[got.host.id] ?? 0) + 1;
    return got.host.name;
  });
  expect(placed).toEqual(['H0', 'H1', 'H0', 'H1']);
});
