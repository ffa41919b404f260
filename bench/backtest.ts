// The backtest's speed: 60 days of 1-minute demand (the NASA 1995 trace) × the spec and four peers, on one core.
// Prints the time per run (median of BENCH_RUNS, default 7) and the scores it computed. Goal: under 2 s.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadClusterSpec } from '../src/config/load';
import { PROJECT_ROOT } from '../src/config/settings';
import { parseTraceCsv } from '../src/config/trace';
import { PEERS, runBacktest } from '../src/policy/peers';
import { pct, runBench } from './bench-lab';

runBench(async () => {
  const runs = Number(process.env.BENCH_RUNS ?? 7);
  const file = path.join(PROJECT_ROOT, 'examples', 'traces', 'nasa-http-1995.per-minute.csv');
  const spec = loadClusterSpec(path.join(PROJECT_ROOT, 'examples', 'web.yaml'));
  const t = Date.now();
  const trace = parseTraceCsv(readFileSync(file, 'utf8'), { scale: 0.2 });
  const parseMs = Date.now() - t;
  const times: number[] = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    result = runBacktest(trace, spec, { cloneMs: 60_000, bootMs: 120_000, max: 30, compare: [...PEERS] });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const days = (trace.values.length * trace.stepMs) / 86_400_000;
  console.log(`trace: ${trace.values.length} steps (${days.toFixed(1)} days); CSV parse ${parseMs} ms`);
  console.log(`backtest of ${result!.policies.length} policies (spec + ${PEERS.join(', ')}), ${runs} runs: median ${pct(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (goal < 2000 ms)`);
  for (const p of result!.policies) console.log(`  ${p.name.padEnd(11)} actions ${String(p.scores.actions).padStart(6)}  member-hours ${p.scores.memberHours.toFixed(0)}`);
});
