// Which static address a new member gets from a pool: pure, so the table tests and the vSphere adapter share it.
import { numberToIpv4, type IpPool } from '../config/vsphere-fields';

/** The lowest address of the pool that nobody holds; undefined when every one is held. */
export function chooseAddress(pool: Pick<IpPool, 'range'>, held: ReadonlySet<string>): string | undefined {
  // At most held.size + 1 steps: a /8 pool with a few members held is as quick as a /28.
  for (let n = pool.range.first; n <= pool.range.last; n++) {
    const ip = numberToIpv4(n);
    if (!held.has(ip)) return ip;
  }
  return undefined;
}

/** How many addresses the pool has. */
export function poolSize(pool: Pick<IpPool, 'range'>): number {
  return pool.range.last - pool.range.first + 1;
}
