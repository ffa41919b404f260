// Health replacement on the lab: a guest whose health check starts failing is replaced — a new member joins first,
// then the broken one is drained and destroyed — with the pool never below min and no request failed on the VIP.
// Outcomes are read from HAProxy's socket and from vSphere with govc, not from poolpilot.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseClusterSpec } from '../../src/config/spec';
import { applyCluster, clusterStatus, waitIdle } from '../../src/client/clusters';
import { setGuestHealth } from '../../src/lab/guest-sim';
import { findTool } from '../../src/lab/tools';
import { backendStatus, endCluster, eventually, lab, rawSpecFor, startWorker, TEST_LAB, vsphereVms, type TestWorker } from './harness';

const run = promisify(execFile);
const CLUSTER = 'heal';
let w: TestWorker;

beforeAll(async () => {
  w = await startWorker('test-health');
  const raw = rawSpecFor(CLUSTER, {
    min: 2,
    max: 3,
    metrics: [],
    health: { gracePeriod: '2s', maxReplacementsPerHour: 2 },
    autoscaling: { pollInterval: '1s', reconcileInterval: '1s' },
  });
  await applyCluster(w.client, parseClusterSpec(raw));
  await eventually('two members', 60_000, async () => (await waitIdle(w.client, CLUSTER)).current === 2 || undefined);
});
afterAll(async () => {
  if (w) await endCluster(w.client, CLUSTER).catch((err: unknown) => console.warn(`[health] ending cluster ${CLUSTER}: ${String(err)}`));
  await w?.stop();
});

const ours = () => Object.entries(backendStatus()).filter(([name]) => name.startsWith(`${CLUSTER}-`));

test("a member whose health check fails is replaced, the pool never below min, no request failed", async () => {
  const [victim, keeper] = vsphereVms(`${CLUSTER}-`);
  setGuestHealth(TEST_LAB.dataDir!, victim!, false);
  // Load through the VIP for the whole replacement, and a watch on HAProxy and vSphere every 200 ms.
  const wrk = run(findTool('wrk')!, ['-t1', '-c8', '-d25s', lab().vipUrl], { timeout: 60_000 });
  let fewestVms = Infinity;
  let fewestUp = Infinity;
  let sawDown = false;
  const watch = setInterval(() => {
    try {
      const rows = ours();
      if (rows.some(([n, st]) => n === victim && st.startsWith('DOWN'))) sawDown = true;
      if (sawDown) fewestUp = Math.min(fewestUp, rows.filter(([, st]) => st.startsWith('UP')).length);
      fewestVms = Math.min(fewestVms, vsphereVms(`${CLUSTER}-`).length);
    } catch {
      // A read that races a change is retried on the next tick.
    }
  }, 200);
  try {
    // 25 s on a quiet machine; the deadline leaves room for a busy one (it waits for the event, not the time).
    const replaced = await eventually('the broken member replaced', 120_000, () => {
      const vms = vsphereVms(`${CLUSTER}-`);
      const up = ours().filter(([, st]) => st.startsWith('UP')).map(([n]) => n);
      return !vms.includes(victim!) && vms.length === 2 && up.length === 2 ? { vms, up } : undefined;
    });
    expect(replaced.vms).toContain(keeper);
    expect(replaced.up.sort()).toEqual(replaced.vms.sort());
  } finally {
    clearInterval(watch);
    setGuestHealth(TEST_LAB.dataDir!, victim!, true);
  }
  const { stdout } = await wrk;
  expect(stdout).toMatch(/requests in/);
  expect(stdout).not.toMatch(/Non-2xx|Socket errors/);
  expect(sawDown).toBe(true);
  // Never below min members; the broken one aside, never fewer serving than before it broke.
  expect(fewestVms).toBeGreaterThanOrEqual(2);
  expect(fewestUp).toBeGreaterThanOrEqual(1);
  const st = await clusterStatus(w.client, CLUSTER);
  const health = st.decisions.filter((d) => d.source === 'health');
  expect(health.map((d) => d.action)).toEqual(['scale-out', 'scale-in']);
  expect(health[0]!.reason).toMatch(new RegExp(`^replace ${victim} \\(DOWN in the balancer for \\d+ s\\)`));
});
