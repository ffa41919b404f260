// The main job, shortened: Locust load through the VIP grows the pool; when it stops, the pool drains back to min with no failed requests.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/settings';
import { clusterStatus } from '../../src/client/clusters';
import { runScenario } from '../../src/lab/demo';
import { summarize } from '../../src/lab/report';
import { backendServers, endCluster, lab, startWorker, TEST_LAB, vsphereVms, type TestWorker } from './harness';

let w: TestWorker;
beforeAll(async () => {
  // The scenario starts its own worker process on this task queue too; two workers share it.
  w = await startWorker('test-scenario');
});
afterAll(async () => {
  // The scenario leaves its cluster at min, as the main job does without --down: ended here, members and all.
  if (w) await endCluster(w.client, 'web');
  await w?.stop();
  expect(vsphereVms('web-')).toEqual([]);
});

test('load grows the pool, every new member serves, and it shrinks back to min without failed requests', async () => {
  const e = lab();
  const lines: string[] = [];
  const report = await runScenario({
    specFile: path.join(PROJECT_ROOT, 'examples', 'web.yaml'),
    users: 200,
    spawnRate: 20,
    plateauS: 45,
    waitS: [0.5, 1],
    settleS: 120,
    lab: TEST_LAB,
    reportsDir: path.join(TEST_LAB.dataDir!, 'reports'),
    down: false,
    log: (l) => lines.push(l),
    // The example as shipped, pointed at the test lab and with a faster clock.
    specOverrides: (raw) => ({
      ...raw,
      vsphere: { ...(raw.vsphere as object), url: e.vsphereUrl },
      loadBalancer: { ...(raw.loadBalancer as object), haproxy: { ...((raw.loadBalancer as { haproxy: object }).haproxy), socket: e.haproxySocket } },
      prometheus: { url: e.prometheusUrl },
      metrics: [{ name: 'conns', source: { prometheus: { query: 'avg(haproxy_server_current_sessions{proxy="web",server=~"web-.*"})' } }, target: { value: 4 } }],
      autoscaling: { ...(raw.autoscaling as object), pollInterval: '2s', scaleOutCooldown: '3s', scaleInCooldown: '5s', scaleInStabilization: '5s', maxStepOut: 2 },
    }),
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${lines.join('\n')}`);
  });
  const s = summarize(report);
  // On a failure, the scenario's own live lines explain it.
  if (s.peakMembers <= 1 || s.failedRequests > 0 || report.backAtMinS === undefined) console.log(lines.slice(-60).join('\n'));
  expect(s.peakMembers).toBeGreaterThan(1);
  // Every member that joined while there was load served requests, by HAProxy's own per-server counters.
  // Members are named <cluster>-<op>-<i>; a scale-out that ended after the load stopped joined an idle pool.
  const loadStoppedAt = Date.parse(report.startedAt) + (report.loadStopS ?? Infinity) * 1000;
  const lateOps = new Set(report.runs.filter((r) => r.kind === 'scale-out' && (!r.endedAt || Date.parse(r.endedAt) > loadStoppedAt - 2000)).map((r) => r.workflowId.split(':')[2]));
  const underLoad = Object.entries(report.servedByMember).filter(([name]) => !lateOps.has(name.split('-')[1]));
  expect(underLoad.length).toBeGreaterThanOrEqual(2);
  for (const [name, served] of underLoad) expect({ name, served: served > 0 }).toEqual({ name, served: true });
  // Back to min after the load stopped, and drain meant no request failed while scaling in.
  expect(report.backAtMinS).toBeDefined();
  expect(s.failedDuringScaleIn).toBe(0);
  expect(s.failedRequests).toBe(0);
  expect(s.requests).toBeGreaterThan(1000);
  expect(s.scaleInRuns).toBeGreaterThanOrEqual(1);
  // The world agrees, and the report is on disk.
  expect((await clusterStatus(w.client, 'web')).current).toBe(1);
  expect(backendServers('web-')).toHaveLength(1);
  expect(vsphereVms('web-')).toHaveLength(1);
  expect(readFileSync(path.join(report.reportDir, 'chart.svg'), 'utf8')).toMatch(/^<svg/);
  expect(existsSync(path.join(report.reportDir, 'summary.json'))).toBe(true);
}, 420_000);
