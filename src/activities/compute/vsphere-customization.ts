// Guest customization for the vSphere adapter: a stored spec, or poolpilot's own (Linux, one NIC: a fixed hostname
// and a static address from customization.ipPool, or DHCP), applied with CustomizeVM_Task to the powered-off clone.
// Pool addresses are held by each VM's `poolpilot.ip` custom attribute, so vSphere itself says which are taken.
import { hostnameFor, prefixToNetmask, type Customization, type IpPool } from '../../config/vsphere-fields';
import { chooseAddress, poolSize } from '../../policy/address-pool';
import { permanent } from '../errors';
import { asArray, el, moref, text, VimClient, VimFault, VimTaskError, type Moref, type Node } from './vim';

/** How often a clone takes another address after finding another VM marked with its own (two workers at once). */
const ADDRESS_TRIES = 8;

export interface LinuxIdentity {
  hostname: string;
  domain: string;
  /** The address from the pool; absent: DHCP. */
  address?: string;
  pool?: IpPool;
}

/** poolpilot's own CustomizationSpec, its elements in the schema's order (vCenter reads them so). */
export function linuxCustomizationXml(id: LinuxIdentity): string {
  const ip = id.address ? `<ip xsi:type="CustomizationFixedIp">${el('ipAddress', id.address)}</ip>` : '<ip xsi:type="CustomizationDhcpIpGenerator"/>';
  const mask = id.address && id.pool ? el('subnetMask', prefixToNetmask(id.pool.prefix)) : '';
  const gateway = id.address && id.pool?.gateway ? el('gateway', id.pool.gateway) : '';
  const dns = (id.pool?.dns ?? []).map((d) => el('dnsServerList', d)).join('');
  return (
    '<options xsi:type="CustomizationLinuxOptions"/>' +
    `<identity xsi:type="CustomizationLinuxPrep"><hostName xsi:type="CustomizationFixedName">${el('name', id.hostname)}</hostName>${el('domain', id.domain)}</identity>` +
    `<globalIPSettings>${dns}</globalIPSettings>` +
    `<nicSettingMap><adapter>${ip}${mask}${gateway}${dns}</adapter></nicSettingMap>`
  );
}

/** A VM's custom attribute values by key. */
export function customValues(props: Record<string, unknown>): Map<number, string> {
  const values = asArray((props.customValue as Node | undefined)?.CustomFieldValue as Node | Node[] | undefined);
  return new Map(values.map((v) => [Number(text(v.key)), text(v.value) ?? '']));
}

/** What a clone is customized with, read before it is made; `release` once its VM is marked (or nothing was made). */
export interface Prepared {
  stored?: string;
  address?: string;
  release(): void;
}

export class VsphereCustomizer {
  /** Addresses this worker has chosen for clones not yet marked with them: no parallel clone takes them too. */
  private readonly leasing = new Set<string>();

  constructor(
    private readonly client: VimClient,
    private readonly customization: Customization,
    private readonly where: { url: string; folder: string },
    /** The VMs of the pool folder, where the pool's addresses are held. */
    private readonly folderVms: () => Promise<Moref[]>,
    /** The key of the `poolpilot.ip` attribute; made when `create`, else undefined while vCenter has none. */
    private readonly ipKey: (create: boolean) => Promise<number | undefined>,
  ) {}

  /** Everything that can refuse does so here, before the clone: a stored spec that does not exist, a pool with none free. */
  async prepare(name: string): Promise<Prepared> {
    const stored = await this.storedSpec();
    const address = this.customization.ipPool ? await this.lease(name) : undefined;
    return { stored, address, release: () => address !== undefined && this.leasing.delete(address) };
  }

  /**
   * Customizes the powered-off VM (CustomizeVM_Task: the guest applies it at its next power-on): the stored spec, or
   * the hostname and the address from the pool. A spec the VM cannot take (its NICs differ) is a permanent fault.
   */
  async apply(ref: Moref, name: string, stored: string | undefined, address: string | undefined): Promise<void> {
    const c = this.customization;
    const xml = stored ?? linuxCustomizationXml({ hostname: hostnameFor(c.hostnamePattern, name), domain: c.domain ?? 'localdomain', address, pool: c.ipPool });
    try {
      await this.client.runTask('CustomizeVM_Task', () => moref(ref) + `<spec>${xml}</spec>`);
    } catch (err) {
      if (!(err instanceof VimTaskError) && !(err instanceof VimFault)) throw err;
      // Customized already and not yet powered on: a retry after a worker died between the two. The pending spec is
      // this one (the same stored spec, or the hostname and the address the VM's mark holds).
      if (err.faultType === 'CustomizationPending') return;
      if (err.faultType === 'ManagedObjectNotFound' || err.faultType === 'NotAuthenticated') throw err;
      throw permanent('InvalidSpec', `VM ${name} would not take its guest customization (${err.faultType}: ${err.message}); check vsphere.customization against the template (one NIC for poolpilot's own spec)`);
    }
  }

  /** A powered-off VM of ours found by a retry (its worker died before power-on): its address (kept, or new), then apply. */
  async applyAdopted(ref: Moref, name: string): Promise<void> {
    const stored = await this.storedSpec();
    let address: string | undefined;
    if (this.customization.ipPool) {
      address = await this.markedAddress(ref);
      if (!address) {
        const leased = await this.lease(name);
        try {
          await this.client.setCustomField(ref, (await this.ipKey(true))!, leased);
          address = await this.settle(ref, name, leased);
        } finally {
          this.leasing.delete(leased);
        }
      }
    }
    await this.apply(ref, name, stored, address);
  }

  /** The stored customization spec's XML; one that does not exist is a permanent fault. */
  private async storedSpec(): Promise<string | undefined> {
    const named = this.customization.spec;
    if (!named) return undefined;
    const xml = await this.client.customizationSpecXml(named);
    if (xml === undefined) throw permanent('InventoryNotFound', `vsphere.customization.spec "${named}" was not found in vSphere at ${this.where.url} (Policies and Profiles, VM Customization Specifications)`);
    return xml;
  }

  /** The addresses the folder's VMs hold by their ip mark, each with the VMs (ids) that hold it. */
  private async held(): Promise<Map<string, string[]>> {
    const [refs, key] = await Promise.all([this.folderVms(), this.ipKey(false)]);
    const held = new Map<string, string[]>();
    if (key === undefined) return held;
    for (const [id, props] of await this.client.retrieve(refs, ['customValue'])) {
      const ip = customValues(props).get(key);
      if (ip) held.set(ip, [...(held.get(ip) ?? []), id]);
    }
    return held;
  }

  /**
   * A free address from the pool for `name`, not in `avoid`, counted as leased by this worker until its VM is marked
   * with it. An exhausted pool is a permanent fault: nothing has been made yet.
   */
  private async lease(name: string, avoid: ReadonlySet<string> = new Set()): Promise<string> {
    const pool = this.customization.ipPool!;
    const held = await this.held();
    const address = chooseAddress(pool, new Set([...held.keys(), ...this.leasing, ...avoid]));
    if (address === undefined) {
      throw permanent(
        'AddressPoolExhausted',
        `VM ${name} needs an address, and vsphere.customization.ipPool.range ${pool.range.text} has none free: all ${poolSize(pool)} are held by VMs in ${this.where.folder} (${held.size}) or by clones under way (${this.leasing.size}); widen the range or lower max`,
      );
    }
    this.leasing.add(address);
    return address;
  }

  /**
   * The address the marked VM `ref` keeps: `address` once no other VM is marked with it. Two workers can choose the
   * same free address at once; each marks, then looks: whoever sees another VM with its address takes another (at
   * least one of the two sees it).
   */
  async settle(ref: Moref, name: string, address: string): Promise<string> {
    const avoid = new Set<string>();
    for (let i = 0; i < ADDRESS_TRIES; i++) {
      const others = ((await this.held()).get(address) ?? []).filter((id) => id !== ref.value);
      if (others.length === 0) return address;
      avoid.add(address);
      const next = await this.lease(name, avoid);
      try {
        await this.client.setCustomField(ref, (await this.ipKey(true))!, next);
      } finally {
        // Marked (or not): either way vSphere now says who holds it, not this worker's lease.
        this.leasing.delete(next);
      }
      address = next;
    }
    throw new Error(`VM ${name}: every address it took from ${this.customization.ipPool!.range.text} was taken by another VM at once, ${ADDRESS_TRIES} times; the retry tries again`);
  }

  /** The address `ref` is marked with, if any. */
  private async markedAddress(ref: Moref): Promise<string | undefined> {
    const key = await this.ipKey(false);
    const props = await this.client.retrieveOne(ref, ['customValue']);
    return key === undefined || !props ? undefined : customValues(props).get(key) || undefined;
  }
}
