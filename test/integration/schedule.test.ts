// A scheduled action on the lab: a window that opens at the next minute raises min from 1 to 2, and the pool grows
// at that minute — a scale-out starting within seconds of it, a second member in vSphere (govc) and HAProxy.
import { parseClusterSpec } from '../../src/config/spec';
import { applyCluster, clusterStatus, waitIdle } from '../../src/client/clusters';
import { backendServers, endCluster, eventually, rawSpecFor, startWorker, vsphereVms, type TestWorker } from './harness';

const CLUSTER = 'sched';
let w: TestWorker;
beforeAll(async () => {
  w = await startWorker('test-schedule');
});
afterAll(async () => {
  if (w) await endCluster(w.client, CLUSTER).catch((err: unknown) => console.warn(`[schedule] ending cluster ${CLUSTER}: ${String(err)}`));
  await w?.stop();
});

test('a schedule raises min and the pool grows at the scheduled minute', async () => {
  // The next whole minute at least 20 s away, as a UTC cron.
  const firing = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
  const cron = `${firing.getUTCMinutes()} ${firing.getUTCHours()} * * *`;
  const raw = rawSpecFor(CLUSTER, {
    min: 1,
    max: 3,
    metrics: [],
    // A long poll interval: only the schedule's own timer can start the run on time.
    autoscaling: { pollInterval: '5m', reconcileInterval: '5m' },
    schedules: [{ name: 'at-test', cron, timezone: 'UTC', until: '10m', min: 2 }],
  });
  await applyCluster(w.client, parseClusterSpec(raw));
  const before = await eventually('one member', 60_000, async () => {
    const st = await waitIdle(w.client, CLUSTER);
    return st.current === 1 ? st : undefined;
  });
  expect(before.schedules).toEqual([expect.objectContaining({ name: 'at-test', open: false, next: expect.arrayContaining([firing.toISOString()]) })]);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(1);

  const grown = await eventually('the pool grown by the schedule', 120_000, async () => {
    const st = await clusterStatus(w.client, CLUSTER);
    return st.current === 2 && !st.currentOperation ? st : undefined;
  });
  const run = grown.runs.find((r) => r.kind === 'scale-out' && Date.parse(r.startedAt) >= firing.getTime() - 1000)!;
  expect(run).toBeDefined();
  // It started at the scheduled minute (the poll interval is 5 minutes).
  expect(Date.parse(run.startedAt) - firing.getTime()).toBeLessThan(15_000);
  expect(grown.min).toBe(2);
  expect(grown.specBounds).toMatchObject({ min: 1, minBy: 'at-test' });
  expect(grown.decisions.some((d) => d.code === 'ScheduleOpened' && /schedule at-test opened: min 2/.test(d.reason))).toBe(true);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(2);
  expect(backendServers(`${CLUSTER}-`)).toHaveLength(2);
}, 240_000);
