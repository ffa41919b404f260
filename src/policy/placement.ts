// Where a new member's VM goes: which host and which datastore, from what vSphere says of each (pure: the vSphere
// provider gathers the facts, this decides). Members spread across hosts, as a DRS anti-affinity rule would keep them,
// or across datastores; a datastore must keep `minFreeSpace` free; when nothing qualifies, the refusal says why.

export interface HostFacts {
  id: string;
  name: string;
  connected: boolean;
  inMaintenance: boolean;
  /** Ids of the datastores it mounts. */
  datastores: string[];
}

export interface DatastoreFacts {
  id: string;
  name: string;
  accessible: boolean;
  /** Bytes free. */
  freeSpace: number;
}

export interface PlacementRule {
  spread: 'hosts' | 'datastores';
  /** Bytes a datastore must have free to take a clone. */
  minFreeSpace: number;
}

/** The cluster's members (and clones under way) on each host and datastore, by id. */
export interface PlacementLoad {
  hosts: Record<string, number>;
  datastores: Record<string, number>;
}

export type PlacementChoice = { host: HostFacts; datastore: DatastoreFacts } | { refused: string };

const GIB = 1024 ** 3;
/** Bytes as an operator reads them: GiB with one decimal (vSphere's own unit in its client). */
export function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** Why a host cannot take a clone, or undefined. */
function hostProblem(h: HostFacts): string | undefined {
  if (!h.connected) return 'not connected';
  if (h.inMaintenance) return 'in maintenance mode';
  return undefined;
}

/** Why a datastore cannot take a clone, or undefined. */
function datastoreProblem(d: DatastoreFacts, rule: PlacementRule): string | undefined {
  if (!d.accessible) return 'not accessible';
  if (d.freeSpace < rule.minFreeSpace) return `${gib(d.freeSpace)} free, below minFreeSpace ${gib(rule.minFreeSpace)}`;
  return undefined;
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/**
 * The host and datastore for the next clone. spread hosts: the host with the fewest members, then on it the datastore
 * with the most free space; spread datastores: the datastore with the fewest members (then the most free space), then
 * the host with the fewest members that mounts it. Ties go by name, so the choice is the same on every worker.
 */
export function choosePlacement(hosts: HostFacts[], datastores: DatastoreFacts[], load: PlacementLoad, rule: PlacementRule): PlacementChoice {
  const okHosts = hosts.filter((h) => !hostProblem(h));
  if (okHosts.length === 0) {
    const why = hosts.map((h) => `${h.name} ${hostProblem(h)}`).join('; ');
    return { refused: `no host can take a new VM${why ? `: ${why}` : ' (none listed)'}` };
  }
  const okStores = datastores.filter((d) => !datastoreProblem(d, rule));
  if (okStores.length === 0) {
    const why = datastores.map((d) => `${d.name} ${datastoreProblem(d, rule)}`).join('; ');
    return { refused: `no datastore can take a new VM${why ? `: ${why}` : ' (none listed)'}` };
  }
  const hostLoad = (h: HostFacts) => load.hosts[h.id] ?? 0;
  const storeLoad = (d: DatastoreFacts) => load.datastores[d.id] ?? 0;
  const hostOrder = [...okHosts].sort((a, b) => hostLoad(a) - hostLoad(b) || byName(a, b));
  const roomiest = (a: DatastoreFacts, b: DatastoreFacts) => b.freeSpace - a.freeSpace || byName(a, b);
  if (rule.spread === 'hosts') {
    for (const host of hostOrder) {
      const datastore = okStores.filter((d) => host.datastores.includes(d.id)).sort(roomiest)[0];
      if (datastore) return { host, datastore };
    }
  } else {
    const storeOrder = [...okStores].sort((a, b) => storeLoad(a) - storeLoad(b) || roomiest(a, b));
    for (const datastore of storeOrder) {
      const host = hostOrder.find((h) => h.datastores.includes(datastore.id));
      if (host) return { host, datastore };
    }
  }
  return { refused: `no usable host mounts a usable datastore (hosts ${okHosts.map((h) => h.name).join(', ')}; datastores ${okStores.map((d) => d.name).join(', ')})` };
}
