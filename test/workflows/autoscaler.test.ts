// The autoscaler workflow on a local Temporal server with mocked activities: queue, bounds, cooldowns, pause,
// delete, alarms, a failed run's phase, reconcile errors that clear, continue-as-new — in seconds, without the lab.
import type { WorkflowHandle } from '@temporalio/client';
import { autoscalingSchema } from '../../src/config/spec';
import { simulate } from '../../src/policy/backtest';
import type { AutoscalerInput, AutoscalerStatus, RequestInput, RequestResult } from '../../src/workflows/autoscaler-messages';
import { spec, until, withWorker, useLocalEnv, workerMetrics, World } from './world';

const local = useLocalEnv();

let seq = 0;
const fast = { pollInterval: '200ms', reconcileInterval: '200ms', scaleOutCooldown: 0, scaleInCooldown: 0, scaleInStabilization: 0 };
const metric = { name: 'conns', source: { haproxy: {} }, target: { value: 10 } };

async function start(world: World, over: Record<string, unknown> = {}) {
  const name = `c${++seq}`;
  const s = spec(name, { metrics: [metric], ...over, autoscaling: { ...fast, ...((over.autoscaling as object) ?? {}) } });
  const input: AutoscalerInput = { spec: s, searchAttributes: false };
  const handle = await local.env.client.workflow.start('autoscaler', { args: [input], taskQueue: `tq-${name}`, workflowId: `autoscaler:${name}` });
  return { name, handle, taskQueue: `tq-${name}` };
}
const status = (h: WorkflowHandle) => h.query<AutoscalerStatus>('status');
const request = (h: WorkflowHandle, r: RequestInput) => h.executeUpdate<RequestResult, [RequestInput]>('request', { args: [r] });
const idle = (h: WorkflowHandle, n?: number) =>
  until(`idle${n !== undefined ? ` at ${n}` : ''}`, 15_000, async () => {
    const st = await status(h);
    return !st.currentOperation && st.queue.length === 0 && (n === undefined || st.current === n) ? st : undefined;
  });

test('adopts to min, then runs queued operator requests once each, in order', async () => {
  const world = new World();
  const { name, handle, taskQueue } = await start(world, { metrics: [] });
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 1);
    world.cloneMs = 300;
    const a = await request(handle, { kind: 'scale-out', n: 2, source: 'test' });
    const b = await request(handle, { kind: 'scale-in', n: 1, source: 'test' });
    expect(a).toMatchObject({ accepted: true, projected: 3, position: 0 });
    expect(b).toMatchObject({ accepted: true, projected: 2, position: 1 });
    const st = await idle(handle, 2);
    expect(st.runs.map((r) => [r.kind, r.count])).toEqual([
      ['scale-out', 1],
      ['scale-out', 2],
      ['scale-in', 1],
    ]);
    expect(world.members(name)).toHaveLength(2);
    expect(st.phase).toBe('ACTIVE');
    // What the worker's /metrics got through the sink: the runs by outcome, the decisions, and the size once polled.
    await until('the size reported', 5000, async () => ((await workerMetrics.members.get()).values.some((v) => v.labels.cluster === name && v.labels.kind === 'current' && v.value === 2) ? true : undefined));
    const runs = (await workerMetrics.runs.get()).values.filter((v) => v.labels.cluster === name);
    expect(runs.map((v) => [v.labels.kind, v.labels.outcome, v.value]).sort()).toEqual([
      ['scale-in', 'succeeded', 1],
      ['scale-out', 'succeeded', 2],
    ]);
    const decisions = (await workerMetrics.decisions.get()).values.filter((v) => v.labels.cluster === name && v.labels.source === 'manual');
    expect(decisions.map((v) => [v.labels.action, v.value]).sort()).toEqual([
      ['scale-in', 1],
      ['scale-out', 1],
    ]);
    expect((await workerMetrics.phase.get()).values.find((v) => v.labels.cluster === name)?.labels.phase).toBe('ACTIVE');
  });
});

test('an out-of-range request is refused by the validator and changes nothing', async () => {
  const world = new World();
  const { handle, taskQueue } = await start(world, { metrics: [], max: 2 });
  await withWorker(local.env, world, taskQueue, async () => {
    const before = await idle(handle, 1);
    await expect(request(handle, { kind: 'scale-out', n: 5, source: 'test' })).rejects.toThrow();
    const refused = await request(handle, { kind: 'scale-out', n: 5, source: 'test' }).catch((e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(refused).toBe('scale-out by 5 would make 6 members, above max 2 of cluster c2 (1 after queued requests)');
    await expect(request(handle, { kind: 'set-desired', n: 1.5, source: 'test' })).rejects.toThrow();
    const after = await status(handle);
    expect(after.runs).toHaveLength(before.runs.length);
    expect(after.queue).toEqual([]);
  });
});

test('the policy scales out, holds in its cooldown with the code saying so, and scales out again after it', async () => {
  const world = new World();
  world.reading = { value: 25 };
  const { handle, taskQueue } = await start(world, { autoscaling: { scaleOutCooldown: '2s', maxStepOut: 1 } });
  await withWorker(local.env, world, taskQueue, async () => {
    const first = await until('the first policy scale-out', 10_000, async () => {
      const st = await status(handle);
      return st.runs.some((r) => r.kind === 'scale-out' && r.count === 1 && st.current === 2) ? st : undefined;
    });
    const holds = await until('a hold in the cooldown', 5000, async () => {
      const st = await status(handle);
      return st.decisions.find((d) => d.action === 'hold' && d.code === 'ScaleOutCooldown') ? st : undefined;
    });
    expect(holds.current).toBe(2);
    expect(holds.conditions.find((c) => c.type === 'AbleToScale')).toMatchObject({ status: 'True', reason: 'BackoffScaleOut' });
    const second = await until('the next scale-out after the cooldown', 10_000, async () => {
      const st = await status(handle);
      return st.current === 3 && !st.currentOperation ? st : undefined;
    });
    const outs = second.runs.filter((r) => r.kind === 'scale-out');
    const gap = Date.parse(outs[outs.length - 1]!.startedAt) - Date.parse(outs[outs.length - 2]!.endedAt!);
    expect(gap).toBeGreaterThanOrEqual(2000);
    expect(first.decisions.some((d) => d.code === 'MaxStep' && d.source === 'policy')).toBe(true);
  });
});

test('pause stops the policy, not operators; resume restarts it', async () => {
  const world = new World();
  const { handle, taskQueue } = await start(world);
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 1);
    await handle.executeUpdate('setPaused', { args: [true] });
    world.reading = { value: 40 };
    // Three polls read the high value while paused (counted, not timed: a busy machine only makes them later).
    const at = (await status(handle)).iterations;
    const paused = await until('three polls while paused', 30_000, async () => {
      const st = await status(handle);
      return st.iterations >= at + 3 ? st : undefined;
    });
    expect([paused.phase, paused.current]).toEqual(['PAUSED', 1]);
    expect(paused.conditions.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScalingDisabled' });
    await request(handle, { kind: 'set-desired', n: 2, source: 'test' });
    await idle(handle, 2);
    await handle.executeUpdate('setPaused', { args: [false] });
    // 40 per member over 2 members vs target 10 → 8 → capped at max 5.
    const resumed = await idle(handle, 5);
    expect(resumed.phase).toBe('ACTIVE');
    expect(resumed.conditions.find((c) => c.type === 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
  });
});

test('alarms: ten in a cooldown make one scale-out, an operator request still runs, the cooldown over one more is taken', async () => {
  const world = new World();
  const { name, handle, taskQueue } = await start(world, { metrics: [], autoscaling: { scaleOutCooldown: '2s' } });
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 1);
    // The adopting run (0 → 1) started a scale-out cooldown of its own.
    await new Promise((r) => setTimeout(r, 2200));
    const results: RequestResult[] = [];
    for (let i = 0; i < 10; i++) results.push(await request(handle, { kind: 'scale-out', n: 1, source: 'HighConns', origin: 'alarm' }));
    expect(results.filter((r) => r.accepted)).toHaveLength(1);
    const dropped = results.filter((r): r is Extract<RequestResult, { accepted: false }> => !r.accepted);
    expect(new Set(dropped.map((d) => d.code))).toEqual(new Set(dropped.map((d) => d.code).filter((c) => c === 'RunInProgress' || c === 'ScaleOutCooldown')));
    await idle(handle, 2);
    const inCooldown = await request(handle, { kind: 'scale-out', n: 1, source: 'HighConns', origin: 'alarm' });
    expect(inCooldown).toMatchObject({ accepted: false, code: 'ScaleOutCooldown' });
    expect((inCooldown as { reason: string }).reason).toMatch(/^alarm HighConns dropped: scale-out cooldown, \d s left$/);
    await request(handle, { kind: 'scale-out', n: 1, source: 'cli' });
    const afterOperator = await idle(handle, 3);
    expect(afterOperator.decisions.filter((d) => d.action === 'alarm-dropped').length).toBeGreaterThanOrEqual(10);
    await new Promise((r) => setTimeout(r, 2200));
    expect(await request(handle, { kind: 'scale-out', n: 1, source: 'HighConns', origin: 'alarm' })).toMatchObject({ accepted: true });
    const st = await idle(handle, 4);
    // The adopting run, the first alarm, the operator, the alarm after the cooldown.
    expect(st.runs.filter((r) => r.kind === 'scale-out').map((r) => r.count)).toEqual([1, 1, 1, 1]);
    expect(world.members(name)).toHaveLength(4);
  });
});

test('a run in which a member failed is an error until a run fully succeeds; a failed run compensates', async () => {
  const world = new World();
  const { name, handle, taskQueue } = await start(world, { metrics: [] });
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 1);
    world.unhealthy.add(`${name}-2-2`);
    await request(handle, { kind: 'scale-out', n: 2, source: 'test' });
    const partly = await idle(handle, 2);
    expect(partly.phase).toBe('ERROR');
    expect(partly.conditions.find((c) => c.type === 'AbleToScale')).toMatchObject({ status: 'False', reason: 'RunPartlyFailed' });
    expect(partly.lastError).toMatch(/1 joined, 1 failed: c\d+-2-2: pool member c\d+-2-2 did not pass its health check \[HealthTimeout\]/);
    world.cloneFails = true;
    await request(handle, { kind: 'scale-out', n: 1, source: 'test' });
    const failed = await idle(handle, 2);
    // A template that does not exist is a fault no retry mends: scale-out is suspended, with the fault as the reason.
    expect(failed.conditions.find((c) => c.type === 'AbleToScale')).toMatchObject({ status: 'False', reason: 'TemplateNotFound' });
    world.cloneFails = false;
    // An operator's request is not held back by the suspension: it runs at once.
    await request(handle, { kind: 'scale-out', n: 1, source: 'test' });
    const ok = await idle(handle, 3);
    expect(ok.phase).toBe('ACTIVE');
    expect(ok.conditions.find((c) => c.type === 'AbleToScale')).toMatchObject({ status: 'True' });
  });
});

test('a failed reconcile shows until a reconcile succeeds', async () => {
  const world = new World();
  const { handle, taskQueue } = await start(world, { metrics: [] });
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 1);
    world.listFails = true;
    const broken = await until('ReconcileFailed', 5000, async () => {
      const st = await status(handle);
      return st.phase === 'ERROR' ? st : undefined;
    });
    expect(broken.conditions.find((c) => c.type === 'AbleToScale')).toMatchObject({ status: 'False', reason: 'ReconcileFailed' });
    world.listFails = false;
    await until('the error to clear', 5000, async () => (await status(handle)).phase === 'ACTIVE');
  });
});

test('delete with scale-to-zero removes every member and ends the workflow', async () => {
  const world = new World();
  const { name, handle, taskQueue } = await start(world, { metrics: [], min: 2 });
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 2);
    await handle.executeUpdate('delete', { args: [{ scaleToZero: true }] });
    expect(await handle.result()).toEqual({ deleted: true, scaledToZero: true });
  });
  expect(world.members(name)).toEqual([]);
  expect(world.pool.size).toBe(0);
});

test('continue-as-new carries members, op numbers, queued requests and cooldowns', async () => {
  const world = new World();
  const { name, handle, taskQueue } = await start(world, { metrics: [], autoscaling: { continueAsNewAfter: 3, scaleOutCooldown: '10m' } });
  await withWorker(local.env, world, taskQueue, async () => {
    const first = await idle(handle, 1);
    await request(handle, { kind: 'scale-out', n: 1, source: 'test' });
    const after = await until('a new run', 10_000, async () => {
      const st = await status(handle);
      return st.runId !== first.runId && st.current === 2 ? st : undefined;
    });
    expect(after.runs.map((r) => r.workflowId)).toEqual([`scale-out:${name}:1`, `scale-out:${name}:2`]);
    expect(after.cooldown.scaleOutMs).toBeGreaterThan(500_000);
    // An alarm in the carried cooldown is dropped; the next operator run takes the next op number.
    expect(await request(handle, { kind: 'scale-out', n: 1, source: 'HighConns', origin: 'alarm' })).toMatchObject({ accepted: false, code: 'ScaleOutCooldown' });
    await request(handle, { kind: 'scale-out', n: 1, source: 'test' });
    const st = await idle(handle, 3);
    expect(st.runs.map((r) => r.workflowId).slice(-1)).toEqual([`scale-out:${name}:3`]);
    expect(world.members(name)).toEqual([`${name}-1-1`, `${name}-2-1`, `${name}-3-1`]);
  });
});

test('the live autoscaler and the backtest make the same decisions from the same demand', async () => {
  const world = new World();
  // Demand in connections for the pool; per member it is demand / members, as the backtest reads it. Live, each value
  // holds until the pool has settled (two reads without a change); the backtest holds each for 10 s, time enough
  // to settle as well. Either way a step is played out to the end, so the decisions must be the same.
  const demand = [5, 35, 12, 3];
  let step = 0;
  let stable = 0;
  let lastMembers = -1;
  world.readingFrom = (w) => {
    const members = [...w.pool.values()].filter((m) => m.status === 'UP').length;
    stable = members === lastMembers ? stable + 1 : 0;
    lastMembers = members;
    if (stable >= 2 && step < demand.length) {
      step++;
      stable = 0;
    }
    const d = demand[Math.min(step, demand.length - 1)]!;
    return members ? { value: d / members } : { error: 'no member serves' };
  };
  const autoscaling = { tolerance: 0.1, maxStepOut: 2, maxStepIn: 1, reconcileInterval: '1m' };
  const { handle, taskQueue } = await start(world, { autoscaling });
  const live = await withWorker(local.env, world, taskQueue, async () => {
    await until('the demand played', 60_000, async () => step >= demand.length);
    return (await idle(handle)).runs.slice(1).map((r) => (r.kind === 'scale-out' ? r.count : -r.count));
  });
  const as = autoscalingSchema.parse({ ...fast, ...autoscaling });
  // In 1 s steps: each backtest poll (every 1 s) reads the whole step before it, a value as the live read gives it.
  const sim = simulate({ stepMs: 1000, values: demand.flatMap((d) => Array<number>(10).fill(d)) }, { capacityPerMember: 10, timeToReadyMs: 300, drainMs: 300 }, { name: 'spec', min: 1, max: 5, metric: spec('x', { metrics: [metric] }).metrics[0]!, autoscaling: as });
  // 5 → 1 member; 35 → 4 (+2, +1); 12 → 2 (−1, −1); 3 → 1 (−1).
  expect(sim.actions.map((a) => a.to - a.from)).toEqual([2, 1, -1, -1, -1]);
  expect(live).toEqual(sim.actions.map((a) => a.to - a.from));
});

test('a member DOWN past the grace period is replaced: the new one joins first; the hourly limit holds the rest', async () => {
  const world = new World();
  const { name, handle, taskQueue } = await start(world, { metrics: [], min: 3, max: 3, health: { gracePeriod: '1s', maxReplacementsPerHour: 1 } });
  await withWorker(local.env, world, taskQueue, async () => {
    await idle(handle, 3);
    world.calls = [];
    world.pool.get(`${name}-1-2`)!.status = 'DOWN';
    world.pool.get(`${name}-1-3`)!.status = 'DOWN';
    const st = await until('one replacement', 15_000, async () => {
      const s = await status(handle);
      return s.runs.length === 3 && !s.currentOperation && s.decisions.some((d) => d.code === 'ReplacementLimit') ? s : undefined;
    });
    expect(st.runs.slice(1).map((r) => [r.kind, r.count])).toEqual([
      ['scale-out', 1],
      ['scale-in', 1],
    ]);
    // The replacement joined before the broken member was drained: the healthy count never fell.
    const joined = world.calls.indexOf(`waitPoolMemberHealthy ${name}-2-1`);
    const drained = world.calls.findIndex((c) => c.startsWith('drainPoolMember'));
    expect(joined).toBeGreaterThanOrEqual(0);
    expect(drained).toBeGreaterThan(joined);
    // The member broken first (same time: by name) went; the other waits for the next hour.
    expect(world.members(name)).toEqual([`${name}-1-1`, `${name}-1-3`, `${name}-2-1`]);
    expect(st.decisions.find((d) => d.source === 'health' && d.action === 'scale-out')!.reason).toMatch(new RegExp(`^replace ${name}-1-2 \\(DOWN in the balancer for \\d+ s\\): grace 1 s, 1 of 1 this hour$`));
    expect(st.unhealthy[`${name}-1-3`]).toMatchObject({ why: 'DOWN in the balancer' });
    expect(st.decisions.find((d) => d.code === 'ReplacementLimit')!.reason).toBe(`${name}-1-3 broken past the grace period, but 1 replacement(s) this hour reach the limit of 1`);
  });
});
