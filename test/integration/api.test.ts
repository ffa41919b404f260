// The HTTP API on the lab: named tokens and roles (401 / 403), the audit trail in the cluster's history, strict JSON
// counts and hostile requests (400 / 413 / 404, and the service stays up), /openapi.json against the real routes,
// and the API's /metrics. Outcomes are checked on vSphere (govc) and HAProxy's socket as well as in the replies.
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/client/api';
import { QUERY_DEADLINE_MS, waitIdle } from '../../src/client/clusters';
import { parseClusterSpecValue } from '../../src/config/load';
import { createToken, loadTokens } from '../../src/config/tokens';
import { ApiMetrics } from '../../src/telemetry/metrics';
import type { AutoscalerStatus } from '../../src/workflows/autoscaler-messages';
import { backendServers, eventually, rawSpecFor, startWorker, vsphereVms, type TestWorker } from './harness';
import { hostileTexts, hostileValues } from '../hostile-specs';

const CLUSTER = 'apiweb';
let w: TestWorker;
let app: FastifyInstance;
let base: string;
const tok: Record<'root' | 'team' | 'viewer' | 'other', string> = { root: '', team: '', viewer: '', other: '' };

async function call(method: string, url: string, o: { token?: string; body?: unknown; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const body = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
  if (body !== undefined) headers['content-type'] = o.type ?? 'application/json';
  // Bounded: a request the API never answers fails naming itself instead of running into the test's timeout.
  const r = await fetch(base + url, { method, headers, body, signal: AbortSignal.timeout(60_000) }).catch((err: unknown) => {
    throw new Error(`${method} ${url}: no answer from the API (${(err as Error).message})`);
  });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON (metrics) */
  }
  return { status: r.status, json, text };
}

const spec = () => rawSpecFor(CLUSTER, { min: 1, max: 3, metrics: [], autoscaling: { pollInterval: '1s', reconcileInterval: '2s', scaleOutCooldown: '0s', scaleInCooldown: '0s' } });

beforeAll(async () => {
  w = await startWorker('test-api');
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pp-api-')), 'tokens.yaml');
  tok.root = createToken(file, 'root', ['*=admin']);
  tok.team = createToken(file, 'team-web', ['api*=operator', '*=viewer']);
  tok.viewer = createToken(file, 'watcher', ['api*=viewer']);
  tok.other = createToken(file, 'team-db', ['db*=admin']);
  app = await buildApi(w.client, { tokens: loadTokens(file), metrics: new ApiMetrics() });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  // No member of this cluster may stay in the shared backend: later tests load the VIP.
  const deleted = await call('DELETE', `/clusters/${CLUSTER}?scaleToZero=true`, { token: tok.root }).catch(() => undefined);
  if (deleted?.status === 202) await w.client.workflow.getHandle(`autoscaler:${CLUSTER}`).result();
  await app?.close();
  await w?.stop();
  expect(vsphereVms(`${CLUSTER}-`)).toEqual([]);
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
});

test('roles: 401 without a valid token, 403 with one that lacks the right; admin applies, the team scales, and each request names its token in the history', async () => {
  expect((await call('POST', '/clusters', { body: spec() })).status).toBe(401);
  expect((await call('POST', '/clusters', { body: spec(), token: 'pp_not-a-token' })).status).toBe(401);
  const teamApply = await call('POST', '/clusters', { body: spec(), token: tok.team });
  expect([teamApply.status, teamApply.json.error]).toEqual([403, 'token team-web is not admin on cluster apiweb']);
  // Nothing was started by the refused requests.
  expect((await call('GET', `/clusters/${CLUSTER}`, { token: tok.root })).status).toBe(404);

  const applied = await call('POST', '/clusters', { body: spec(), token: tok.root });
  expect(applied.status).toBe(200);
  expect(applied.json).toEqual({ started: true, changed: [] });
  await eventually('the first member', 90_000, async () => ((await waitIdle(w.client, CLUSTER, 90_000)).current === 1 ? true : undefined));

  // Reads: the viewer and the team see it; a token with no role on it neither reads it nor lists it.
  expect((await call('GET', `/clusters/${CLUSTER}`, { token: tok.viewer })).status).toBe(200);
  const denied = await call('GET', `/clusters/${CLUSTER}`, { token: tok.other });
  expect(denied.status).toBe(403);
  expect(denied.json.error).toBe('token team-db has no role on cluster apiweb; viewer is needed');
  const listed = await call('GET', '/clusters', { token: tok.other });
  expect(listed.status).toBe(200);
  expect((listed.json as unknown as { cluster: string }[]).map((c) => c.cluster)).not.toContain(CLUSTER);
  expect(((await call('GET', '/clusters', { token: tok.viewer })).json as unknown as { cluster: string }[]).map((c) => c.cluster)).toContain(CLUSTER);

  // Operate: the viewer may not, the team may.
  const viewerScale = await call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.viewer, body: { out: 1 } });
  expect(viewerScale.status).toBe(403);
  expect(viewerScale.json.error).toBe('token watcher is only viewer on cluster apiweb; operator is needed');
  const scaled = await call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.team, body: { out: 1 } });
  expect(scaled.status).toBe(202);
  expect(scaled.json).toMatchObject({ accepted: true, kind: 'scale-out', n: 1, projected: 2 });
  const st = await waitIdle(w.client, CLUSTER, 60_000);
  expect(st.current).toBe(2);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(2);
  expect(backendServers(`${CLUSTER}-`)).toHaveLength(2);
  expect((await call('POST', `/clusters/${CLUSTER}/pause`, { token: tok.team })).json).toEqual({ paused: true });
  expect((await call('POST', `/clusters/${CLUSTER}/resume`, { token: tok.team })).json).toEqual({ paused: false });
  expect((await call('DELETE', `/clusters/${CLUSTER}`, { token: tok.team })).status).toBe(403);

  // The audit trail: the history names the token of each request.
  const history = (await call('GET', `/clusters/${CLUSTER}/history`, { token: tok.viewer })).json as unknown as Pick<AutoscalerStatus, 'decisions' | 'runs'>;
  const out = history.decisions.find((d) => d.action === 'scale-out' && d.source === 'manual');
  expect(out?.reason).toBe('scale-out 1 requested by api [token team-web]');
  expect(history.decisions.filter((d) => d.by === 'team-web').map((d) => d.action)).toEqual(expect.arrayContaining(['pause', 'resume']));
  expect(history.decisions.find((d) => d.action === 'pause')?.reason).toBe('automatic decisions paused [token team-web]');
  expect(history.runs.some((r) => r.workflowId === out?.workflowId && r.kind === 'scale-out')).toBe(true);
});

test('bad input: counts must be JSON integers, one of out/in/desired; malformed, oversized and unrouted requests; nothing changes', async () => {
  const before = await waitIdle(w.client, CLUSTER, 60_000);
  const scale = (body: unknown, raw?: string) => call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.team, ...(raw !== undefined ? { raw } : { body }) });
  const cases: [unknown, number, RegExp][] = [
    [{ out: '3' }, 400, /^out must be a JSON integer, not "3"$/],
    [{ out: 1.5 }, 400, /^out must be a whole number, not 1.5$/],
    [{ in: -1 }, 400, /^in must be at least 1, not -1$/],
    [{ desired: -2 }, 400, /^desired must be at least 0, not -2$/],
    [{ out: 1, in: 1 }, 400, /give exactly one of/],
    [{}, 400, /give exactly one of/],
    [{ up: 1 }, 400, /up/],
    [[1], 400, /object/],
    [{ out: null }, 400, /^out must be a JSON integer, not null$/],
  ];
  for (const [body, status, message] of cases) {
    const r = await scale(body);
    expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
    expect(String(r.json.error)).toMatch(message);
  }
  const malformed = await scale(undefined, '{"out": 1');
  expect(malformed.status).toBe(400);
  expect(String(malformed.json.error)).toMatch(/not valid JSON/);
  const big = await call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.team, raw: JSON.stringify({ out: 1, pad: 'x'.repeat(2 << 20) }) });
  expect(big.status).toBe(413);
  const form = await call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.team, raw: 'out=1', type: 'application/x-www-form-urlencoded' });
  expect(form.status).toBe(415);
  expect((await call('GET', '/nowhere', { token: tok.root })).status).toBe(404);
  expect((await call('PUT', `/clusters/${CLUSTER}`, { token: tok.root })).status).toBe(404);
  const unknown = await call('POST', '/clusters/nosuch/scale', { token: tok.root, body: { out: 1 } });
  expect(unknown.status).toBe(404);
  expect(unknown.json.error).toMatch(/unknown cluster "nosuch"/);
  expect((await call('POST', '/clusters/Bad_Name/scale', { token: tok.root, body: { out: 1 } })).status).toBe(400);
  const overMax = await scale({ out: 5 });
  expect(overMax.status).toBe(422);
  expect(overMax.json.error).toMatch(/above max 3/);
  const badSpec = await call('POST', '/clusters', { token: tok.root, raw: 'name: [', type: 'application/yaml' });
  expect(badSpec.status).toBe(400);
  expect(badSpec.json.error).toMatch(/not valid YAML or JSON/);
  const alert = await call('POST', `/webhooks/alertmanager/${CLUSTER}`, { token: tok.team, body: { alerts: [{ status: 'firing', labels: { alertname: 'X', poolpilot_action: 'scale_out', poolpilot_count: 'two' } }] } });
  expect(alert.status).toBe(400);
  expect(alert.json.error).toBe('alert X: poolpilot_count must be a whole number, not "two"');

  // A burst of hostile requests, 40 at a time: every one is answered 4xx, and the API still serves.
  const hostile = [
    () => scale({ out: '3' }),
    () => scale(undefined, '{{{{'),
    () => call('POST', `/clusters/${CLUSTER}/scale`, { token: 'pp_wrong', body: { out: 1 } }),
    () => call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.viewer, body: { out: 1 } }),
    () => call('GET', `/no/such/${'a'.repeat(2000)}`, { token: tok.root }),
    () => call('POST', `/clusters/${CLUSTER}/scale`, { token: tok.team, raw: 'x'.repeat(1.5 * (1 << 20)) }),
    () => call('POST', `/webhooks/alertmanager/${CLUSTER}`, { token: tok.team, body: { alerts: 'nope' } }),
    () => call('POST', `/v1/webhooks/${CLUSTER}/trigger?action=DROP_TABLES`, { token: tok.team, body: {} }),
  ];
  const statuses: number[] = [];
  for (let round = 0; round < 10; round++) {
    const batch = await Promise.all(Array.from({ length: 40 }, (_, i) => hostile[(round * 40 + i) % hostile.length]!().then((r) => r.status, () => 0)));
    statuses.push(...batch);
  }
  expect(statuses).toHaveLength(400);
  expect(statuses.filter((s) => s < 400 || s >= 500)).toEqual([]);
  expect((await call('GET', '/healthz')).status).toBe(200);
  const after = await waitIdle(w.client, CLUSTER, 60_000);
  expect([after.current, after.queue.length, after.runs.length]).toEqual([before.current, 0, before.runs.length]);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(before.current);
});

test('a sweep of hostile input on every route: truncated, nested, huge, wrong types, unicode names; each a 4xx with a message, never an internal error, and the cluster unchanged', async () => {
  const before = await waitIdle(w.client, CLUSTER, 60_000);
  const specBefore = await w.client.workflow.getHandle(`autoscaler:${CLUSTER}`).query('spec');
  const valid = spec();
  const deep = `{"a":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_001)}`;
  const c = `/clusters/${CLUSTER}`;
  const requests: [string, () => ReturnType<typeof call>][] = [
    ...hostileTexts(valid).map(([name, text]): [string, () => ReturnType<typeof call>] => [`POST /clusters (YAML): ${name}`, () => call('POST', '/clusters', { token: tok.root, raw: text, type: 'application/yaml' })]),
    ...hostileValues(valid).map(([name, value]): [string, () => ReturnType<typeof call>] => [`POST /clusters (JSON): ${name}`, () => call('POST', '/clusters', { token: tok.root, body: value })]),
    ['POST /clusters: 20,000 levels of JSON (80 KB)', () => call('POST', '/clusters', { token: tok.root, raw: `{"name":"${CLUSTER}","vsphere":${deep}}` })],
    ['scale: 20,000 levels of JSON', () => call('POST', `${c}/scale`, { token: tok.root, raw: deep })],
    ['scale: truncated', () => call('POST', `${c}/scale`, { token: tok.root, raw: '{"out":' })],
    ['scale: a count as a map', () => call('POST', `${c}/scale`, { token: tok.root, body: { out: { n: 1 } } })],
    ['scale: a huge count', () => call('POST', `${c}/scale`, { token: tok.root, body: { out: 1e300 } })],
    ['scale: a unicode cluster name', () => call('POST', `/clusters/${encodeURIComponent('wéb💥')}/scale`, { token: tok.root, body: { out: 1 } })],
    ['status: a unicode cluster name', () => call('GET', `/clusters/${encodeURIComponent('wéb💥')}`, { token: tok.root })],
    ['hooks: wrong types', () => call('POST', `${c}/hooks`, { token: tok.root, body: { member: 1, hook: [], result: 'MAYBE' } })],
    ['hooks: nested', () => call('POST', `${c}/hooks`, { token: tok.root, raw: `{"member":${deep}}` })],
    ['delete: scaleToZero=maybe', () => call('DELETE', `${c}?scaleToZero=maybe`, { token: tok.root })],
    ['alertmanager: 101 alerts', () => call('POST', `/webhooks/alertmanager/${CLUSTER}`, { token: tok.root, body: { alerts: Array.from({ length: 101 }, () => ({ status: 'firing', labels: { alertname: 'X', poolpilot_action: 'scale_out' } })) } })],
    ['alertmanager: labels that are not strings', () => call('POST', `/webhooks/alertmanager/${CLUSTER}`, { token: tok.root, body: { alerts: [{ status: 'firing', labels: { alertname: { a: 1 } } }] } })],
    ['alertmanager: nested', () => call('POST', `/webhooks/alertmanager/${CLUSTER}`, { token: tok.root, raw: `{"alerts":[${deep}]}` })],
    ['senlin receiver: a count as a list', () => call('POST', `/v1/webhooks/${CLUSTER}/trigger?action=CLUSTER_SCALE_OUT`, { token: tok.root, body: { params: { count: [1, 2] } } })],
    ['senlin receiver: nested params', () => call('POST', `/v1/webhooks/${CLUSTER}/trigger?action=CLUSTER_SCALE_OUT`, { token: tok.root, raw: `{"params":${deep}}` })],
  ];
  for (const [name, send] of requests) {
    const r = await send();
    const error = String(r.json.error ?? '');
    expect([name, r.status >= 400 && r.status < 500, error.length > 0, /internal error|Maximum call stack/.test(error)]).toEqual([name, true, true, false]);
  }
  // The nesting is named, not a stack overflow.
  const nested = await call('POST', `${c}/scale`, { token: tok.root, raw: deep });
  expect([nested.status, nested.json.error]).toEqual([400, 'the JSON is nested more than 32 levels deep']);
  const after = await waitIdle(w.client, CLUSTER, 60_000);
  expect([after.current, after.queue.length, after.runs.length]).toEqual([before.current, 0, before.runs.length]);
  expect(await w.client.workflow.getHandle(`autoscaler:${CLUSTER}`).query('spec')).toEqual(specBefore);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(before.current);
  expect((await call('GET', '/healthz')).status).toBe(200);
});

test('a cluster whose workers are all down: listed with why within the read deadline, the others still listed; its status and a request to it a 503 naming the task queue, the request not sent', async () => {
  // An autoscaler on a task queue no worker polls: what a cluster looks like while its workers are down.
  const down = 'apidown';
  const handle = await w.client.workflow.start('autoscaler', {
    taskQueue: 'test-api-no-worker',
    workflowId: `autoscaler:${down}`,
    args: [{ spec: parseClusterSpecValue(rawSpecFor(down, { min: 0, max: 1, metrics: [] }), 'test').spec }],
  });
  try {
    const listed = await call('GET', '/clusters', { token: tok.root });
    expect(listed.status).toBe(200);
    const entries = listed.json as unknown as { cluster: string; phase: string; error?: string }[];
    expect(entries.find((c) => c.cluster === down)).toEqual({
      cluster: down,
      phase: 'NO_ANSWER',
      taskQueue: 'test-api-no-worker',
      error: `cluster "${down}": no worker answered within ${QUERY_DEADLINE_MS / 1000} s; is a poolpilot worker of task queue "test-api-no-worker" running?`,
    });
    expect(entries.find((c) => c.cluster === CLUSTER)).toMatchObject({ cluster: CLUSTER, current: 2 });
    const one = await call('GET', `/clusters/${down}`, { token: tok.root });
    expect([one.status, one.json.error]).toEqual([503, entries.find((c) => c.cluster === down)!.error]);
    // A request to it is not sent at all (an update nobody takes would wait without end, and might run much later).
    const scale = await call('POST', `/clusters/${down}/scale`, { token: tok.root, body: { out: 1 } });
    expect([scale.status, scale.json.error]).toEqual([503, `cluster "${down}": no worker polls task queue "test-api-no-worker", so nothing was sent and nothing changed; start a poolpilot worker of that queue and ask again`]);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowExecutionUpdateAdmittedEventAttributes || e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
  } finally {
    await handle.terminate('test over');
  }
});

test('/openapi.json documents exactly the routes the API serves, and /metrics counts requests by route and status', async () => {
  const doc = (await call('GET', '/openapi.json')).json as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
  expect(doc.openapi).toMatch(/^3\./);
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)).sort();
  expect(documented).toEqual(
    [
      'GET /clusters', 'POST /clusters', 'GET /clusters/:name', 'DELETE /clusters/:name', 'GET /clusters/:name/history', 'POST /clusters/:name/scale',
      'POST /clusters/:name/pause', 'POST /clusters/:name/resume', 'POST /clusters/:name/hooks', 'POST /webhooks/alertmanager/:name', 'POST /v1/webhooks/:name/trigger',
      'DELETE /clusters/:name/members/:member',
    ].sort(),
  );
  // Each documented route is served (not 404) by the running API.
  for (const route of documented) {
    const [method, p] = route.split(' ') as [string, string];
    expect(app.hasRoute({ method: method as 'GET', url: p })).toBe(true);
    const r = await call(method, p.replace(':name', 'nosuch'), { token: tok.root, ...(method === 'POST' ? { body: {} } : {}) });
    expect([route, r.status === 404 && !/unknown cluster/.test(String(r.json.error))]).toEqual([route, false]);
  }
  // The scale body schema in the document is the one enforced: integer counts.
  const scaleBody = JSON.stringify(doc.paths['/clusters/{name}/scale']!.post!.requestBody);
  expect(scaleBody).toMatch(/"out":\{"type":"integer"/);

  const metrics = await call('GET', '/metrics');
  expect(metrics.status).toBe(200);
  expect(metrics.text).toMatch(/^poolpilot_api_requests_total\{method="POST",route="\/clusters\/:name\/scale",status="400"\} \d+$/m);
  expect(metrics.text).toMatch(/^poolpilot_api_requests_total\{method="POST",route="\/clusters\/:name\/scale",status="202"\} 1$/m);
  expect(metrics.text).toMatch(/^poolpilot_api_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m);
});
