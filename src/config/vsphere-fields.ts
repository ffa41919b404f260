// vSphere's own value forms in the cluster spec (pure: workflows bundle it): inventory paths, sizes as vSphere's client
// writes them, and the placement block.
import { z } from 'zod';

export const inventoryPath = z.string().regex(/^\//, 'must be an inventory path starting with "/" (e.g. /DC0/vm/web-template)');

const BYTE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
/** A size in bytes: a number, or a string with a binary unit as vSphere's client shows sizes ("20GiB", "512 MiB"). */
const byteSize = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KiB|MiB|GiB|TiB)$/, 'must be a size such as 20GiB or 512MiB (B, KiB, MiB, GiB, TiB), or a number of bytes')
    .transform((v) => {
      const m = /^(\d+(?:\.\d+)?)\s*(\w+)$/.exec(v)!;
      return Math.round(Number(m[1]) * BYTE_UNITS[m[2]!]!);
    }),
]);

/**
 * Where each clone goes (absent: where vSphere puts it, in resourcePool). Hosts: listed, or every host of a cluster
 * (absent both: the hosts of resourcePool's cluster); datastores: listed, or a datastore cluster's (absent both: those
 * the hosts mount). Members spread across hosts (or datastores) and land on the datastore with the most free space
 * above minFreeSpace; every clone carries its host, datastore and pool explicitly.
 */
export const placementSchema = z
  .object({
    hosts: z.array(inventoryPath).min(1).optional(),
    cluster: inventoryPath.optional(),
    datastores: z.array(inventoryPath).min(1).optional(),
    datastoreCluster: inventoryPath.optional(),
    spread: z.enum(['hosts', 'datastores']).default('hosts'),
    minFreeSpace: byteSize.default(0),
  })
  .strict()
  .refine((p) => !(p.hosts && p.cluster), { message: 'give hosts or cluster, not both', path: ['cluster'] })
  .refine((p) => !(p.datastores && p.datastoreCluster), { message: 'give datastores or datastoreCluster, not both', path: ['datastoreCluster'] });
export type Placement = z.infer<typeof placementSchema>;

/** An IPv4 address in dotted quads, each 0-255. */
export const ipv4 = z.string().regex(/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/, 'must be an IPv4 address such as 10.0.8.20');

/** An IPv4 address as a number, for ranges and masks. */
export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** "FIRST-LAST", both IPv4, first not after last: the addresses a pool hands out, both ends included. */
const addressRange = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}-\d{1,3}(\.\d{1,3}){3}$/, 'must be FIRST-LAST, two IPv4 addresses (e.g. 10.0.8.20-10.0.8.59)')
  .transform((v, ctx) => {
    const ends = v.split('-');
    if (!ends.every((e) => ipv4.safeParse(e).success)) {
      ctx.addIssue({ code: 'custom', message: `must be FIRST-LAST, two IPv4 addresses (e.g. 10.0.8.20-10.0.8.59): ${v} has an octet above 255` });
      return z.NEVER;
    }
    const [first, last] = ends.map(ipv4ToNumber) as [number, number];
    if (first > last) {
      ctx.addIssue({ code: 'custom', message: `starts after it ends: ${ends[0]} is above ${ends[1]}` });
      return z.NEVER;
    }
    return { text: `${ends[0]}-${ends[1]}`, first, last };
  });

/**
 * Static addresses for members, one each, from `range`: held by the VM (its `poolpilot.ip` mark) from its clone until
 * it is destroyed, so no two VMs of the folder get the same one and a run killed mid-clone finds its own again.
 */
export const ipPoolSchema = z
  .object({
    range: addressRange,
    /** The prefix length of the members' subnet (24: 255.255.255.0). */
    prefix: z.number().int().min(1).max(32).default(24),
    gateway: ipv4.optional(),
    dns: z.array(ipv4).default([]),
  })
  .strict();
export type IpPool = z.infer<typeof ipPoolSchema>;

/** What {name} may become in a hostname: a DNS label (RFC 1123). */
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Guest customization, applied with CustomizeVM_Task on the powered-off clone before its first power-on: a stored
 * spec by name (Policies and Profiles; Windows or anything else it holds), or poolpilot's own Linux one: the hostname
 * from `hostnamePattern` ({name} is the VM's name) and, with `ipPool`, a static address from the pool.
 */
export const customizationSchema = z
  .object({
    spec: z.string().min(1).optional(),
    hostnamePattern: z
      .string()
      .regex(/\{name\}/, 'must contain {name}: each member needs a hostname of its own')
      .regex(/^([A-Za-z0-9-]|\{name\})+$/, 'must make a hostname of letters, digits and hyphens around {name}')
      .refine((p) => HOST_LABEL.test(p.replaceAll('{name}', 'web-1-1')), 'must make a hostname of 63 characters at most, starting and ending with a letter or digit')
      .optional(),
    domain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a DNS domain such as example.com').optional(),
    ipPool: ipPoolSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.spec && (c.hostnamePattern || c.domain || c.ipPool)) {
      ctx.addIssue({ code: 'custom', path: ['spec'], message: 'give a stored spec, or hostnamePattern/domain/ipPool, not both: a stored spec sets the hostname and addresses itself' });
    }
    if (!c.spec && !c.hostnamePattern && !c.ipPool) ctx.addIssue({ code: 'custom', message: 'give spec (a stored customization spec), or hostnamePattern and/or ipPool' });
  });
export type Customization = z.infer<typeof customizationSchema>;

/** The hostname of VM `name` under a pattern (absent: the VM's name). */
export function hostnameFor(pattern: string | undefined, name: string): string {
  return (pattern ?? '{name}').replaceAll('{name}', name);
}

/** The customization a vSphere spec asks for, its old spelling (customizationSpec: NAME) included. */
export function customizationOf(v: { customization?: Customization; customizationSpec?: string }): Customization | undefined {
  return v.customization ?? (v.customizationSpec ? { spec: v.customizationSpec } : undefined);
}

/** The dotted mask of a prefix length: 24 is 255.255.255.0. */
export function prefixToNetmask(prefix: number): string {
  return numberToIpv4(prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix));
}
