// The vSphere adapter of the compute port: clone, power, destroy and watch VMs over vim25 SOAP.
import type { VsphereSpec } from '../../config/spec';
import { permanent } from '../errors';
import type { ComputeProvider, PowerState, VmInfo } from './provider';
import { asArray, el, moref, text, toMoref, VimClient, VimFault, VimTaskError, type Moref, type Node } from './vim';

const VM_PROPS = ['name', 'runtime.powerState', 'guest.toolsRunningStatus', 'guest.net', 'guest.ipAddress', 'config.createDate'];
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

function toVmInfo(id: string, props: Record<string, unknown>, network: string): VmInfo {
  const power = text(props['runtime.powerState']);
  return {
    name: text(props.name) ?? id,
    id,
    powerState: power === 'poweredOn' || power === 'poweredOff' || power === 'suspended' ? (power as PowerState) : 'unknown',
    toolsRunning: text(props['guest.toolsRunningStatus']) === 'guestToolsRunning',
    ip: guestIp(props, network),
    createdAt: text(props['config.createDate']),
  };
}

export class VsphereCompute implements ComputeProvider {
  private refs: Promise<{ template: Moref; folder: Moref; pool: Moref }> | undefined;
  private refsAt = 0;

  constructor(
    private readonly client: VimClient,
    private readonly spec: VsphereSpec,
  ) {}

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
    const props = await this.client.retrieveOne(ref, VM_PROPS);
    return props ? toVmInfo(ref.value, props, this.spec.network) : undefined;
  }

  /** The template's current snapshot, for a linked clone; a template without one is a permanent fault. */
  private async currentSnapshot(template: Moref): Promise<Moref> {
    const props = await this.client.retrieveOne(template, ['snapshot']);
    const snap = toMoref((props?.snapshot as Node | undefined)?.currentSnapshot);
    if (!snap) throw permanent('TemplateNotFound', `vsphere.cloneMode linked clones from the template's current snapshot, and ${this.spec.template} has none: take one (govc snapshot.create -vm ${this.spec.template} base), or use cloneMode full`);
    return snap;
  }

  cloneVm(name: string): Promise<VmInfo & { adopted: boolean }> {
    return this.guard(`clone ${name}`, async () => {
      const { template, folder, pool } = await this.resolveRefs();
      let ref = await this.vmRef(name);
      let adopted = true;
      if (!ref) {
        const customization = this.spec.customizationSpec ? await this.client.customizationSpecXml(this.spec.customizationSpec) : undefined;
        if (this.spec.customizationSpec && customization === undefined) {
          throw permanent('InventoryNotFound', `vsphere.customizationSpec "${this.spec.customizationSpec}" was not found in vSphere at ${this.spec.url}`);
        }
        const mode = this.spec.cloneMode ?? 'full';
        // linked: the template's current snapshot, each new disk a child of its disks.
        const snapshot = mode === 'linked' ? await this.currentSnapshot(template) : undefined;
        // Elements in the schema's order (VirtualMachineCloneSpec, VirtualMachineRelocateSpec): vCenter reads them so.
        const cloneSpec =
          `<spec><location>${snapshot ? el('diskMoveType', 'createNewChildDiskBacking') : ''}${moref(pool, 'pool')}</location>${el('template', false)}` +
          (customization ? `<customization>${customization}</customization>` : '') +
          // Powered on explicitly below: some servers (vcsim) ignore powerOn in the clone spec.
          `${el('powerOn', false)}${snapshot ? moref(snapshot, 'snapshot') : ''}</spec>`;
        // instant: the running source forks (VirtualMachineInstantCloneSpec: name, then location), already powered on.
        const instantSpec = `<spec>${el('name', name)}<location>${moref(folder, 'folder')}${moref(pool, 'pool')}</location></spec>`;
        try {
          const result =
            mode === 'instant'
              ? await this.client.runTask('InstantClone_Task', () => moref(template) + instantSpec)
              : await this.client.runTask('CloneVM_Task', () => moref(template) + moref(folder, 'folder') + el('name', name) + cloneSpec);
          ref = (result && typeof result === 'object' && (result as Node)['@_type'] ? { type: 'VirtualMachine', value: text(result)! } : undefined) ?? (await this.vmRef(name));
          adopted = false;
        } catch (err) {
          // A clone of that name from an earlier attempt won the race: adopt it.
          if (!(err instanceof VimTaskError && err.faultType === 'DuplicateName')) throw err;
          ref = await this.vmRef(name);
        }
        if (!ref) throw new Error(`clone of ${name} reported success but the VM is not in ${this.spec.folder}`);
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
      const deadline = Date.now() + timeoutMs;
      const ref = await this.vmRef(name);
      if (!ref) throw permanent('InventoryNotFound', `VM ${name} does not exist in ${this.spec.folder}; it cannot report an IP`);
      let last: VmInfo | undefined;
      for (;;) {
        last = await this.info(ref);
        progress?.(last);
        if (!last) throw permanent('InventoryNotFound', `VM ${name} was destroyed while waiting for its guest`);
        if (last.toolsRunning && last.ip) return { ...last, ip: last.ip };
        if (Date.now() >= deadline) {
          const why = !last.toolsRunning ? 'VMware Tools are not running' : `no IPv4 on network "${this.spec.network}"`;
          throw permanent('GuestTimeout', `VM ${name}: ${why} after ${Math.round(timeoutMs / 1000)} s (power: ${last.powerState})`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    });
  }

  /** Renames `from` to `to`; done already (only `to` exists) is success; neither is a permanent fault. */
  renameVm(from: string, to: string): Promise<'renamed' | 'done'> {
    return this.guard(`rename ${from} to ${to}`, async () => {
      const ref = await this.vmRef(from);
      if (!ref) {
        if (await this.vmRef(to)) return 'done';
        throw permanent('InventoryNotFound', `VM ${from} does not exist in ${this.spec.folder}: it cannot become ${to}`);
      }
      await this.client.runTask('Rename_Task', () => moref(ref) + el('newName', to));
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

  destroyVm(name: string): Promise<boolean> {
    return this.guard(`destroy ${name}`, async () => {
      const ref = await this.vmRef(name);
      if (!ref) return false;
      const vm = await this.info(ref);
      if (vm?.powerState === 'poweredOn') await this.powerOffVm(name);
      try {
        await this.client.runTask('Destroy_Task', () => moref(ref));
      } catch (err) {
        if (err instanceof VimTaskError && err.faultType === 'ManagedObjectNotFound') return false;
        throw err;
      }
      return true;
    });
  }

  listVms(prefix: string): Promise<VmInfo[]> {
    return this.guard(`list VMs in ${this.spec.folder}`, async () => {
      const { folder } = await this.resolveRefs();
      const children = await this.client.retrieveOne(folder, ['childEntity']);
      const refs = asArray((children?.childEntity as Node | undefined)?.ManagedObjectReference as Node | Node[] | undefined)
        .filter((n) => n['@_type'] === 'VirtualMachine')
        .map((n) => ({ type: 'VirtualMachine', value: text(n)! }));
      const props = await this.client.retrieve(refs, VM_PROPS);
      return [...props.entries()]
        .map(([id, p]) => toVmInfo(id, p, this.spec.network))
        .filter((vm) => vm.name.startsWith(prefix))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }
}
