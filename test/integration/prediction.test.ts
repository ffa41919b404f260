// Prediction on the lab. The lab's Prometheus gets 30 hours of a daily cycle, backfilled with promtool, so the
// forecast's history query has a past and the forecast is trusted at once. Live requests through the HAProxy VIP feed
// the demand floor. When the load stops, the floor leads the scale-in: the pool is back at min within a minute or
// two, although the spec's scale-in stabilization alone would hold it for 10 minutes. Checked on HAProxy's socket and
// in vSphere.
import http from 'node:http';
import path from 'node:path';
import { parseClusterSpec } from '../../src/config/spec';
import { applyCluster, clusterStatus, waitIdle } from '../../src/client/clusters';
import { backfillDailyCycle, historyServed } from '../../src/lab/backfill';
import type { AutoscalerStatus } from '../../src/workflows/autoscaler-messages';
import { backendServers, endCluster, eventually, lab, rawSpecFor, startWorker, TEST_LAB, vsphereVms, type TestWorker } from './harness';

const CLUSTER = 'pred';
const HISTORY = 'sum(rate(lab_history_requests_total[1m]))';
let w: TestWorker;

/** Requests at `perSecond` through the VIP until stopped; counts the answers. */
function steadyLoad(perSecond: number): { stop: () => Promise<{ ok: number; failed: number }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const counts = { ok: 0, failed: 0 };
  // Paced by the clock, not by the ticks: on a busy machine a 100 ms interval fires late, and counting sends per
  // tick would offer less than `perSecond`; each tick sends what the elapsed time is owed.
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(() => {
    const owed = Math.floor(((Date.now() - started) * perSecond) / 1000) - sent;
    sent += owed;
    for (let i = 0; i < owed; i++) {
      http
        .get(lab().vipUrl, { agent }, (res) => {
          res.resume();
          if ((res.statusCode ?? 500) < 500) counts.ok++;
          else counts.failed++;
        })
        .on('error', () => counts.failed++);
    }
  }, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 1000));
      agent.destroy();
      return counts;
    },
  };
}

beforeAll(async () => {
  const written = backfillDailyCycle(path.join(TEST_LAB.dataDir!, 'prometheus'), {
    metric: 'lab_history_requests',
    labels: { source: 'backfill' },
    hours: 30,
    endMs: Date.now() - 60_000,
    trough: 20,
    peak: 60,
  });
  expect(written.samples).toBe(7201);
  // Prometheus loads new blocks within a minute; the forecast reads its history when the autoscaler starts.
  await eventually('Prometheus serving the backfilled history', 120_000, async () => ((await historyServed(lab().prometheusUrl!, 'lab_history_requests_total', 29)) ? true : undefined));
  w = await startWorker('test-prediction');
});
afterAll(async () => {
  // Ended, not only deleted: the autoscaler's end is waited for, so it does not outlive this file's worker.
  if (w) await endCluster(w.client, CLUSTER).catch((err: unknown) => console.warn(`[prediction] ending cluster ${CLUSTER}: ${String(err)}`));
  await eventually('the cluster gone', 60_000, () => (vsphereVms(`${CLUSTER}-`).length === 0 ? true : undefined)).catch(() => undefined);
  await w?.stop();
});

test('with a trusted forecast, the demand floor follows live load and leads the scale-in past a 10-minute stabilization', async () => {
  const raw = rawSpecFor(CLUSTER, {
    min: 1,
    max: 4,
    metrics: [
      {
        name: 'rps',
        // The backend's total, not this cluster's servers' share: in a full run another file's members may still
        // be in the shared backend, and with a share of the load this pool never grew.
        source: { prometheus: { query: 'sum(rate(haproxy_backend_http_responses_total{proxy="web"}[10s]))' } },
        target: { value: 20, perMember: false },
      },
    ],
    autoscaling: { pollInterval: '1s', tolerance: 0.1, scaleOutCooldown: '2s', scaleInCooldown: '2s', scaleInStabilization: '10m', reconcileInterval: '5s' },
    prediction: { query: HISTORY, history: '30h', step: '5m', horizon: '1h', refresh: '1h', window: '15s', margin: 2, maxError: 0.5, timeToReady: '1m' },
  });
  await applyCluster(w.client, parseClusterSpec(raw));
  const idle = await eventually('one member and the forecast in use', 90_000, async () => {
    const st = await waitIdle(w.client, CLUSTER);
    return st.current === 1 && st.forecast?.state === 'in use' ? st : undefined;
  });
  // The seasonal forecast fits the backfilled cycle (its error on the last day is the trust check).
  expect(idle.forecast!.error).toBeLessThan(0.1);
  expect(idle.forecast!.reason).toBeNull();

  const load = steadyLoad(50);
  let underLoad: AutoscalerStatus;
  let counts: { ok: number; failed: number };
  try {
    // The floor waits for a spread resting on 30 readings' worth of demand at the load's level: about half a minute here.
    // On a busy machine polls run late, and the 30 readings take longer to gather: up to 5 minutes.
    underLoad = await eventually('the pool grown under load, the floor measured', 300_000, async () => {
      const st = await clusterStatus(w.client, CLUSTER);
      const floor = st.forecast?.text ?? '';
      if (st.current >= 3 && !st.currentOperation && /level [\d.]+ over \d+ readings \+ 2σ/.test(floor)) return st;
      // Thrown, so a timeout names what the status last showed.
      throw new Error(`current ${st.current}, operation ${st.currentOperation ?? 'none'}, floor ${floor || 'none'}; backend ${backendServers('').join(' ') || 'empty'}; last decisions: ${st.decisions.slice(-4).map((d) => `${d.action} ${d.code}: ${d.reason}`).join(' | ')}`);
    });
  } finally {
    counts = await load.stop();
  }
  const loadStopped = Date.now();
  expect(counts.failed).toBe(0);
  expect(counts.ok).toBeGreaterThan(500);
  // The floor's sentence: live demand near the 50 requests/s sent, 22 per member (20 × 1.1).
  expect(underLoad.forecast!.text).toMatch(/forecast [\d.]+ rps at \d\d:\d\d \(\+1 min time-to-ready\): level [\d.]+ over \d+ readings \+ 2σ \(σ [\d.]+\), 22\.0 per member → \d+/);
  expect(underLoad.forecast!.members).toBeGreaterThanOrEqual(2);
  expect(backendServers(`${CLUSTER}-`).length).toBeGreaterThanOrEqual(3);
  expect(vsphereVms(`${CLUSTER}-`).length).toBeGreaterThanOrEqual(3);

  const back = await eventually('the pool back at min, led by the floor', 150_000, async () => {
    const st = await clusterStatus(w.client, CLUSTER);
    return st.current === 1 && !st.currentOperation ? st : undefined;
  });
  // Well inside the 10-minute stabilization: only the floor could take the pool down.
  expect(Date.now() - loadStopped).toBeLessThan(5 * 60_000);
  const ins = back.runs.filter((r) => r.kind === 'scale-in' && Date.parse(r.startedAt) >= loadStopped - 2000);
  expect(ins.length).toBeGreaterThanOrEqual(1);
  const after = back.decisions.filter((d) => Date.parse(d.at) >= loadStopped - 2000);
  expect(after.some((d) => d.action === 'scale-in')).toBe(true);
  expect(after.filter((d) => d.action === 'scale-in').every((d) => d.code !== 'Stabilized')).toBe(true);
  expect(backendServers(`${CLUSTER}-`)).toHaveLength(1);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(1);
}, 720_000);
