// poolpilot's own metrics, seen from outside: a worker process's /metrics after real runs, the lab's Prometheus
// scraping it and loading the alert rules, `promtool check rules` on the shipped rules, and every query of the shipped
// Grafana dashboard parsed by promtool and run by Prometheus.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import YAML from 'yaml';
import { applyCluster, deleteCluster, requestScale, waitIdle } from '../../src/client/clusters';
import { PROJECT_ROOT } from '../../src/config/settings';
import { parseClusterSpec } from '../../src/config/spec';
import { findTool } from '../../src/lab/tools';
import { backendServers, eventually, lab, rawSpecFor, spawnWorkerProcess, TEST_LAB, vsphereVms } from './harness';

const CLUSTER = 'obs';
const QUEUE = 'test-observability';
const METRICS = `http://127.0.0.1:${TEST_LAB.ports!.metrics}/metrics`;
const RULES = path.join(PROJECT_ROOT, 'deploy', 'prometheus', 'poolpilot-rules.yml');
const DASHBOARD = path.join(PROJECT_ROOT, 'deploy', 'grafana', 'poolpilot.json');
const spawned = new Set<ChildProcess>();
let client: Client;
let conn: Connection;

const promtool = () => findTool('prometheus')!.replace(/prometheus$/, 'promtool');

beforeAll(async () => {
  conn = await Connection.connect({ address: lab().temporalAddress });
  client = new Client({ connection: conn });
  process.env.POOLPILOT_TASK_QUEUE = QUEUE;
  spawnWorkerProcess(QUEUE, 'observability-worker', spawned, { POOLPILOT_METRICS_PORT: String(TEST_LAB.ports!.metrics) });
});

afterAll(async () => {
  // No member of this cluster may stay in the shared backend: later tests load the VIP.
  await deleteCluster(client, CLUSTER, { scaleToZero: true }).catch(() => undefined);
  await client.workflow.getHandle(`autoscaler:${CLUSTER}`).result().catch(() => undefined);
  // Gone before the next file: its metrics port is the lab's first worker slot, which the scenario's worker takes.
  await Promise.all([...spawned].map((p) => new Promise((r) => (p.exitCode !== null ? r(undefined) : (p.once('exit', r), p.kill('SIGTERM'))))));
  await conn?.close();
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
  expect(vsphereVms(`${CLUSTER}-`)).toEqual([]);
});

test('the shipped alert rules pass promtool check rules, and every dashboard query parses', () => {
  expect(execFileSync(promtool(), ['check', 'rules', RULES], { encoding: 'utf8' })).toMatch(/SUCCESS: 5 rules found/);
  const alerts = (YAML.parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; for?: string }[] }[] }).groups.flatMap((g) => g.rules);
  expect(alerts.map((r) => [r.alert, r.for ?? null])).toEqual([
    ['PoolpilotAutoscalerError', '5m'],
    ['PoolpilotScalingSuspended', null],
    ['PoolpilotPinnedAtMax', '15m'],
    ['PoolpilotRepeatedRunFailures', null],
    ['PoolpilotMetricSourceDown', '5m'],
  ]);
  // Each panel query as a recording rule: promtool parses it with Prometheus's own parser ($__rate_interval is
  // Grafana's; $cluster a variable).
  const exprs = dashboardQueries();
  expect(exprs.length).toBeGreaterThanOrEqual(10);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pp-dash-')), 'queries.yml');
  writeFileSync(file, YAML.stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query${i}`, expr })) }] }));
  expect(execFileSync(promtool(), ['check', 'rules', file], { encoding: 'utf8' })).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  // A broken query is caught the same way (the check can fail).
  writeFileSync(file, YAML.stringify({ groups: [{ name: 'bad', rules: [{ record: 'bad', expr: 'sum by (cluster (poolpilot_cluster_members)' }] }] }));
  expect(() => execFileSync(promtool(), ['check', 'rules', file], { stdio: 'pipe' })).toThrow();
});

test("a worker's /metrics after real runs: cluster size, runs by outcome, step durations, decisions, poll lag, and the SDK's own metrics; Prometheus scrapes it", async () => {
  const raw = rawSpecFor(CLUSTER, {
    min: 1,
    max: 3,
    metrics: [{ name: 'conns', source: { prometheus: { query: `avg(haproxy_server_current_sessions{proxy="web",server=~"${CLUSTER}-.*"}) or vector(0)` } }, target: { value: 50 } }],
    autoscaling: { pollInterval: '1s', reconcileInterval: '2s', scaleOutCooldown: '0s', scaleInCooldown: '60s', scaleInStabilization: '60s' },
  });
  await applyCluster(client, parseClusterSpec(raw));
  await eventually('the first member', 60_000, async () => ((await waitIdle(client, CLUSTER)).current === 1 ? true : undefined));
  await requestScale(client, CLUSTER, 'scale-out', 1, 'test');
  expect((await waitIdle(client, CLUSTER, 60_000)).current).toBe(2);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(2);

  const text = await eventually('the worker reporting 2 members', 20_000, async () => {
    const t = await (await fetch(METRICS)).text();
    return /^poolpilot_cluster_members\{cluster="obs",kind="current"\} 2$/m.test(t) && /^poolpilot_poll_lag_seconds_count [1-9]\d*$/m.test(t) ? t : undefined;
  });
  expect(text).toMatch(/^poolpilot_cluster_members\{cluster="obs",kind="max"\} 3$/m);
  expect(text).toMatch(/^poolpilot_cluster_members\{cluster="obs",kind="min"\} 1$/m);
  expect(text).toMatch(/^poolpilot_cluster_phase\{cluster="obs",phase="ACTIVE"\} 1$/m);
  expect(text).toMatch(/^poolpilot_metric_up\{cluster="obs",metric="conns"\} 1$/m);
  expect(text).toMatch(/^poolpilot_cluster_scaling_suspended\{cluster="obs",kind="scale-out"\} 0$/m);
  expect(text).toMatch(/^poolpilot_scaling_runs_total\{cluster="obs",kind="scale-out",outcome="succeeded"\} 2$/m);
  expect(text).toMatch(/^poolpilot_step_duration_seconds_count\{step="clone",activity="cloneVm",outcome="succeeded"\} 2$/m);
  expect(text).toMatch(/^poolpilot_step_duration_seconds_count\{step="join",activity="waitPoolMemberHealthy",outcome="succeeded"\} 2$/m);
  expect(text).toMatch(/^poolpilot_decisions_total\{cluster="obs",action="scale-out",source="manual"\} 1$/m);
  expect(text).toMatch(/^poolpilot_poll_lag_seconds_count [1-9]\d*$/m);
  // The Temporal SDK's own worker metrics (Runtime telemetry), on the same endpoint.
  expect(text).toMatch(/^temporal_workflow_task_schedule_to_start_latency_count\{.*\} [1-9]\d*/m);
  expect(text).toMatch(/^temporal_request_total\{.*\} [1-9]\d*/m);
  expect(text).toMatch(/^temporal_worker_task_slots_available\{.*\} \d+/m);

  expect(backendServers(`${CLUSTER}-`)).toHaveLength(2);
  // The lab's Prometheus scrapes it (job poolpilot) and has loaded the alert rules.
  const prom = lab().prometheusUrl!;
  await eventually('Prometheus sees the scraped gauge', 20_000, async () => {
    const r = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent('poolpilot_cluster_members{cluster="obs",kind="current"}')}`)).json()) as { data: { result: { metric: { job: string }; value: [number, string] }[] } };
    return r.data.result.some((x) => x.metric.job === 'poolpilot' && x.value[1] === '2') ? true : undefined;
  });
  const rules = (await (await fetch(`${prom}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
  const loaded = rules.data.groups.flatMap((g) => g.rules);
  expect(loaded.map((r) => r.name).sort()).toEqual(['PoolpilotAutoscalerError', 'PoolpilotMetricSourceDown', 'PoolpilotPinnedAtMax', 'PoolpilotRepeatedRunFailures', 'PoolpilotScalingSuspended']);
  // Every dashboard query runs on the real Prometheus.
  for (const expr of dashboardQueries()) {
    const r = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; error?: string };
    expect([expr, r.status, r.error ?? null]).toEqual([expr, 'success', null]);
  }
});

function dashboardQueries(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  return dash.panels.flatMap((p) => p.targets.map((t) => t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$cluster/g, '.*')));
}
