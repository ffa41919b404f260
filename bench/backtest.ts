// The backtest's speed: 60 days of 1-minute demand (the NASA 1995 trace) × the spec and four peers, on one core.
// Prints the time per run (median of BENCH_RUNS, default 7) for web.yaml (5 policies) and web-predictive.yaml (6: the
// spec with prediction and schedules, the same spec reactive-only, the peers). Goal: under 2 s for 5 policies.
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
  const started = Date.now();
  const text = readFileSync(file, 'utf8');
  const base = parseTraceCsv(text);
  console.log(`trace: ${base.values.length} steps (${((base.values.length * base.stepMs) / 86_400_000).toFixed(1)} days); CSV read and parse ${Date.now() - started} ms`);
  for (const [example, scale] of [['web.yaml', 0.65], ['web-predictive.yaml', 6.5]] as const) {
    const spec = loadClusterSpec(path.join(PROJECT_ROOT, 'examples', example));
    const trace = { ...base, values: base.values.map((v) => v * scale), startMs: Date.parse('1995-07-01T00:00:00-04:00') };
    const times: number[] = [];
    let result;
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      result = runBacktest(trace, spec, { cloneMs: 60_000, bootMs: 120_000, max: 80, compare: [...PEERS] });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`${example}: ${result!.policies.length} policies (${result!.policies.map((p) => p.name).join(', ')}), ${runs} runs: median ${pct(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
  }
});
