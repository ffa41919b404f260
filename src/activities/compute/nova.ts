// The OpenStack adapter of the compute port: Nova servers from a Glance image and a flavor on Neutron networks,
// through the compute API at a pinned microversion. A server is this cluster's member only if its metadata says so
// (the mark): a server of the same name without it is someone else's and is never adopted, listed or destroyed.
import type { OpenstackSpec } from '../../config/spec';
import { sleepCancellable as sleep } from '../cancellation';
import { permanent } from '../errors';
import { OpenstackHttpError, type KeystoneSession } from '../keystone';
import type { ComputeProvider, PowerState, VmInfo } from './provider';

/**
 * Sent on every compute call: the API answers in this version's shapes whatever the cloud's newest is. 2.79 (Train)
 * has everything used here (server tags and the embedded flavor are not needed); Zed speaks up to 2.93.
 */
export const NOVA_MICROVERSION = '2.79';
const MICROVERSION = { 'OpenStack-API-Version': `compute ${NOVA_MICROVERSION}`, 'X-OpenStack-Nova-API-Version': NOVA_MICROVERSION };
/** The metadata key of the mark; its value is the cluster's name. */
export const MEMBER_MARK = 'poolpilot-cluster';
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const REFS_TTL_MS = 300_000;
const POLL_MS = 1000;

interface Server {
  id: string;
  name: string;
  status: string;
  created?: string;
  metadata?: Record<string, string>;
  addresses?: Record<string, { addr: string; version?: number; 'OS-EXT-IPS:type'?: string }[]>;
  fault?: { message?: string; code?: number };
  'OS-EXT-STS:task_state'?: string | null;
}

interface Refs {
  imageId: string;
  flavorId: string;
  networks: { id: string; name: string }[];
  serverGroupId?: string;
}

/** Nova's status → the port's power state. BUILD is on its way up (the guest is not), like a vSphere clone powering on. */
function powerOf(status: string): PowerState {
  switch (status) {
    case 'ACTIVE':
    case 'BUILD':
    case 'REBUILD':
    case 'REBOOT':
    case 'HARD_REBOOT':
    case 'MIGRATING':
    case 'RESIZE':
    case 'VERIFY_RESIZE':
    case 'PASSWORD':
      return 'poweredOn';
    case 'SHUTOFF':
      return 'poweredOff';
    case 'SUSPENDED':
    case 'PAUSED':
    case 'SHELVED':
    case 'SHELVED_OFFLOADED':
      return 'suspended';
    default:
      // ERROR, DELETED, SOFT_DELETED, UNKNOWN: no member can serve from it.
      return 'unknown';
  }
}

export class NovaCompute implements ComputeProvider {
  private refs: Promise<Refs> | undefined;
  private refsAt = 0;

  constructor(
    private readonly keystone: KeystoneSession,
    private readonly spec: OpenstackSpec,
    /** The cluster whose mark this adapter makes and honours. */
    private readonly cluster: string,
  ) {}

  private get memberNetwork(): string {
    return this.spec.networks[0]!;
  }

  private nova<T>(method: string, path: string, body?: unknown, accept?: number[]) {
    return this.keystone.call<T>('compute', method, path, body, { headers: MICROVERSION, accept });
  }

  /** Finds a thing by id, else by exact name; none or several by that name is a fault naming the spec's field. */
  private async byIdOrName<T extends { id: string; name: string }>(
    field: string,
    value: string,
    getById: () => Promise<T | undefined>,
    list: () => Promise<T[]>,
    fault: 'TemplateNotFound' | 'InventoryNotFound',
  ): Promise<T> {
    const direct = await getById();
    if (direct) return direct;
    const found = (await list()).filter((x) => x.name === value);
    if (found.length === 1) return found[0]!;
    throw permanent(
      found.length ? 'InvalidSpec' : fault,
      found.length
        ? `compute.openstack.${field} "${value}" names ${found.length} of them in project "${this.spec.projectName ?? '(application credential)'}": give its id`
        : `compute.openstack.${field} "${value}" was not found in OpenStack at ${this.spec.authUrl} (project "${this.spec.projectName ?? '(application credential)'}", region ${this.spec.region}); fix the cluster spec`,
    );
  }

  /** GET one thing by id; 400 and 404 (not an id, or none) are undefined. `key` unwraps {"flavor": {...}}; Glance does not wrap. */
  private async lookup<T>(type: 'compute' | 'image' | 'network', path: string, key?: string): Promise<T | undefined> {
    const r = await this.keystone.call<Record<string, T> | T>(type, 'GET', path, undefined, { headers: type === 'compute' ? MICROVERSION : undefined, accept: [400, 404] });
    if (r.status !== 200) return undefined;
    return key ? (r.body as Record<string, T>)[key] : (r.body as T);
  }

  private resolveRefs(): Promise<Refs> {
    if (this.refs && Date.now() - this.refsAt > REFS_TTL_MS) this.refs = undefined;
    if (!this.refs) {
      this.refsAt = Date.now();
      const s = this.spec;
      const uuid = (v: string) => /^[0-9a-f-]{32,36}$/i.test(v);
      this.refs = (async () => {
        const group = s.serverGroup;
        const [image, flavor, networks, serverGroup] = await Promise.all([
          this.byIdOrName<{ id: string; name: string }>(
            'image', s.image,
            async () => (uuid(s.image) ? this.lookup<{ id: string; name: string }>('image', `v2/images/${s.image}`) : undefined),
            async () => (await this.keystone.call<{ images: { id: string; name: string }[] }>('image', 'GET', `v2/images?name=${encodeURIComponent(s.image)}`)).body.images,
            'TemplateNotFound',
          ),
          this.byIdOrName<{ id: string; name: string }>(
            'flavor', s.flavor,
            () => this.lookup<{ id: string; name: string }>('compute', `flavors/${encodeURIComponent(s.flavor)}`, 'flavor'),
            async () => (await this.nova<{ flavors: { id: string; name: string }[] }>('GET', 'flavors?is_public=None')).body.flavors,
            'InventoryNotFound',
          ),
          Promise.all(
            s.networks.map((n, i) =>
              this.byIdOrName<{ id: string; name: string }>(
                `networks.${i}`, n,
                async () => (uuid(n) ? this.lookup<{ id: string; name: string }>('network', `v2.0/networks/${n}`, 'network') : undefined),
                async () => (await this.keystone.call<{ networks: { id: string; name: string }[] }>('network', 'GET', `v2.0/networks?name=${encodeURIComponent(n)}`)).body.networks,
                'InventoryNotFound',
              ),
            ),
          ),
          group
            ? this.byIdOrName<{ id: string; name: string }>(
                'serverGroup', group,
                () => this.lookup<{ id: string; name: string }>('compute', `os-server-groups/${encodeURIComponent(group)}`, 'server_group'),
                async () => (await this.nova<{ server_groups: { id: string; name: string }[] }>('GET', 'os-server-groups')).body.server_groups,
                'InventoryNotFound',
              )
            : Promise.resolve(undefined),
        ]);
        return { imageId: image.id, flavorId: flavor.id, networks, serverGroupId: serverGroup?.id };
      })();
      // A failed lookup is not kept: the cloud may be fixed.
      this.refs.catch(() => (this.refs = undefined));
    }
    return this.refs;
  }

  private toVmInfo(sv: Server, networkName: string): VmInfo {
    const ip = (sv.addresses?.[networkName] ?? []).find((a) => (a.version ?? 4) === 4 && a['OS-EXT-IPS:type'] !== 'floating' && IPV4.test(a.addr))?.addr;
    return { name: sv.name, id: sv.id, powerState: powerOf(sv.status), toolsRunning: sv.status === 'ACTIVE', ip, createdAt: sv.created, owner: this.cluster };
  }

  /** This cluster's servers whose name matches `pattern` (a Nova name filter is a regular expression), oldest first. */
  private async servers(pattern: string): Promise<Server[]> {
    const all: Server[] = [];
    let marker: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ name: pattern, limit: '500', ...(marker ? { marker } : {}) });
      const page = (await this.nova<{ servers: Server[] }>('GET', `servers/detail?${q}`)).body.servers;
      all.push(...page);
      if (page.length < 500) break;
      marker = page[page.length - 1]!.id;
    }
    return all
      .filter((sv) => sv.metadata?.[MEMBER_MARK] === this.cluster && sv.status !== 'DELETED' && sv.status !== 'SOFT_DELETED')
      .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.id.localeCompare(b.id));
  }

  /**
   * The member of that name. Two of them (a create retried while the first was still under way) are one too many:
   * the oldest is kept and the others are deleted, so a retried create never leaves a second server.
   */
  private async server(name: string): Promise<Server | undefined> {
    const found = (await this.servers(`^${escapeRegex(name)}$`)).filter((sv) => sv.name === name);
    for (const extra of found.slice(1)) await this.nova('DELETE', `servers/${extra.id}`, undefined, [404]);
    return found[0];
  }

  private async networkName(): Promise<string> {
    const refs = await this.resolveRefs();
    return refs.networks[0]?.name ?? this.memberNetwork;
  }

  async cloneVm(name: string): Promise<VmInfo & { adopted: boolean }> {
    const refs = await this.resolveRefs();
    const netName = refs.networks[0]!.name;
    let sv = await this.server(name);
    let adopted = true;
    if (!sv) {
      const s = this.spec;
      const body: Record<string, unknown> = {
        server: {
          name,
          imageRef: refs.imageId,
          flavorRef: refs.flavorId,
          networks: refs.networks.map((n) => ({ uuid: n.id })),
          metadata: { [MEMBER_MARK]: this.cluster },
          ...(s.securityGroups ? { security_groups: s.securityGroups.map((g) => ({ name: g })) } : {}),
          ...(s.keyName ? { key_name: s.keyName } : {}),
          ...(s.availabilityZone ? { availability_zone: s.availabilityZone } : {}),
          ...(s.userData ? { user_data: Buffer.from(s.userData, 'utf8').toString('base64') } : {}),
        },
        ...(refs.serverGroupId ? { 'os:scheduler_hints': { group: refs.serverGroupId } } : {}),
      };
      const r = await this.nova<{ server: { id: string } }>('POST', 'servers', body, [400, 403, 409]);
      if (r.status === 403 || r.status === 409) {
        const detail = r.detail ?? '';
        if (/quota/i.test(detail)) throw permanent('QuotaExceeded', `Nova refused server ${name}: ${detail} (project "${s.projectName ?? '(application credential)'}"); raise the quota or lower max`);
        throw new OpenstackHttpError(r.status, detail, `create server ${name}`);
      }
      if (r.status === 400) throw permanent('InvalidSpec', `Nova refused server ${name} as specified: ${r.detail}; fix compute.openstack`);
      adopted = false;
      sv = await this.server(name);
      if (!sv) throw new Error(`Nova accepted server ${name} (id ${r.body.server.id}) but does not list it`);
    }
    return { ...this.toVmInfo(sv, netName), adopted };
  }

  async waitForGuestIp(name: string, timeoutMs: number, progress?: (vm: VmInfo | undefined) => void): Promise<VmInfo & { ip: string }> {
    const deadline = Date.now() + timeoutMs;
    const netName = await this.networkName();
    for (;;) {
      const sv = await this.server(name);
      const vm = sv && this.toVmInfo(sv, netName);
      progress?.(vm);
      if (!sv || !vm) throw permanent('InventoryNotFound', `server ${name} does not exist in Nova (or lost its mark); it cannot report an IP`);
      if (sv.status === 'ERROR') {
        const fault = sv.fault?.message ?? 'no fault message';
        // Servers built at once can pass the API's quota check and fail the conductor's recheck.
        throw permanent(/quota exceeded/i.test(fault) ? 'QuotaExceeded' : 'ServerError', `server ${name} went to ERROR in Nova: ${fault}`);
      }
      if (vm.toolsRunning && vm.ip) return { ...vm, ip: vm.ip };
      if (Date.now() >= deadline) {
        const why = sv.status !== 'ACTIVE' ? `still ${sv.status}${sv['OS-EXT-STS:task_state'] ? ` (${sv['OS-EXT-STS:task_state']})` : ''}` : `ACTIVE without an IPv4 on network "${netName}"`;
        throw permanent('GuestTimeout', `server ${name}: ${why} after ${Math.round(timeoutMs / 1000)} s`);
      }
      await sleep(POLL_MS);
    }
  }

  /** os-start / os-stop, waited for; a server already in that state (409) is done, not a fault. */
  private async power(name: string, action: 'os-start' | 'os-stop'): Promise<boolean> {
    const sv = await this.server(name);
    if (!sv) {
      if (action === 'os-stop') return false;
      throw permanent('InventoryNotFound', `server ${name} does not exist in Nova`);
    }
    const want = action === 'os-start' ? 'ACTIVE' : 'SHUTOFF';
    if (sv.status === want) return false;
    // A server in ERROR cannot be stopped (409) and is not running: off is what a scale-in wants before it deletes.
    if (sv.status === 'ERROR') {
      if (action === 'os-stop') return false;
      throw permanent('ServerError', `server ${name} is in ERROR in Nova and cannot be started: ${sv.fault?.message ?? 'no fault message'}`);
    }
    const r = await this.nova('POST', `servers/${sv.id}/action`, { [action]: null }, [409]);
    for (;;) {
      const now = await this.server(name);
      if (!now) return r.status !== 409;
      if (now.status === want) return r.status !== 409;
      if (now.status === 'ERROR') throw permanent('ServerError', `server ${name} went to ERROR during ${action}: ${now.fault?.message ?? 'no fault message'}`);
      // A 409 for a server busy with another task: ask again once it has settled.
      if (r.status === 409 && !now['OS-EXT-STS:task_state']) return this.power(name, action);
      await sleep(POLL_MS);
    }
  }

  powerOnVm(name: string): Promise<boolean> {
    return this.power(name, 'os-start');
  }

  powerOffVm(name: string): Promise<boolean> {
    return this.power(name, 'os-stop');
  }

  async renameVm(from: string, to: string): Promise<'renamed' | 'done'> {
    const sv = await this.server(from);
    if (!sv) {
      if (await this.server(to)) return 'done';
      throw permanent('InventoryNotFound', `server ${from} does not exist in Nova: it cannot become ${to}`);
    }
    await this.nova('PUT', `servers/${sv.id}`, { server: { name: to } });
    return 'renamed';
  }

  /**
   * Takes a server another tool made (a Senlin node) as this cluster's member `name`: the mark first, then the name,
   * so the server is never listed under a member's name without the mark. The server itself is not touched.
   */
  async adoptServer(id: string, name: string): Promise<void> {
    await this.nova('PUT', `servers/${id}/metadata/${MEMBER_MARK}`, { meta: { [MEMBER_MARK]: this.cluster } });
    await this.nova('PUT', `servers/${id}`, { server: { name } });
  }

  /** Deletes the member and waits until Nova no longer has it; true if it was there. */
  async destroyVm(name: string): Promise<boolean> {
    const sv = await this.server(name);
    if (!sv) return false;
    await this.nova('DELETE', `servers/${sv.id}`, undefined, [404]);
    for (;;) {
      const r = await this.nova<{ server: Server }>('GET', `servers/${sv.id}`, undefined, [404]);
      if (r.status === 404 || r.body.server.status === 'DELETED') return true;
      if (r.body.server.status === 'ERROR' && !r.body.server['OS-EXT-STS:task_state']) {
        // A delete that left the server in ERROR is asked for again.
        await this.nova('DELETE', `servers/${sv.id}`, undefined, [404]);
      }
      await sleep(POLL_MS);
    }
  }

  /** Deletes the mark's metadata item: the server stays as it is, and is no longer listed, adopted or destroyed. */
  async releaseVm(name: string): Promise<boolean> {
    const sv = await this.server(name);
    if (!sv) return false;
    const r = await this.nova('DELETE', `servers/${sv.id}/metadata/${MEMBER_MARK}`, undefined, [404]);
    return r.status !== 404;
  }

  async listVms(prefix: string): Promise<VmInfo[]> {
    const netName = await this.networkName();
    return (await this.servers(`^${escapeRegex(prefix)}`))
      .filter((sv) => sv.name.startsWith(prefix))
      .map((sv) => this.toVmInfo(sv, netName))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
