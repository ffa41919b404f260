// The autoscaler on the lab: real traffic through the HAProxy VIP, real Prometheus, outcomes checked on HAProxy's socket and govc.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/config/settings';
import { labUp } from '../../src/lab/lab';
import { findTool } from '../../src/lab/tools';
import { readLabState } from '../../src/lab/state';
import { parseClusterSpec } from '../../src/config/spec';
import { buildApi } from '../../src/client/api';
import { TokenRegistry } from '../../src/config/tokens';
import { applyCluster, clusterStatus, requestScale, setPaused, waitIdle } from '../../src/client/clusters';
import { applySpecUpdate, specQuery, type AutoscalerStatus } from '../../src/workflows/autoscaler-messages';
import { backendServers, endCluster, eventually, haproxy, lab, rawSpecFor, startWorker, TEST_LAB, vsphereVms, type TestWorker } from './harness';

const run = promisify(execFile);
const CLUSTER = 'auto';
let w: TestWorker;

const raw = (over: Record<string, unknown> = {}) =>
  rawSpecFor(CLUSTER, {
    min: 1,
    max: 4,
    metrics: [{ name: 'conns', source: { prometheus: { query: `avg(haproxy_server_current_sessions{proxy="web",server=~"${CLUSTER}-.*"})` } }, target: { value: 2 } }],
    autoscaling: {
      pollInterval: '1s',
      scaleOutCooldown: '2s',
      scaleInCooldown: '4s',
      scaleInStabilization: '4s',
      maxStepIn: 1,
      reconcileInterval: '2s',
    },
    ...over,
  });
const apply = (r: Record<string, unknown>) => applyCluster(w.client, parseClusterSpec(r));
const status = () => clusterStatus(w.client, CLUSTER);
const members = (st: AutoscalerStatus) => st.members.map((m) => m.name).sort();

beforeAll(async () => {
  w = await startWorker('test-autoscaler');
  await apply(raw());
  await eventually('the first member', 60_000, async () => (await status()).current === 1 && (await waitIdle(w.client, CLUSTER)));
});
afterAll(async () => {
  if (w) await endCluster(w.client, CLUSTER);
  await w?.stop();
  expect(vsphereVms(`${CLUSTER}-`)).toEqual([]);
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
});

test('load rises → the pool grows; load stops → it shrinks back after the cooldown', async () => {
  const wrk = run(findTool('wrk')!, ['-t1', '-c24', '-d20s', lab().vipUrl], { timeout: 40_000 });
  const grown = await eventually('a scale-out under load', 30_000, async () => {
    const st = await status();
    return st.current >= 2 ? st : undefined;
  });
  expect(grown.decisions.some((d) => d.action === 'scale-out' && /conns [\d.]+ vs target 2\/member/.test(d.reason))).toBe(true);
  const { stdout } = await wrk;
  expect(stdout).toMatch(/requests in/);
  // The world agrees: more than one server for this cluster in HAProxy, more than one VM in vSphere.
  expect(backendServers(`${CLUSTER}-`).length).toBeGreaterThanOrEqual(2);
  expect(vsphereVms(`${CLUSTER}-`).length).toBeGreaterThanOrEqual(2);

  const loadStopped = Date.now();
  const back = await eventually('the pool back at min', 90_000, async () => {
    const st = await status();
    return st.current === 1 && !st.currentOperation ? st : undefined;
  });
  const ins = back.runs.filter((r) => r.kind === 'scale-in' && Date.parse(r.startedAt) >= loadStopped - 2000);
  expect(ins.length).toBeGreaterThanOrEqual(1);
  // Each scale-in started no sooner than the scale-in cooldown after the action before it ended.
  const runs = back.runs;
  for (const r of ins) {
    const prev = runs[runs.indexOf(r) - 1];
    expect(prev?.endedAt).toBeDefined();
    expect(Date.parse(r.startedAt) - Date.parse(prev!.endedAt!)).toBeGreaterThanOrEqual(4000 - 1000);
  }
  expect(backendServers(`${CLUSTER}-`)).toHaveLength(1);
  expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(1);
});

test('an out-of-range or malformed request is rejected with a clear error and changes nothing', async () => {
  const before = await status();
  await expect(requestScale(w.client, CLUSTER, 'scale-out', 10, 'test')).rejects.toThrow(/scale-out by 10 would make 11 members, above max 4 of cluster auto/);
  await expect(requestScale(w.client, CLUSTER, 'scale-in', 1, 'test')).rejects.toThrow(/would leave 0 members, below min 1/);
  await expect(requestScale(w.client, CLUSTER, 'set-desired', 9, 'test')).rejects.toThrow(/desired 9 is outside \[min 1, max 4\]/);
  await expect(requestScale(w.client, CLUSTER, 'scale-out', 1.5, 'test')).rejects.toThrow(/whole number/);
  await expect(requestScale(w.client, 'nosuch', 'scale-out', 1, 'test')).rejects.toThrow(/unknown cluster "nosuch"/);
  // The same through the installed `poolpilot` command (package.json bin): one line, exit 2.
  const cli = await run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'poolpilot.js'), 'cluster', 'scale', CLUSTER, '--out', '10'], {
    env: { ...process.env, TEMPORAL_ADDRESS: lab().temporalAddress, TEMPORAL_NAMESPACE: lab().temporalNamespace },
  }).catch((e: { code: number; stderr: string }) => e);
  expect(cli).toMatchObject({ code: 2 });
  expect((cli as { stderr: string }).stderr.trim()).toMatch(/^poolpilot: .*scale-out by 10 would make 11 members, above max 4 of cluster auto/);
  // A malformed spec is refused before it leaves the client, naming the wrong fields.
  const malformed = (() => {
    try {
      parseClusterSpec(raw({ min: 3, max: 2, provisioningConcurrency: 0 }));
    } catch (err) {
      return (err as Error).message;
    }
  })();
  expect(malformed).toMatch(/min: min 3 is above max 2/);
  expect(malformed).toMatch(/provisioningConcurrency: /);
  // A valid spec of another cluster is refused by the autoscaler's validator.
  const refused = await w.client.workflow
    .getHandle(`autoscaler:${CLUSTER}`)
    .executeUpdate(applySpecUpdate, { args: [parseClusterSpec(raw({ name: 'other' }))] })
    .catch((e: Error) => e);
  expect(refused).toBeInstanceOf(Error);
  const text = JSON.stringify((refused as Error & { cause?: Error }).cause?.message ?? (refused as Error).message);
  expect(text).toMatch(/spec is for cluster \\"other\\", but this autoscaler runs \\"auto\\"/);
  const after = await status();
  expect(after.runs).toHaveLength(before.runs.length);
  expect(members(after)).toEqual(members(before));
  expect(after.max).toBe(4);
});

test('apply --dry-run shows what would change, field by field, and changes nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pp-dry-'));
  const cliEnv = { ...process.env, TEMPORAL_ADDRESS: lab().temporalAddress, TEMPORAL_NAMESPACE: lab().temporalNamespace };
  const dryRun = async (r: Record<string, unknown>) => {
    const file = path.join(dir, `${String(r.name)}.json`);
    writeFileSync(file, JSON.stringify(r));
    const { stdout } = await run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'poolpilot.js'), 'cluster', 'apply', '-f', file, '--dry-run', '--json'], { env: cliEnv });
    return JSON.parse(stdout) as { wouldStart: boolean; changes: { path: string; from?: unknown; to?: unknown }[] };
  };
  const before = await w.client.workflow.getHandle(`autoscaler:${CLUSTER}`).query(specQuery);
  const base = raw();
  const d = await dryRun({ ...base, max: 3, autoscaling: { ...(base.autoscaling as object), scaleOutCooldown: '5s' } });
  expect(d.wouldStart).toBe(false);
  expect(d.changes).toEqual([
    { path: 'max', from: 4, to: 3 },
    { path: 'autoscaling.scaleOutCooldown', from: 2000, to: 5000 },
  ]);
  // The same spec again: no change; a spec of a cluster that does not run: it would start, and nothing starts.
  expect((await dryRun(base)).changes).toEqual([]);
  expect(await dryRun({ ...base, name: 'dryother' })).toMatchObject({ wouldStart: true, changes: [] });
  await expect(w.client.workflow.getHandle('autoscaler:dryother').describe()).rejects.toThrow(/not found/i);
  expect(await w.client.workflow.getHandle(`autoscaler:${CLUSTER}`).query(specQuery)).toEqual(before);
  // The mutating commands' --json is the API's reply.
  const json = async (...args: string[]) => JSON.parse((await run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'poolpilot.js'), ...args, '--json'], { env: cliEnv })).stdout) as unknown;
  expect(await json('cluster', 'pause', CLUSTER)).toEqual({ paused: true });
  expect((await status()).paused).toBe(true);
  expect(await json('cluster', 'resume', CLUSTER)).toEqual({ paused: false });
  expect((await status()).paused).toBe(false);
});

test('member remove: the named member is drained and destroyed through the queue; --replace keeps the size; below min is refused', async () => {
  const cliEnv = { ...process.env, TEMPORAL_ADDRESS: lab().temporalAddress, TEMPORAL_NAMESPACE: lab().temporalNamespace };
  const cli = (...args: string[]) =>
    run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'poolpilot.js'), ...args], { env: cliEnv }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  // Paused: the policy (no load: it wants min) must not move the pool while the operator does.
  await setPaused(w.client, CLUSTER, true);
  try {
    await requestScale(w.client, CLUSTER, 'set-desired', 3, 'test');
    let st = await waitIdle(w.client, CLUSTER, 120_000);
    expect(st.current).toBe(3);
    const [first, second, third] = members(st) as [string, string, string];

    const removed = await cli('member', 'remove', CLUSTER, first, '--json');
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ accepted: true, kind: 'scale-in', n: 1, projected: 2 });
    st = await waitIdle(w.client, CLUSTER, 120_000);
    // Seen by vSphere (govc) and HAProxy (its socket), not by poolpilot alone.
    expect(vsphereVms(`${CLUSTER}-`).sort()).toEqual([second, third].sort());
    expect(backendServers(`${CLUSTER}-`).sort()).toEqual([second, third].sort());
    expect(st.runs.at(-1)).toMatchObject({ kind: 'scale-in', count: 1 });

    const replaced = await cli('member', 'remove', CLUSTER, second, '--replace', '--json');
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ accepted: true, projected: 2 });
    st = await waitIdle(w.client, CLUSTER, 120_000);
    const now = vsphereVms(`${CLUSTER}-`);
    expect(now).toHaveLength(2);
    expect(now).toContain(third);
    expect(now).not.toContain(second);
    expect(backendServers(`${CLUSTER}-`).sort()).toEqual(now.sort());
    // The new member joined before the named one went: a scale-out, then a scale-in of it.
    expect(st.runs.slice(-2).map((r) => [r.kind, r.count])).toEqual([['scale-out', 1], ['scale-in', 1]]);

    // Both that remain, without --replace: below min 1, refused, nothing changed. A name that is not a member: refused.
    const belowMin = await cli('member', 'remove', CLUSTER, ...now);
    expect(belowMin.code).toBe(2);
    expect(belowMin.stderr.trim()).toMatch(/^poolpilot: removing .* would leave 0 members, below min 1 of cluster auto; --replace puts a new member in each one's place$/);
    const unknown = await cli('member', 'remove', CLUSTER, 'auto-999-0');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/auto-999-0 is not a member of cluster auto/);
    expect(vsphereVms(`${CLUSTER}-`).sort()).toEqual(now.sort());
  } finally {
    await setPaused(w.client, CLUSTER, false);
    await requestScale(w.client, CLUSTER, 'set-desired', 1, 'test');
    await waitIdle(w.client, CLUSTER, 120_000);
  }
});

test('requests sent during an operation are queued and each served once', async () => {
  const before = await status();
  const a = await requestScale(w.client, CLUSTER, 'scale-out', 1, 'test');
  const b = await requestScale(w.client, CLUSTER, 'scale-out', 1, 'test');
  expect(a.projected).toBe(before.current + 1);
  expect(b.projected).toBe(before.current + 2);
  const st = await waitIdle(w.client, CLUSTER, 90_000);
  expect(st.current).toBe(before.current + 2);
  const newRuns = st.runs.slice(before.runs.length);
  expect(newRuns.map((r) => [r.kind, r.count])).toEqual([
    ['scale-out', 1],
    ['scale-out', 1],
  ]);
  expect(backendServers(`${CLUSTER}-`)).toHaveLength(before.current + 2);
  await requestScale(w.client, CLUSTER, 'set-desired', 1, 'test');
  expect((await waitIdle(w.client, CLUSTER, 90_000)).current).toBe(1);
});

test('pause stops automatic decisions only; resume restarts them', async () => {
  await setPaused(w.client, CLUSTER, true);
  const paused = await eventually('phase PAUSED', 10_000, async () => ((await status()).phase === 'PAUSED' ? true : undefined));
  expect(paused).toBe(true);
  // Under load, a paused autoscaler does not scale out by itself...
  const before = await status();
  await run(findTool('wrk')!, ['-t1', '-c24', '-d6s', lab().vipUrl], { timeout: 20_000 });
  const during = await status();
  expect(during.runs).toHaveLength(before.runs.length);
  // ...but a manual request still runs.
  await requestScale(w.client, CLUSTER, 'set-desired', 2, 'test');
  expect((await waitIdle(w.client, CLUSTER, 60_000)).current).toBe(2);
  await setPaused(w.client, CLUSTER, false);
  expect((await status()).paused).toBe(false);
  await requestScale(w.client, CLUSTER, 'set-desired', 1, 'test');
  expect((await waitIdle(w.client, CLUSTER, 90_000)).current).toBe(1);
});

test('Prometheus stopped → no scale-in, and the status says which metric failed and since when', async () => {
  await requestScale(w.client, CLUSTER, 'set-desired', 2, 'test');
  await waitIdle(w.client, CLUSTER, 60_000);
  const pid = readLabState(TEST_LAB.dataDir!)!.pids.prometheus!;
  process.kill(pid, 'SIGKILL');
  try {
    const st = await eventually('a failed metric in the status', 20_000, async () => {
      const s = await status();
      return s.metrics.conns?.error && s.metrics.conns.failingSince ? s : undefined;
    });
    expect(st.metrics.conns!.error).toMatch(/Prometheus at http:\/\/127\.0\.0\.1:29090 did not answer/);
    const runsBefore = st.runs.length;
    // Idle load would scale in within seconds; with the metric gone it must hold, poll after poll (counted, not timed).
    const later = await eventually('eight more polls', 60_000, async () => {
      const s = await status();
      return s.iterations >= st.iterations + 8 ? s : undefined;
    });
    expect(later.current).toBe(2);
    expect(later.runs).toHaveLength(runsBefore);
    expect(later.metrics.conns!.failingSince).toBe(st.metrics.conns!.failingSince);
    expect(later.decisions.some((d) => /conns unavailable/.test(d.reason))).toBe(true);
  } finally {
    await labUp(TEST_LAB, { log: () => undefined });
  }
  // With Prometheus back, the idle pool returns to min.
  await eventually('scale-in after Prometheus is back', 90_000, async () => {
    const s = await status();
    return s.current === 1 && !s.currentOperation ? s : undefined;
  });
});

test('members HAProxy lost (a reload drops dynamic servers) are registered again', async () => {
  const st = await waitIdle(w.client, CLUSTER);
  const [name] = members(st);
  haproxy(`set server web/${name} state maint`);
  haproxy(`del server web/${name}`);
  expect(backendServers(`${CLUSTER}-`)).toEqual([]);
  await eventually('the member back in HAProxy', 20_000, () => (backendServers(`${CLUSTER}-`).includes(name!) ? true : undefined));
  const after = await status();
  expect(after.decisions.some((d) => d.source === 'reconcile' && d.reason.includes(`${name}`) && /added again/.test(d.reason))).toBe(true);
});

test('continue-as-new keeps members, op numbers, runs and cooldowns', async () => {
  const before = await status();
  await apply(raw({ autoscaling: { ...(raw().autoscaling as object), continueAsNewAfter: 2, scaleOutCooldown: '10m' } }));
  // A scale-out starts the long scale-out cooldown, which must survive the new run.
  await requestScale(w.client, CLUSTER, 'scale-out', 1, 'test');
  const mid = await waitIdle(w.client, CLUSTER, 60_000);
  const after = await eventually('a new run of the autoscaler', 30_000, async () => {
    const s = await status();
    return s.runId !== before.runId && s.runId !== mid.runId ? s : undefined;
  });
  expect(members(after)).toEqual(members(mid));
  expect(after.runs.length).toBeGreaterThanOrEqual(mid.runs.length);
  expect(after.cooldown.scaleOutMs).toBeGreaterThan(60_000);
  expect(after.decisions.length).toBeGreaterThan(0);
  // Op numbers go on from where they were: the next run's VM names are new.
  await requestScale(w.client, CLUSTER, 'set-desired', 1, 'test');
  const done = await waitIdle(w.client, CLUSTER, 60_000);
  const ops = done.runs.map((r) => Number(r.workflowId.split(':')[2]));
  expect(new Set(ops).size).toBe(ops.length);
});

test('alarms obey the policy: ten notifications in a cooldown make one scale-out; an operator request still runs', async () => {
  // No metrics: alarms and operators are the only inputs. A 6 s scale-out cooldown, counted from the end of each run,
  // and none for scale-in.
  await apply(raw({ metrics: [], autoscaling: { ...(raw().autoscaling as object), scaleOutCooldown: '6s', scaleInCooldown: '0s' } }));
  await requestScale(w.client, CLUSTER, 'set-desired', 1, 'test');
  await waitIdle(w.client, CLUSTER, 60_000);
  // The runs before this test started cooldowns of their own.
  await eventually('the scale-out cooldown over', 20_000, async () => ((await status()).cooldown.scaleOutMs === 0 ? true : undefined));
  const server = await buildApi(w.client, { tokens: TokenRegistry.single('sekret-token-for-test') });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const post = (path: string, body: unknown, token = 'sekret-token-for-test') =>
    fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const firing = { version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'HighConns', poolpilot_action: 'scale_out' } }, { status: 'resolved', labels: { alertname: 'Old' } }] };
  try {
    expect((await post('/clusters/auto/scale', { out: 1 }, 'wrong')).status).toBe(401);
    const before = await status();
    // Alertmanager re-sends a firing alert at every group/repeat interval: ten of them, back to back.
    const replies = [];
    for (let i = 0; i < 10; i++) {
      const r = await post('/webhooks/alertmanager/auto', firing);
      expect(r.status).toBe(202);
      replies.push(((await r.json()) as { results: { alert: string; accepted?: boolean; ignored?: string; reason?: string }[] }).results);
    }
    expect(replies.filter((r) => r[0]!.accepted === true)).toHaveLength(1);
    expect(replies.every((r) => r[1]!.ignored === 'resolved')).toBe(true);
    // An operator's request in the same window still runs.
    await requestScale(w.client, CLUSTER, 'scale-out', 1, 'test');
    const st = await waitIdle(w.client, CLUSTER, 60_000);
    const newRuns = st.runs.slice(before.runs.length);
    expect(newRuns.map((r) => [r.kind, r.count])).toEqual([
      ['scale-out', 1],
      ['scale-out', 1],
    ]);
    expect(backendServers(`${CLUSTER}-`)).toHaveLength(3);
    const dropped = st.decisions.filter((d) => d.action === 'alarm-dropped');
    expect(dropped.length).toBeGreaterThanOrEqual(9);
    // The audit trail: the token that sent each alarm is named in the log.
    expect(dropped.every((d) => /^alarm HighConns \[token api-token\] dropped: (a scaling run is under way or queued|scale-out cooldown, \d+ s left)$/.test(d.reason) && d.by === 'api-token')).toBe(true);
    // The alarm keeps firing: once the cooldown is over it scales again, as a level-triggered alarm should.
    await new Promise((r) => setTimeout(r, 6500));
    const again = (await (await post('/webhooks/alertmanager/auto', firing)).json()) as { results: { accepted: boolean }[] };
    expect(again.results[0]!.accepted).toBe(true);
    expect((await waitIdle(w.client, CLUSTER, 60_000)).current).toBe(4);
    expect(vsphereVms(`${CLUSTER}-`)).toHaveLength(4);
    // Senlin-style receivers are alarms too: within the scale-out cooldown a scale-in is still taken (its own cooldown is 0).
    // Called as Senlin's receivers are (curl -X POST <alarm_url>): no body at all.
    const senlin = await fetch(`${base}/v1/webhooks/auto/trigger?action=CLUSTER_SCALE_IN&count=1`, { method: 'POST', headers: { authorization: 'Bearer sekret-token-for-test' } });
    expect(senlin.status).toBe(202);
    expect(((await senlin.json()) as { accepted: boolean }).accepted).toBe(true);
    expect((await waitIdle(w.client, CLUSTER, 60_000)).current).toBe(3);
    // Aodh calling a Senlin receiver's URL (?V=2 as Senlin's URLs carry) with its state-change body: "ok" changes
    // nothing; "alarm" is an alarm under the alarm's name, through the policy like any other.
    const aodh = (current: string) => ({ alarm_id: 'a1b2', alarm_name: 'HighLoad', severity: 'moderate', previous: current === 'alarm' ? 'ok' : 'alarm', current, reason: 'Transition to ' + current, reason_data: { type: 'threshold' } });
    const cleared = await post('/v1/webhooks/auto/trigger?V=2&action=CLUSTER_SCALE_OUT&count=1', aodh('ok'));
    expect(cleared.status).toBe(202);
    expect(await cleared.json()).toMatchObject({ accepted: false, code: 'AlarmNotFiring', reason: expect.stringMatching(/^aodh:HighLoad went alarm → ok: only a change into "alarm" scales; nothing was changed$/) });
    const firingAodh = await post('/v1/webhooks/auto/trigger?V=2&action=CLUSTER_SCALE_OUT&count=1', aodh('alarm'));
    expect(firingAodh.status).toBe(202);
    const aodhAnswer = (await firingAodh.json()) as { accepted: boolean };
    const afterAodh = await waitIdle(w.client, CLUSTER, 60_000);
    // Taken (a run to 4) or dropped by a cooldown, the log names the alarm either way (no other alarm has its name).
    expect(afterAodh.decisions.some((d) => /^alarm aodh:HighLoad \[token api-token\]/.test(d.reason))).toBe(true);
    expect(afterAodh.current).toBe(aodhAnswer.accepted ? 4 : 3);
    const tooMany = await post('/clusters/auto/scale', { out: 99 });
    expect(tooMany.status).toBe(422);
    expect(((await tooMany.json()) as { error: string }).error).toMatch(/above max 4/);
    expect((await post('/clusters/nosuch/scale', { out: 1 })).status).toBe(404);
    expect((await post('/clusters/auto/scale', { out: 'two' })).status).toBe(400);
    const list = (await (await fetch(`${base}/clusters`, { headers: { authorization: 'Bearer sekret-token-for-test' } })).json()) as { cluster: string }[];
    expect(list.map((c) => c.cluster)).toContain('auto');
  } finally {
    await server.close();
    await requestScale(w.client, CLUSTER, 'set-desired', 1, 'test');
    await waitIdle(w.client, CLUSTER, 60_000);
  }
});
