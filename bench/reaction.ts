// Benchmark: reaction time, from offered load crossing the threshold to the first clone call (5 s poll, 5 s scrape).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseClusterSpec } from '../src/config/spec';
import { applyCluster, clusterStatus, requestScale, setPaused, waitIdle } from '../src/client/clusters';
import { findTool } from '../src/lab/tools';
import { rawLabSpec } from '../src/lab/session';
import { benchSession, pct, runBench } from './bench-lab';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const trials = Number(process.env.BENCH_TRIALS ?? 5);
  const { session, lab } = await benchSession('bench-reaction');
  const client = session.client;
  const raw = rawLabSpec(lab, 'react', {
    min: 1,
    max: 3,
    metrics: [{ name: 'conns', source: { prometheus: { query: 'avg(haproxy_server_current_sessions{proxy="web",server=~"react-.*"})' } }, target: { value: 3 } }],
    autoscaling: { pollInterval: '5s', scaleOutCooldown: 0, scaleInCooldown: '10m', scaleInStabilization: 0 },
  });
  await applyCluster(client, parseClusterSpec(raw));
  const results: number[] = [];
  for (let i = 0; i < trials; i++) {
    // Reset to one member with automatic decisions paused, so a reading from the last trial's load cannot act.
    await setPaused(client, 'react', true);
    await requestScale(client, 'react', 'set-desired', 1, 'bench').catch(() => undefined);
    await waitIdle(client, 'react', 120_000);
    // Let Prometheus see the idle pool, resume, and start at a random phase of the poll and scrape cycles.
    await sleep(12_000);
    await setPaused(client, 'react', false);
    await sleep(6000 + Math.random() * 5000);
    const before = (await clusterStatus(client, 'react')).runs.length;
    const t0 = Date.now();
    const load = run(findTool('wrk')!, ['-t1', '-c40', '-d25s', lab.vipUrl], { timeout: 60_000 });
    let runId: string | undefined;
    while (!runId) {
      const st = await clusterStatus(client, 'react');
      runId = st.runs.slice(before).find((r) => r.kind === 'scale-out')?.workflowId;
      if (!runId) await sleep(200);
      if (Date.now() - t0 > 60_000) {
        const why = st.decisions.slice(-6).map((d) => `  ${d.at} ${d.action} ${d.current}→${d.desired}: ${d.reason}`).join('\n');
        throw new Error(`no scale-out within 60 s of load; last decisions:\n${why}`);
      }
    }
    // ActivityTaskStarted is written when the attempt ends: read the history once the run is over.
    const handle = client.workflow.getHandle(runId);
    await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    const cloneScheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'cloneVm');
    const cloneStarted = events.find((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(cloneScheduled?.eventId));
    const t = cloneStarted!.eventTime!;
    const reaction = Number(t.seconds) * 1000 + Math.round(Number(t.nanos) / 1e6) - t0;
    results.push(reaction);
    console.log(`trial ${i + 1}: first clone call ${(reaction / 1000).toFixed(2)} s after the load started (${runId})`);
    await load;
  }
  console.log(`reaction time over ${trials} trials: median ${(pct(results, 50) / 1000).toFixed(2)} s, max ${(Math.max(...results) / 1000).toFixed(2)} s (goal <= poll 5 s + scrape 5 s + 1 s = 11 s)`);
  await session.stop();
}

runBench(main);
