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
