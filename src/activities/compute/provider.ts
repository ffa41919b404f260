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
  /**
   * The cluster the VM's ownership mark names; '' for a VM without a mark (someone else's, or made before marks).
   * Absent in results recorded by workers from before marks: those are taken by their names, as they were then.
   */
  owner?: string;
}

export interface CloneOptions {
  /** When the clone was first asked for (epoch ms): an unmarked VM of the name made since is an earlier attempt's. */
  askedAtMs?: number;
}

export interface DestroyOptions {
  /** Destroy a VM without the mark too: a member from before marks, which the run found serving in the pool. */
  unmarkedMember?: boolean;
}

export interface ComputeProvider {
  /** Clones `name` from the template, marks it and powers it on; adopts this cluster's VM of that name if it exists. */
  cloneVm(name: string, opts?: CloneOptions): Promise<VmInfo & { adopted: boolean }>;
  /** Waits until tools run and an IPv4 shows on the network; calls `progress` on each poll. */
  waitForGuestIp(name: string, timeoutMs: number, progress?: (vm: VmInfo | undefined) => void): Promise<VmInfo & { ip: string }>;
  /** true if it was on and is now off. */
  powerOffVm(name: string): Promise<boolean>;
  /** true if it was off and is now on. */
  powerOnVm(name: string): Promise<boolean>;
  /** Renames a VM (a warm VM taken into service, a member returned to the warm pool); idempotent. */
  renameVm(from: string, to: string): Promise<'renamed' | 'done'>;
  /** true if it existed and is now gone; a VM that is not this cluster's is refused (NotOurs). */
  destroyVm(name: string, opts?: DestroyOptions): Promise<boolean>;
  /**
   * Gives a VM up without destroying it (Senlin's `destroy_after_deletion: false`): its mark is cleared, so it is no
   * longer the cluster's and is never destroyed or counted; the VM is left as it is (off, after a scale-in). true if it
   * was the cluster's and is now released; a VM that is gone, or already released, is false.
   */
  releaseVm(name: string): Promise<boolean>;
  /** VMs in the pool folder whose name starts with `prefix`, with whose mark each carries. */
  listVms(prefix: string): Promise<VmInfo[]>;
}
