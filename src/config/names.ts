// One place for the names poolpilot gives things (pure: workflows, activities and clients import it). Workflow ids
// make a run unique per cluster and op number, so a retried start never runs twice; member names carry the op and
// index so victim choice and orphan detection can read them back.

const AUTOSCALER_PREFIX = 'autoscaler:';

export const workflowIds = {
  autoscaler: (cluster: string) => `${AUTOSCALER_PREFIX}${cluster}`,
  /** The cluster an autoscaler's workflow id names (the inverse of `autoscaler`). */
  clusterOf: (autoscalerId: string) => (autoscalerId.startsWith(AUTOSCALER_PREFIX) ? autoscalerId.slice(AUTOSCALER_PREFIX.length) : autoscalerId),
  scaleOut: (cluster: string, op: number) => `scale-out:${cluster}:${op}`,
  scaleIn: (cluster: string, op: number) => `scale-in:${cluster}:${op}`,
  warmPool: (cluster: string, op: number) => `warm-pool:${cluster}:${op}`,
  /** A scaling run of either kind. */
  run: (kind: 'scale-out' | 'scale-in', cluster: string, op: number) => (kind === 'scale-out' ? workflowIds.scaleOut(cluster, op) : workflowIds.scaleIn(cluster, op)),
};

/** What every VM name of a cluster (member or warm) begins with: the listing's filter. */
export const vmNamePrefix = (cluster: string): string => `${cluster}-`;

/** A member's name: `<cluster>-<op>-<i>`. */
export function memberName(cluster: string, op: number, index: number): string {
  return `${vmNamePrefix(cluster)}${op}-${index}`;
}

export function parseMemberName(cluster: string, name: string): { op: number; index: number } | undefined {
  const m = new RegExp(`^${cluster}-(\\d+)-(\\d+)$`).exec(name);
  return m ? { op: Number(m[1]), index: Number(m[2]) } : undefined;
}

/** A warm VM's name: `<cluster>-w<op>-<i>`, never a member's `<cluster>-<op>-<i>`, so never served. */
export function warmName(cluster: string, op: number, index: number): string {
  return `${vmNamePrefix(cluster)}w${op}-${index}`;
}

export function parseWarmName(cluster: string, name: string): { op: number; index: number } | undefined {
  const m = new RegExp(`^${cluster}-w(\\d+)-(\\d+)$`).exec(name);
  return m ? { op: Number(m[1]), index: Number(m[2]) } : undefined;
}

/** The op number a member's or a warm VM's name carries; undefined for any other name. */
export function opOfName(cluster: string, name: string): number | undefined {
  return (parseMemberName(cluster, name) ?? parseWarmName(cluster, name))?.op;
}
