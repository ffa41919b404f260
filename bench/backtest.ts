// The backtest's speed: 60 days of 1-minute demand (the NASA 1995 trace) × the spec and four peers, and a sweep of
// five objectives. Prints, side by side in one run: the time per backtest (median of BENCH_RUNS, default 5) for
// web.yaml (5 policies) and web-predictive.yaml (6: the spec with prediction and schedules, the same spec
// reactive-only, the peers), its CPU time, the wall time of `--sweep-objective 0.5%,1%,2%,5%,10%` over the cores,
// and the CLI from a fresh process (`poolpilot --help`, and one predictive backtest start to end), start-up included.
// Goals (issue 25): one predictive backtest under 1 s of CPU; the 5-objective sweep under 5 s wall on 2 cores.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { runSweep } from '../src/cli/backtest-sweep';
import { loadClusterSpec } from '../src/config/load';
import { PROJECT_ROOT } from '../src/config/settings';
import { parseTraceCsv } from '../src/config/trace';
import { PEERS, runBacktest } from '../src/policy/peers';
import { pct, runBench } from './bench-lab';

const OBJECTIVES = [0.005, 0.01, 0.02, 0.05, 0.1];

runBench(async () => {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const file = path.join(PROJECT_ROOT, 'examples', 'traces', 'nasa-http-1995.per-minute.csv');
  const started = Date.now();
  const text = readFileSync(file, 'utf8');
  const base = parseTraceCsv(text);
  console.log(`trace: ${base.values.length} steps (${((base.values.length * base.stepMs) / 86_400_000).toFixed(1)} days); CSV read and parse ${Date.now() - started} ms`);
  const options = { cloneMs: 60_000, bootMs: 120_000, max: 80 };
  for (const [example, scale] of [['web.yaml', 0.65], ['web-predictive.yaml', 6.5]] as const) {
    const spec = loadClusterSpec(path.join(PROJECT_ROOT, 'examples', example));
    const trace = { ...base, values: base.values.map((v) => v * scale), startMs: Date.parse('1995-07-01T00:00:00-04:00') };
    const times: number[] = [];
    const cpu: number[] = [];
    let result;
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      result = runBacktest(trace, spec, { ...options, compare: [...PEERS] });
      const c = process.cpuUsage(c0);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      cpu.push((c.user + c.system) / 1000);
    }
    console.log(`${example}: ${result!.policies.length} policies (${result!.policies.map((p) => p.name).join(', ')}), ${runs} runs: median ${pct(times, 50).toFixed(0)} ms wall, ${pct(cpu, 50).toFixed(0)} ms CPU; max ${Math.max(...times).toFixed(0)} ms`);
    if (spec.prediction) {
      const walls: number[] = [];
      for (let i = 0; i < Math.min(runs, 3); i++) {
        const t0 = Date.now();
        await runSweep({ trace, spec, options: { ...options, compare: [] }, objectives: OBJECTIVES });
        walls.push(Date.now() - t0);
      }
      console.log(`${example}: sweep of ${OBJECTIVES.length} objectives on ${availableParallelism()} threads: median ${pct(walls, 50).toFixed(0)} ms wall, max ${Math.max(...walls).toFixed(0)} ms`);
    }
  }
  // A user runs the CLI, not the function: a fresh process each time, module loading and V8's warm-up included.
  const cli = path.join(PROJECT_ROOT, 'dist', 'src', 'cli', 'index.js');
  const nasa = ['--trace', file, '--start', '1995-07-01T00:00:00-04:00', '--scale', '6.5', '--max', '80', '--clone', '60s', '--boot', '2m'];
  for (const [label, argv] of [['poolpilot --help', ['--help']], ['poolpilot backtest -f examples/web-predictive.yaml (NASA)', ['backtest', '-f', path.join(PROJECT_ROOT, 'examples', 'web-predictive.yaml'), ...nasa]]] as const) {
    const walls: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [cli, ...argv], { encoding: 'utf8' });
      walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${r.stderr}`);
    }
    console.log(`${label}, a fresh process, ${runs} runs: median ${pct(walls, 50).toFixed(0)} ms wall, max ${Math.max(...walls).toFixed(0)} ms`);
  }
});
