// The vSphere adapter of the compute port: clone, power, destroy and watch VMs over vim25 SOAP. A VM is this cluster's
// only if it carries the mark, the custom attribute `poolpilot.cluster` set to the cluster's name (set right after the
// clone, with `poolpilot.op`): a VM named like a member without it is never adopted or destroyed (see docs/vsphere.md).
import { opOfName } from '../../config/names';
import type { VsphereSpec } from '../../config/spec';
import { permanent } from '../errors';
import type { CloneOptions, ComputeProvider, DestroyOptions, PowerState, VmInfo } from './provider';
import { choosePlacement, type DatastoreFacts, type HostFacts, type PlacementLoad } from '../../policy/placement';
import { customizationOf } from '../../config/vsphere-fields';
import { customValues, VsphereCustomizer } from './vsphere-customization';
import { asArray, el, moref, morefs, text, toMoref, VimClient, VimFault, VimTaskError, type Moref, type Node } from './vim';

const VM_PROPS = ['name', 'runtime.powerState', 'guest.toolsRunningStatus', 'guest.net', 'guest.ipAddress', 'config.createDate', 'customValue'];
/**
 * The custom attributes of the mark: the cluster's name, the op number of the run that made the VM, and the address
 * it holds from customization.ipPool (kept while the VM exists, released or not: its guest is configured with it).
 */
export const VSPHERE_MARKS = { cluster: 'poolpilot.cluster', op: 'poolpilot.op', ip: 'poolpilot.ip' } as const;

/**
 * A clone found unmarked is still ours if vCenter made it after this much before its clone was first asked for: the
 * mark is set just after the clone task, so a worker killed between the two leaves an unmarked clone, which the retry
 * takes and marks. The margin absorbs clock skew between the worker and vCenter.
 */
const UNMARKED_CLONE_SKEW_MS = 60_000;
interface MarkKeys {
  cluster?: number;
  op?: number;
  ip?: number;
}
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const REFS_TTL_MS = 30_000;

function guestIp(props: Record<string, unknown>, network: string): string | undefined {
  const nics = asArray((props['guest.net'] as Node | undefined)?.GuestNicInfo as Node | Node[] | undefined);
  for (const nic of nics) {
    if (text(nic.network) !== network) continue;
    const ip = asArray(nic.ipAddress as unknown).map(text).find((a) => a && IPV4.test(a));
    if (ip) return ip;
  }
  // Some guests report no per-NIC network; then the primary address is all there is.
  if (nics.every((n) => text(n.network) === undefined)) {
    const ip = text(props['guest.ipAddress']);
    if (ip && IPV4.test(ip)) return ip;
  }
  return undefined;
}

function toVmInfo(id: string, props: Record<string, unknown>, network: string, owner?: string): VmInfo {
  const power = text(props['runtime.powerState']);
  return {
    name: text(props.name) ?? id,
    id,
    powerState: power === 'poweredOn' || power === 'poweredOff' || power === 'suspended' ? (power as PowerState) : 'unknown',
    toolsRunning: text(props['guest.toolsRunningStatus']) === 'guestToolsRunning',
    ip: guestIp(props, network),
    createdAt: text(props['config.createDate']),
    ...(owner !== undefined ? { owner } : {}),
  };
}


export class VsphereCompute implements ComputeProvider {
  private refs: Promise<{ template: Moref; folder: Moref; pool: Moref }> | undefined;
  private refsAt = 0;

  private markKeys: Promise<MarkKeys> | undefined;
  /**
   * Clones this worker has placed and not yet ended placing (until marked), by VM name: counted with the members, so
   * parallel clones spread. A clone that a listing already shows as the cluster's is counted once, from the listing.
   */
  private readonly placing = new Map<string, { host: string; datastore: string }>();
  /**
   * Placements take turns, and a clone leaves `placing` only between them: a clone marked while another placement's
   * listing was on its way was otherwise counted by neither (4 parallel clones landed 3 and 1 on two hosts).
   */
  private placeTurn: Promise<unknown> = Promise.resolve();
  /** Guest customization, when the spec asks for it. */
  private readonly customizer: VsphereCustomizer | undefined;
  private markKeysAt = 0;

  constructor(
    private readonly client: VimClient,
    private readonly spec: VsphereSpec,
    /** The cluster whose mark this adapter sets and honours. */
    private readonly cluster: string,
  ) {
    const customization = customizationOf(spec);
    this.customizer = customization && new VsphereCustomizer(client, customization, spec, () => this.folderVms(), async (create) => (await this.keys(create)).ip);
  }

  /** The mark's attribute keys; made on first need when `create`, else undefined while vCenter has none. */
  private async keys(create: boolean): Promise<MarkKeys> {
    // Read again now and then, like the inventory's references: a rebuilt vCenter has other keys (or none yet).
    if (Date.now() - this.markKeysAt > REFS_TTL_MS) this.markKeys = undefined;
    const cached = await this.markKeys?.catch(() => undefined);
    // Absent keys are remembered too (every listing would read them again before the first clone); making them is not.
    const withIp = customizationOf(this.spec)?.ipPool !== undefined;
    if (cached && (!create || (cached.cluster !== undefined && cached.op !== undefined && (!withIp || cached.ip !== undefined)))) return cached;
    this.markKeysAt = Date.now();
    const p = (async () => ({
      cluster: await this.client.customFieldKey(VSPHERE_MARKS.cluster, create),
      op: await this.client.customFieldKey(VSPHERE_MARKS.op, create),
      ip: await this.client.customFieldKey(VSPHERE_MARKS.ip, create && withIp),
    }))();
    this.markKeys = p;
    return p;
  }

  /** The cluster a VM's mark names, or '' for a VM without one. */
  private ownerOf(props: Record<string, unknown>, keys: MarkKeys): string {
    return keys.cluster === undefined ? '' : (customValues(props).get(keys.cluster) ?? '');
  }

  /**
   * Marks `ref` as this cluster's, from run `op` (named in its name), holding `address` from the pool; a failure to
   * mark is a permanent fault.
   */
  private async mark(ref: Moref, name: string, address?: string): Promise<void> {
    try {
      const keys = await this.keys(true);
      // The address first: a VM marked as the cluster's always shows the address it holds.
      if (address !== undefined) await this.client.setCustomField(ref, keys.ip!, address);
      await this.client.setCustomField(ref, keys.cluster!, this.cluster);
      const op = opOfName(this.cluster, name);
      if (op !== undefined) await this.client.setCustomField(ref, keys.op!, String(op));
    } catch (err) {
      this.markKeys = undefined;
      if (err instanceof VimFault && (err.faultType === 'NoPermission' || err.faultType === 'NotSupported')) {
        throw permanent(
          'BadCredentials',
          `vSphere at ${this.spec.url} would not let poolpilot mark VM ${name} with custom attribute ${VSPHERE_MARKS.cluster} (${err.faultType}): the user needs Global.ManageCustomFields and Global.SetCustomField`,
        );
      }
      throw err;
    }
  }

  private async props(ref: Moref): Promise<Record<string, unknown> | undefined> {
    return this.client.retrieveOne(ref, VM_PROPS);
  }

  /** Login and inventory faults that no retry can mend become non-retryable failures naming what to fix. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // A vCenter rebuilt or restarted may give the folder, template or pool new references: look them up again.
      if ((err instanceof VimFault || err instanceof VimTaskError) && err.faultType === 'ManagedObjectNotFound') this.refs = undefined;
      if (err instanceof VimFault && (err.faultType === 'InvalidLogin' || err.faultType === 'NoPermission')) {
        throw permanent('BadCredentials', `vSphere at ${this.spec.url} refused credential "${this.spec.credentialRef}" (${err.faultType}) while trying to ${what}`);
      }
      throw err;
    }
  }

  private resolveRefs(): Promise<{ template: Moref; folder: Moref; pool: Moref }> {
    // Looked up again now and then: an inventory rebuilt behind our back (a restored vCenter, a restarted simulator)
    // can give a path's object a new reference, and an old reference can then name another object without any fault.
    if (this.refs && Date.now() - this.refsAt > REFS_TTL_MS) this.refs = undefined;
    if (!this.refs) {
      this.refsAt = Date.now();
      this.refs = (async () => {
        const find = async (path: string, field: string) => {
          const ref = await this.client.findByInventoryPath(path);
          if (!ref) {
            throw permanent(
              field === 'template' ? 'TemplateNotFound' : 'InventoryNotFound',
              `vsphere.${field} "${path}" was not found in vSphere at ${this.spec.url}; fix the cluster spec or the inventory`,
            );
          }
          return ref;
        };
        const [template, folder, pool] = await Promise.all([
          find(this.spec.template, 'template'),
          find(this.spec.folder, 'folder'),
          find(this.spec.resourcePool, 'resourcePool'),
        ]);
        return { template, folder, pool };
      })();
      // A failed lookup is not cached: the inventory may be fixed.
      this.refs.catch(() => (this.refs = undefined));
    }
    return this.refs;
  }

  private async vmRef(name: string): Promise<Moref | undefined> {
    const { folder } = await this.resolveRefs();
    const ref = await this.client.findChild(folder, name);
    return ref?.type === 'VirtualMachine' ? ref : undefined;
  }

  private async info(ref: Moref): Promise<VmInfo | undefined> {
    const [props, keys] = await Promise.all([this.props(ref), this.keys(false)]);
    return props ? toVmInfo(ref.value, props, this.spec.network, this.ownerOf(props, keys)) : undefined;
  }

  /** Refuses a VM that is not this cluster's: one marked for another cluster, or an unmarked one (unless allowed). */
  private notOurs(vm: VmInfo, action: string, unmarkedAllowed = false): void {
    if (vm.owner === this.cluster || (vm.owner === '' && unmarkedAllowed)) return;
    const whose = vm.owner ? `is marked for cluster "${vm.owner}"` : `has no ${VSPHERE_MARKS.cluster} mark`;
    throw permanent('NotOurs', `VM ${vm.name} in ${this.spec.folder} ${whose}: poolpilot will not ${action} it. Rename or remove it by hand if it is in the way`);
  }

  /** The template's current snapshot, for a linked clone; a template without one is a permanent fault. */
  private async currentSnapshot(template: Moref): Promise<Moref> {
    const props = await this.client.retrieveOne(template, ['snapshot']);
    const snap = toMoref((props?.snapshot as Node | undefined)?.currentSnapshot);
    if (!snap) throw permanent('TemplateNotFound', `vsphere.cloneMode linked clones from the template's current snapshot, and ${this.spec.template} has none: take one (govc snapshot.create -vm ${this.spec.template} base), or use cloneMode full`);
    return snap;
  }

  /** The VMs in the pool folder. */
  private async folderVms(): Promise<Moref[]> {
    const { folder } = await this.resolveRefs();
    const children = await this.client.retrieveOne(folder, ['childEntity']);
    return morefs(children?.childEntity).filter((r) => r.type === 'VirtualMachine');
  }

  /** Looks up placement paths, each of the type it must be; a missing or wrong one is a permanent fault naming it. */
  private async placementRefs(paths: string[], field: string, type: string): Promise<Moref[]> {
    return Promise.all(
      paths.map(async (p) => {
        const ref = await this.client.findByInventoryPath(p);
        if (!ref) throw permanent('InventoryNotFound', `vsphere.placement.${field} "${p}" was not found in vSphere at ${this.spec.url}`);
        if (ref.type !== type) throw permanent('InvalidSpec', `vsphere.placement.${field} "${p}" is a ${ref.type}, not a ${type}`);
        return ref;
      }),
    );
  }

  /**
   * The cluster (or standalone host's compute resource) resourcePool is in: the nearest ancestor of its path that is
   * one. Looked up by path because a reference read as a property value comes back without its object type.
   */
  private async poolCluster(): Promise<Moref | undefined> {
    const parts = this.spec.resourcePool.split('/');
    for (let n = parts.length - 1; n > 1; n--) {
      const ref = await this.client.findByInventoryPath(parts.slice(0, n).join('/'));
      if (ref?.type === 'ClusterComputeResource' || ref?.type === 'ComputeResource') return ref;
    }
    return undefined;
  }

  /**
   * The host and datastore for `name` under vsphere.placement (undefined without one), counted as placing until
   * `done` is called. Facts are read fresh each time: hosts enter maintenance and datastores fill.
   */
  private place(name: string): Promise<{ host: Moref; datastore: Moref; done: () => void } | undefined> {
    const p = this.spec.placement;
    if (!p) return Promise.resolve(undefined);
    const turn = this.placeTurn.then(() => this.placeNow(name, p));
    this.placeTurn = turn.catch(() => undefined);
    return turn;
  }

  private async placeNow(name: string, p: NonNullable<VsphereSpec['placement']>): Promise<{ host: Moref; datastore: Moref; done: () => void }> {
    const owner = await this.poolCluster();
    const where = p.cluster ? (await this.placementRefs([p.cluster], 'cluster', 'ClusterComputeResource'))[0]! : owner;
    const hostRefs = p.hosts ? await this.placementRefs(p.hosts, 'hosts', 'HostSystem') : where ? morefs((await this.client.retrieveOne(where, ['host']))?.host) : [];
    const hostProps = await this.client.retrieve(hostRefs, ['name', 'parent', 'runtime.connectionState', 'runtime.inMaintenanceMode', 'datastore']);
    const hosts: HostFacts[] = hostRefs.map((ref, i) => {
      const props = hostProps.get(ref.value) ?? {};
      const hostName = text(props.name) ?? ref.value;
      // A VM runs only on a host of its resource pool's cluster.
      if (owner && toMoref(props.parent)?.value !== owner.value) {
        const named = p.hosts ? `hosts "${p.hosts[i]}"` : `cluster "${p.cluster}"`;
        throw permanent('InvalidSpec', `vsphere.placement.${named}: host ${hostName} is not in the cluster of vsphere.resourcePool "${this.spec.resourcePool}"`);
      }
      return {
        id: ref.value,
        name: hostName,
        connected: text(props['runtime.connectionState']) === 'connected',
        inMaintenance: text(props['runtime.inMaintenanceMode']) === 'true',
        datastores: morefs(props.datastore).map((d) => d.value),
      };
    });
    const storeRefs = p.datastores
      ? await this.placementRefs(p.datastores, 'datastores', 'Datastore')
      : p.datastoreCluster
        ? morefs((await this.client.retrieveOne((await this.placementRefs([p.datastoreCluster], 'datastoreCluster', 'StoragePod'))[0]!, ['childEntity']))?.childEntity)
        : [...new Set(hosts.flatMap((h) => h.datastores))].map((value) => ({ type: 'Datastore', value }));
    const storeProps = await this.client.retrieve(storeRefs, ['name', 'summary.freeSpace', 'summary.accessible']);
    const datastores: DatastoreFacts[] = storeRefs.map((ref) => {
      const props = storeProps.get(ref.value) ?? {};
      return { id: ref.value, name: text(props.name) ?? ref.value, accessible: text(props['summary.accessible']) === 'true', freeSpace: Number(text(props['summary.freeSpace']) ?? 0) };
    });
    // The cluster's members where they run now, and the clones under way.
    const [vmProps, keys] = await Promise.all([this.folderVms().then((refs) => this.client.retrieve(refs, ['name', 'customValue', 'runtime.host', 'datastore'])), this.keys(false)]);
    const load: PlacementLoad = { hosts: {}, datastores: {} };
    const count = (host: string | undefined, stores: string[]) => {
      if (host) load.hosts[host] = (load.hosts[host] ?? 0) + 1;
      for (const d of stores) load.datastores[d] = (load.datastores[d] ?? 0) + 1;
    };
    const listed = new Set<string>();
    for (const props of vmProps.values()) {
      if (this.ownerOf(props, keys) !== this.cluster) continue;
      listed.add(text(props.name) ?? '');
      count(toMoref(props['runtime.host'])?.value, morefs(props.datastore).map((d) => d.value));
    }
    for (const [vm, at] of this.placing) if (!listed.has(vm)) count(at.host, [at.datastore]);
    const choice = choosePlacement(hosts, datastores, load, { spread: p.spread, minFreeSpace: p.minFreeSpace });
    if ('refused' in choice) throw permanent('NoPlacement', `VM ${name} cannot be placed under vsphere.placement: ${choice.refused}`);
    this.placing.set(name, { host: choice.host.id, datastore: choice.datastore.id });
    const done = () => {
      // Between placements, never during one (see placeTurn).
      this.placeTurn = this.placeTurn.then(() => this.placing.delete(name));
    };
    return { host: { type: 'HostSystem', value: choice.host.id }, datastore: { type: 'Datastore', value: choice.datastore.id }, done };
  }

  cloneVm(name: string, opts: CloneOptions = {}): Promise<VmInfo & { adopted: boolean }> {
    return this.guard(`clone ${name}`, async () => {
      const { template, folder, pool } = await this.resolveRefs();
      let ref = await this.vmRef(name);
      let adopted = true;
      if (ref) {
        // A VM of that name already: ours if marked, or if it is the unmarked clone of an earlier attempt of this one.
        const found = await this.info(ref);
        const sinceMs = opts.askedAtMs !== undefined ? opts.askedAtMs - UNMARKED_CLONE_SKEW_MS : undefined;
        const ourClone = found?.owner === '' && sinceMs !== undefined && found.createdAt !== undefined && Date.parse(found.createdAt) >= sinceMs;
        if (found) this.notOurs(found, 'adopt', ourClone);
        if (ourClone) await this.mark(ref, name);
        // Killed between the clone and its first power-on: customized again (the same address) before it starts.
        if (found?.powerState === 'poweredOff' && this.customizer) await this.customizer.applyAdopted(ref, name);
      } else {
        // Everything that can refuse does so before the clone: nothing is made for a spec or pool that cannot serve.
        const prepared = await this.customizer?.prepare(name);
        let address = prepared?.address;
        try {
          const mode = this.spec.cloneMode ?? 'full';
          // linked: the template's current snapshot, each new disk a child of its disks.
          const snapshot = mode === 'linked' ? await this.currentSnapshot(template) : undefined;
          const placed = await this.place(name);
          const datastore = placed ? moref(placed.datastore, 'datastore') : '';
          const host = placed ? moref(placed.host, 'host') : '';
          // Elements in the schema's order (VirtualMachineCloneSpec, VirtualMachineRelocateSpec): vCenter reads them so.
          const cloneSpec =
            `<spec><location>${datastore}${snapshot ? el('diskMoveType', 'createNewChildDiskBacking') : ''}${moref(pool, 'pool')}${host}</location>${el('template', false)}` +
            // No customization in the clone spec: it is applied with CustomizeVM_Task once the clone is marked (some
            // servers, vcsim among them, ignore it here), so a retry after a kill customizes the same way.
            // Powered on explicitly below: some servers (vcsim) ignore powerOn in the clone spec.
            `${el('powerOn', false)}${snapshot ? moref(snapshot, 'snapshot') : ''}</spec>`;
          // instant: the running source forks (VirtualMachineInstantCloneSpec: name, then location), already powered on.
          const instantSpec = `<spec>${el('name', name)}<location>${moref(folder, 'folder')}${datastore}${moref(pool, 'pool')}${host}</location></spec>`;
          try {
            const result =
              mode === 'instant'
                ? await this.client.runTask('InstantClone_Task', () => moref(template) + instantSpec)
                : await this.client.runTask('CloneVM_Task', () => moref(template) + moref(folder, 'folder') + el('name', name) + cloneSpec);
            ref = (result && typeof result === 'object' && (result as Node)['@_type'] ? { type: 'VirtualMachine', value: text(result)! } : undefined) ?? (await this.vmRef(name));
            adopted = false;
          } catch (err) {
            placed?.done();
            // A clone of that name from an earlier attempt won the race: adopt it (the retry checks its mark).
            if (!(err instanceof VimTaskError && err.faultType === 'DuplicateName')) throw err;
            throw new Error(`VM ${name} appeared in ${this.spec.folder} while it was being cloned; the retry looks at its mark`, { cause: err });
          }
          try {
            if (!ref) throw new Error(`clone of ${name} reported success but the VM is not in ${this.spec.folder}`);
            const made = ref;
            // Marked before anything else: only a marked VM is ever destroyed. If it cannot be marked, it is destroyed now.
            await this.mark(made, name, address).catch(async (err: unknown) => {
              await this.client.runTask('Destroy_Task', () => moref(made)).catch(() => undefined);
              throw err;
            });
            if (address) address = await this.customizer!.settle(made, name, address);
          } finally {
            // Counted as placing until marked: until then a listing does not count it as the cluster's.
            placed?.done();
          }
          if (this.customizer) await this.customizer.apply(ref, name, prepared?.stored, address);
        } finally {
          // Leased until its VM is marked with it (or nothing was made): from then on vSphere says who holds it.
          prepared?.release();
        }
      }
      let vm = await this.info(ref);
      if (!vm) throw new Error(`VM ${name} vanished right after clone`);
      if (vm.powerState !== 'poweredOn') {
        await this.power(ref, 'PowerOnVM_Task');
        vm = (await this.info(ref)) ?? vm;
      }
      return { ...vm, adopted };
    });
  }

  waitForGuestIp(name: string, timeoutMs: number, progress?: (vm: VmInfo | undefined) => void): Promise<VmInfo & { ip: string }> {
    return this.guard(`wait for the guest of ${name}`, async () => {
      const ref = await this.vmRef(name);
      if (!ref) throw permanent('InventoryNotFound', `VM ${name} does not exist in ${this.spec.folder}; it cannot report an IP`);
      const keys = await this.keys(false);
      let last: VmInfo | undefined;
      // Told by vCenter as Tools start and addresses appear, not asked again and again.
      const up = await this.client.waitForProperties(
        ref,
        VM_PROPS,
        (props) => {
          if (!props) throw permanent('InventoryNotFound', `VM ${name} was destroyed while waiting for its guest`);
          last = toVmInfo(ref.value, props, this.spec.network, this.ownerOf(props, keys));
          return last.toolsRunning && last.ip ? { ...last, ip: last.ip } : undefined;
        },
        { timeoutMs, onUpdate: (props) => progress?.(props ? last : undefined) },
      );
      if (up) return up;
      const vm = last as VmInfo | undefined;
      const why = !vm?.toolsRunning ? 'VMware Tools are not running' : `no IPv4 on network "${this.spec.network}"`;
      throw permanent('GuestTimeout', `VM ${name}: ${why} after ${Math.round(timeoutMs / 1000)} s (power: ${vm?.powerState ?? 'unknown'})`);
    });
  }

  /** Renames `from` to `to`; done already (only `to` exists) is success; neither is a permanent fault. */
  renameVm(from: string, to: string): Promise<'renamed' | 'done'> {
    return this.guard(`rename ${from} to ${to}`, async () => {
      const ref = await this.vmRef(from);
      if (!ref) {
        const done = await this.vmRef(to);
        if (done) {
          // A worker killed between the rename and the mark: the retry marks.
          if ((await this.info(done))?.owner === '') await this.mark(done, to);
          return 'done';
        }
        throw permanent('InventoryNotFound', `VM ${from} does not exist in ${this.spec.folder}: it cannot become ${to}`);
      }
      await this.client.runTask('Rename_Task', () => moref(ref) + el('newName', to));
      // Marked again: a warm VM taken into service carries the op that serves it now, and a member from before marks
      // returned to the warm pool gets the mark it lacked (warm VMs are taken by their mark alone).
      await this.mark(ref, to);
      return 'renamed';
    });
  }

  /** A power task that is idempotent: a VM already in the state asked for (InvalidPowerState) is done, not a fault. */
  private async power(ref: Moref, method: 'PowerOnVM_Task' | 'PowerOffVM_Task'): Promise<boolean> {
    try {
      await this.client.runTask(method, () => moref(ref));
      return true;
    } catch (err) {
      if (err instanceof VimTaskError && err.faultType === 'InvalidPowerState') return false;
      throw err;
    }
  }

  /** true if it was off and is now on. */
  powerOnVm(name: string): Promise<boolean> {
    return this.guard(`power on ${name}`, async () => {
      const ref = await this.vmRef(name);
      if (!ref) throw permanent('InventoryNotFound', `VM ${name} does not exist in ${this.spec.folder}`);
      return this.power(ref, 'PowerOnVM_Task');
    });
  }

  /** true if it was on and is now off; a missing VM is off. */
  powerOffVm(name: string): Promise<boolean> {
    return this.guard(`power off ${name}`, async () => {
      const ref = await this.vmRef(name);
      return ref ? this.power(ref, 'PowerOffVM_Task') : false;
    });
  }

  destroyVm(name: string, opts: DestroyOptions = {}): Promise<boolean> {
    return this.guard(`destroy ${name}`, async () => {
      const ref = await this.vmRef(name);
      if (!ref) return false;
      const vm = await this.info(ref);
      if (!vm) return false;
      this.notOurs(vm, 'destroy', opts.unmarkedMember);
      if (vm.powerState === 'poweredOn') await this.power(ref, 'PowerOffVM_Task');
      try {
        await this.client.runTask('Destroy_Task', () => moref(ref));
      } catch (err) {
        if (err instanceof VimTaskError && err.faultType === 'ManagedObjectNotFound') return false;
        throw err;
      }
      return true;
    });
  }

  releaseVm(name: string): Promise<boolean> {
    return this.guard(`release ${name}`, async () => {
      const ref = await this.vmRef(name);
      const vm = ref && (await this.info(ref));
      if (!ref || !vm || vm.owner !== this.cluster) return false;
      const keys = await this.keys(false);
      // An empty value is how vSphere clears a custom attribute.
      await this.client.setCustomField(ref, keys.cluster!, '');
      if (keys.op !== undefined) await this.client.setCustomField(ref, keys.op, '');
      return true;
    });
  }

  listVms(prefix: string): Promise<VmInfo[]> {
    return this.guard(`list VMs in ${this.spec.folder}`, async () => {
      const refs = await this.folderVms();
      const [props, keys] = await Promise.all([this.client.retrieve(refs, VM_PROPS), this.keys(false)]);
      return [...props.entries()]
        .map(([id, p]) => toVmInfo(id, p, this.spec.network, this.ownerOf(p, keys)))
        .filter((vm) => vm.name.startsWith(prefix))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }
}
