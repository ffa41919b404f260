// `backtest --sweep-objective`: the spec at several objectives, spread over worker threads (one per core, at most one
// per objective), each running sweepObjectives on its share. A sweep is many backtests of one trace: the threads
// share nothing but the trace, copied once to each.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ClusterSpec } from '../config/spec';
import type { DemandTrace } from '../policy/backtest';
import { sweepObjectives, type BacktestOptions, type SweepPoint } from '../policy/peers';

interface Job {
  trace: DemandTrace;
  spec: ClusterSpec;
  options: BacktestOptions;
  objectives: number[];
}

/** Runs the sweep; points come back in the order of `objectives`. `threads: 1` runs it on this thread. */
export async function runSweep(job: Job, threads = availableParallelism()): Promise<SweepPoint[]> {
  const n = Math.max(1, Math.min(threads, job.objectives.length));
  if (n === 1) return sweepObjectives(job.trace, job.spec, job.options, job.objectives);
  const shares: number[][] = Array.from({ length: n }, () => []);
  job.objectives.forEach((x, i) => shares[i % n]!.push(x));
  const parts = await Promise.all(
    shares.map(
      (objectives) =>
        new Promise<SweepPoint[]>((resolve, reject) => {
          const w = new Worker(__filename, { workerData: { ...job, objectives } satisfies Job });
          w.once('message', (points: SweepPoint[]) => resolve(points));
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`a sweep thread exited with code ${code}`)));
        }),
    ),
  );
  const byObjective = new Map(parts.flat().map((p) => [p.objective, p]));
  return job.objectives.map((x) => byObjective.get(x)!);
}

if (!isMainThread && parentPort) {
  const job = workerData as Job;
  parentPort.postMessage(sweepObjectives(job.trace, job.spec, job.options, job.objectives));
}
