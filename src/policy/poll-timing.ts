// When an autoscaler polls: on a fixed-rate grid of `pollInterval`, offset by a phase taken from the cluster's name.
//
// Clusters started together (a worker restart, a batch of `cluster apply`) would otherwise poll in lockstep and hit
// the worker, Temporal and the metric source in bursts. Prometheus spreads its scrapes the same way, by hashing each
// target into an offset inside the interval. The phase depends on the name only, so it survives continue-as-new and
// worker restarts, and the schedule does not drift by the time each poll takes.

/** FNV-1a, 32 bit: a cheap, stable hash of the cluster name. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** This cluster's offset inside the poll interval, in [0, intervalMs). */
export function pollPhase(cluster: string, intervalMs: number): number {
  return intervalMs > 0 ? fnv1a(cluster) % intervalMs : 0;
}

/**
 * The next poll time after a poll that ended at `now`: the first slot of the grid that leaves at least half an
 * interval, so polls come every interval on the grid, and an off-grid poll (right after a scaling run or a manual
 * request) is followed by the next poll within 0.5 to 1.5 intervals.
 */
export function nextPollAt(now: number, intervalMs: number, phase: number): number {
  if (intervalMs <= 0) return now;
  const earliest = now + intervalMs / 2;
  const k = Math.ceil((earliest - phase) / intervalMs);
  return k * intervalMs + phase;
}
