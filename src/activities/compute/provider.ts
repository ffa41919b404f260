// The compute port: what poolpilot needs from a private cloud. vSphere is today's adapter.
export type PowerState = 'poweredOn' | 'poweredOff' | 'suspended' | 'unknown';

export interface VmInfo {
  name: string;
  /** The provider's id (a vSphere managed object id). */
  id: string;
  powerState: PowerState;
  toolsRunning: boolean;
  /** IPv4 the guest reports on the configured network, if any. */
  ip?: string;
  /** ISO time the VM was created. */
  createdAt?: string;
}

export interface ComputeProvider {
  /** Clones `name` from the template and powers it on; adopts a VM of that name if it exists. */
  cloneVm(name: string): Promise<VmInfo & { adopted: boolean }>;
  /** Waits until tools run and an IPv4 shows on the network; calls `progress` on each poll. */
  waitForGuestIp(name: string, timeoutMs: number, progress?: (vm: VmInfo | undefined) => void): Promise<VmInfo & { ip: string }>;
  /** true if it was on and is now off. */
  powerOffVm(name: string): Promise<boolean>;
  /** true if it was off and is now on. */
  powerOnVm(name: string): Promise<boolean>;
  /** Renames a VM (a warm VM taken into service, a member returned to the warm pool); idempotent. */
  renameVm(from: string, to: string): Promise<'renamed' | 'done'>;
  /** true if it existed and is now gone. */
  destroyVm(name: string): Promise<boolean>;
  /** VMs in the pool folder whose name starts with `prefix`. */
  listVms(prefix: string): Promise<VmInfo[]>;
}
