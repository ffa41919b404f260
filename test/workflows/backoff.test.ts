// Failed runs back off, and a fault no retry mends suspends its direction: the autoscaler on a local Temporal server
// with mocked activities. Times are asserted as lower bounds on workflow time (a timer never fires early), so a busy
// machine can only make the test slower, never wrong.
import type { WorkflowHandle } from '@temporalio/client';
import type { AutoscalerInput, AutoscalerStatus, RunRecord } from '../../src/workflows/autoscaler-messages';
import { spec, until, withWorker, useLocalEnv, workerMetrics, World } from './world';

const local = useLocalEnv();
let seq = 0;

async function start(over: Record<string, unknown>) {
  const name = `bo${++seq}`;
  const s = spec(name, { metrics: [], ...over, autoscaling: { pollInterval: '200ms', reconcileInterval: '200ms', ...((over.autoscaling as object) ?? {}) } });
  const input: AutoscalerInput = { spec: s, searchAttributes: false };
  const handle = await local.env.client.workflow.start('autoscaler', { args: [input], taskQueue: `tq-${name}`, workflowId: `autoscaler:${name}` });
  return { name, handle, taskQueue: `tq-${name}` };
}
const status = (h: WorkflowHandle) => h.query<AutoscalerStatus>('status');
const ended = (runs: RunRecord[]) => runs.filter((r) => r.kind === 'scale-out' && r.endedAt);
/** The wait between each ended run and the next run's start (ms, workflow time). */
const gaps = (runs: RunRecord[]) => runs.slice(1).map((r, i) => Date.parse(r.startedAt) - Date.parse(runs[i]!.endedAt!));
const ableToScale = (st: AutoscalerStatus) => st.conditions.find((c) => c.type === 'AbleToScale')!;

test('a fault no retry mends suspends scale-out at once: one probe per max, then min is reached with no operator action', async () => {
  const world = new World();
  world.cloneFails = true; // TemplateNotFound, as a template that does not exist
  const { name, handle, taskQueue } = await start({ min: 1, autoscaling: { failureBackoff: { initial: '1s', max: '3s' } } });
  await withWorker(local.env, world, taskQueue, async () => {
    const st = await until('three failed runs', 30_000, async () => {
      const s = await status(handle);
      return ended(s.runs).length >= 3 ? s : undefined;
    });
    const runs = ended(st.runs);
    // Each probe waited the full max after the run before it.
    for (const g of gaps(runs)) expect(g).toBeGreaterThanOrEqual(3_000);
    expect(runs.every((r) => r.result?.status === 'failed' && r.result.code === 'TemplateNotFound')).toBe(true);
    expect(st.backoff).toEqual([expect.objectContaining({ kind: 'scale-out', suspended: true, code: 'TemplateNotFound', failures: runs.length })]);
    expect(ableToScale(st)).toMatchObject({ status: 'False', reason: 'TemplateNotFound' });
    // The members' own fault, not the run's summary of it.
    expect(ableToScale(st).message).toMatch(new RegExp(`^scale-out suspended after TemplateNotFound: vsphere\\.template "[^"]+" was not found; next probe in \\d+ s, or now with: poolpilot cluster resume ${name}$`));
    expect(st.phase).toBe('ERROR');
    // Logged once per probe, not at every poll.
    const holds = st.decisions.filter((d) => d.code === 'ScalingSuspended');
    expect(holds.length).toBeGreaterThanOrEqual(1);
    expect(holds.length).toBeLessThanOrEqual(runs.length);
    expect((await workerMetrics.suspended.get()).values.find((v) => v.labels.cluster === name && v.labels.kind === 'scale-out')?.value).toBe(1);

    // The template is mended: the next probe reaches min by itself, and the backoff is forgotten.
    world.cloneFails = false;
    const ok = await until('min reached by a probe', 30_000, async () => {
      const s = await status(handle);
      return s.current === 1 && !s.currentOperation ? s : undefined;
    });
    expect(ok.backoff).toEqual([]);
    expect(ableToScale(ok)).toMatchObject({ status: 'True' });
    expect(world.members(name)).toHaveLength(1);
    await until('the gauge to clear', 5000, async () => ((await workerMetrics.suspended.get()).values.find((v) => v.labels.cluster === name && v.labels.kind === 'scale-out')?.value === 0 ? true : undefined));
  });
});

test('an operator resume tries a suspended direction at once, long before its probe is due', async () => {
  const world = new World();
  world.cloneFails = true;
  // A new run every 3 polls: the suspension is state, carried across continue-as-new.
  const { name, handle, taskQueue } = await start({ min: 2, autoscaling: { failureBackoff: { initial: '1s', max: '1h' }, continueAsNewAfter: 3 } });
  await withWorker(local.env, world, taskQueue, async () => {
    const st = await until('suspended', 15_000, async () => {
      const s = await status(handle);
      return s.backoff.some((b) => b.suspended) ? s : undefined;
    });
    expect(ended(st.runs)).toHaveLength(1);
    // A few polls and two new runs of the workflow later still one scaling run: the loop sleeps, it does not retry.
    const polls = st.iterations;
    const later = await until('six more polls', 20_000, async () => {
      const s = await status(handle);
      return s.iterations >= polls + 6 ? s : undefined;
    });
    expect(later.runId).not.toBe(st.runId);
    expect(ended(later.runs)).toHaveLength(1);
    expect(later.backoff).toEqual([expect.objectContaining({ kind: 'scale-out', suspended: true, retryAt: st.backoff[0]!.retryAt })]);
    expect(world.calls.filter((c) => c.startsWith('cloneVm'))).toHaveLength(2);

    world.cloneFails = false;
    await handle.executeUpdate('setPaused', { args: [{ paused: false, by: 'ops' }] });
    const ok = await until('min reached after resume', 15_000, async () => {
      const s = await status(handle);
      return s.current === 2 && !s.currentOperation ? s : undefined;
    });
    expect(ok.backoff).toEqual([]);
    expect(ok.decisions.some((d) => d.code === 'BackoffCleared' && /^resume: scale-out suspended after 1 failed run\(s\) \(TemplateNotFound\)/.test(d.reason))).toBe(true);
    expect(world.members(name)).toHaveLength(2);
  });
});

test('a fault a retry may mend backs off exponentially, and a success resets it', async () => {
  const world = new World();
  world.healthFails = true; // HealthTimeout: the member is undone, the next attempt may pass
  const { name, handle, taskQueue } = await start({ min: 1, autoscaling: { failureBackoff: { initial: '1s', max: '8s' } } });
  await withWorker(local.env, world, taskQueue, async () => {
    const st = await until('four failed runs', 40_000, async () => {
      const s = await status(handle);
      return ended(s.runs).length >= 4 ? s : undefined;
    });
    const runs = ended(st.runs).slice(0, 4);
    // 1 s, 2 s, 4 s, less at most a fifth of jitter.
    gaps(runs).forEach((g, i) => expect(g).toBeGreaterThanOrEqual(0.8 * 1000 * 2 ** i));
    expect(runs.every((r) => r.result?.code === 'HealthTimeout')).toBe(true);
    const b = st.backoff.find((x) => x.kind === 'scale-out')!;
    expect(b).toMatchObject({ suspended: false, code: 'HealthTimeout' });
    expect(ableToScale(st)).toMatchObject({ reason: 'RunFailed' });
    // Every failed member was undone: each failed run's VM destroyed and out of the pool.
    for (const r of runs) {
      const vm = `${name}-${r.workflowId.split(':')[2]}-1`;
      expect([world.calls.includes(`destroyVm ${vm}`), world.vms.has(vm), world.pool.has(vm)]).toEqual([true, false, false]);
    }

    world.healthFails = false;
    const ok = await until('min reached', 30_000, async () => {
      const s = await status(handle);
      return s.current === 1 && !s.currentOperation ? s : undefined;
    });
    expect(ok.backoff).toEqual([]);
    expect(ableToScale(ok).status).toBe('True');
  });
});

test('a repair cut short by the end of its run is no failed reconcile', async () => {
  const world = new World();
  world.healthFails = true;
  // A run longer than the repair interval, and listings that outlast the run: when the run ends, its repair's listing
  // is under way, and the run's end cancels it. That once showed as ReconcileFailed, with no reason, until the
  // reconcile after the run had listed again.
  world.cloneMs = 1000;
  world.listMs = 2000;
  const { handle, taskQueue } = await start({ min: 1, autoscaling: { failureBackoff: { initial: '1s', max: '1s' } } });
  await withWorker(local.env, world, taskQueue, async () => {
    const seen: AutoscalerStatus[] = [];
    await until('two failed runs', 60_000, async () => {
      const s = await status(handle);
      seen.push(s);
      return ended(s.runs).length >= 2 ? s : undefined;
    });
    const conditions = seen.map((s) => ableToScale(s));
    expect(conditions.filter((c) => c.reason === 'ReconcileFailed')).toEqual([]);
    expect(conditions.some((c) => c.reason === 'RunFailed')).toBe(true);
  });
});
