// Policy quality: the trade-off a fixed prediction.margin sets (the objective's calibration set aside), on the README's backtest (NASA 1995 × 6.5, max 80, clone 60 s,
// boot 2 m), beside the peers. Two families, each swept over the margin: examples/web-predictive.yaml as written and
// the same spec with the HPA's scale-in timing (5 m stabilization, no cooldowns). Prints each point's
// under-provisioned minutes and member-hours; for each peer, the fewest under-provisioned minutes either family
// reaches at no more than that peer's member-hours (and where); and two references that are not policies, members =
// ⌈(level + z·√(D·level)) / capacity⌉ let go at once: "foresight", whose level is each minute's centred 15-minute
// mean and whose members are there the moment they are needed (what knowing the next quarter-hour, but not its
// minute-to-minute noise, buys), and "causal", whose level is the mean of the 30 minutes before and whose members
// serve one time-to-ready after they are asked for (what a policy can see, without a policy's waits).
// BENCH_MARGINS=0.5,1,… overrides the sweep.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadClusterSpec } from '../src/config/load';
import { PROJECT_ROOT } from '../src/config/settings';
import { parseTraceCsv } from '../src/config/trace';
import { PEERS, runBacktest } from '../src/policy/peers';
import type { DemandTrace } from '../src/policy/backtest';
import { runBench } from './bench-lab';

interface Point {
  label: string;
  under: number;
  mh: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Each minute's mean over [i - before, i + after] of the trace (clipped at its ends), by prefix sums. */
function meanAround(v: ArrayLike<number>, before: number, after: number): Float64Array {
  const n = v.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + v[i]!;
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - before);
    const b = Math.max(a + 1, Math.min(n, i + after + 1));
    mean[i] = (prefix[b]! - prefix[a]!) / (b - a);
  }
  return mean;
}

/**
 * Under-provisioned minutes and member-hours of a level-plus-noise reference at each z: at minute s it wants
 * ⌈(level[s] + z·√(dispersion × level[s])) / cap⌉ members and pays for them; a member it asks for serves `lead`
 * minutes later, one it lets go is gone at once (so minute t is served by the least it wanted over [t − lead, t]).
 */
function levelReference(trace: DemandTrace, cap: number, bounds: { min: number; max: number }, zs: number[], level: Float64Array, dispersion: number, lead: number): Point[] {
  const v = trace.values;
  const stepMin = trace.stepMs / 60_000;
  return zs.map((z) => {
    const want = level.map((m) => Math.min(Math.max(Math.ceil((m + z * Math.sqrt(dispersion * m)) / cap - 1e-9), bounds.min), bounds.max));
    let under = 0;
    let members = 0;
    for (let t = 0; t < v.length; t++) {
      let ready = want[t]!;
      for (let j = 1; j <= lead && j <= t; j++) ready = Math.min(ready, want[t - j]!);
      members += want[t]!;
      if (ready * cap < v[t]!) under += stepMin;
    }
    return { label: `z ${z}`, under, mh: (members * stepMin) / 60 };
  });
}

/** The variance of a minute around `mean`, per unit of mean (for counts, the dispersion of the arrivals). */
function dispersionAround(v: ArrayLike<number>, mean: Float64Array): number {
  let rr = 0;
  let mm = 0;
  for (let i = 0; i < v.length; i++) {
    rr += (v[i]! - mean[i]!) ** 2;
    mm += mean[i]!;
  }
  return rr / mm;
}

/** The fewest under-provisioned minutes among `points` at no more than `mh` member-hours. */
function bestWithin(points: Point[], mh: number): Point | undefined {
  let best: Point | undefined;
  for (const p of points) if (p.mh <= mh && (!best || p.under < best.under)) best = p;
  return best;
}

runBench(async () => {
  const margins = (process.env.BENCH_MARGINS ?? '0,0.5,0.75,1,1.25,1.5,1.75,2,2.25,2.5,3').split(',').map(Number);
  const spec = loadClusterSpec(path.join(PROJECT_ROOT, 'examples', 'web-predictive.yaml'));
  if (!spec.prediction) throw new Error('examples/web-predictive.yaml has no prediction');
  const base = parseTraceCsv(readFileSync(path.join(PROJECT_ROOT, 'examples', 'traces', 'nasa-http-1995.per-minute.csv'), 'utf8'));
  const trace = { ...base, values: base.values.map((v) => v * 6.5), startMs: Date.parse('1995-07-01T00:00:00-04:00') };
  const options = { cloneMs: 60_000, bootMs: 120_000, max: 80 };
  const t0 = Date.now();
  const first = runBacktest(trace, spec, { ...options, compare: [...PEERS] });
  const peers: Point[] = first.policies.slice(1).map((p) => ({ label: p.name, under: p.scores.underProvisionedMinutes, mh: p.scores.memberHours }));
  const families = [
    { label: 'spec', autoscaling: spec.autoscaling },
    { label: 'hpa timing', autoscaling: { ...spec.autoscaling, scaleInStabilization: 300_000, scaleInCooldown: 0, scaleOutCooldown: 0 } },
  ];
  const swept = families.map((f) =>
    margins.map((margin): Point => {
      const r = runBacktest(trace, { ...spec, autoscaling: f.autoscaling, prediction: { ...spec.prediction!, objective: undefined, margin } }, { ...options, compare: [] });
      const s = r.policies[0]!.scores;
      return { label: `${f.label}, margin ${margin}`, under: s.underProvisionedMinutes, mh: s.memberHours };
    }),
  );
  const sweep = swept.flat();

  const cap = first.model.capacityPerMember;
  console.log(`NASA 1995 × 6.5, ${(trace.values.length / 1440).toFixed(1)} days; ${cap} per member, ${(first.model.timeToReadyMs / 60_000).toFixed(1)} min to ready; spec examples/web-predictive.yaml (its objective ${spec.prediction.objective ? `${spec.prediction.objective.underProvisioned * 100}%` : 'default'}; here fixed margins); ${sweep.length + 1} backtests in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const row = (p: Point) => `  ${p.label.padEnd(26)} ${fmt(p.under).padStart(7)} ${fmt(p.mh).padStart(7)}`;
  console.log(`  ${'policy'.padEnd(26)} ${'under'.padStart(7)} ${'mh'.padStart(7)}   (under-provisioned minutes, member-hours)`);
  for (const p of peers) console.log(row(p));
  for (const p of sweep) console.log(row(p));
  const zs = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.5, 4];
  const centred = meanAround(trace.values, 7, 7);
  const dispersion = dispersionAround(trace.values, centred);
  const lead = Math.round(first.model.timeToReadyMs / trace.stepMs);
  const refs = [
    { label: 'foresight', points: levelReference(trace, cap, first.bounds, zs, centred, dispersion, 0) },
    // The last 30 minutes' mean, known at the minute's start: what a policy sees, with none of a policy's waits.
    { label: 'causal', points: levelReference(trace, cap, first.bounds, zs, meanAround(trace.values, 30, -1), dispersion, lead) },
  ];
  console.log(`references, not policies (members = ⌈(level + z·√(${dispersion.toFixed(1)} × level)) / ${cap}⌉, let go at once):`);
  console.log(`  foresight: level = the centred 15-minute mean, members there the moment they are needed`);
  console.log(`  causal: level = the mean of the 30 minutes before, members asked for ${lead} min before they serve`);
  for (const r of refs) for (const p of r.points) console.log(row({ ...p, label: `${r.label}, ${p.label}` }));
  for (const peer of peers.filter((p) => p.label !== 'oracle' && p.label !== 'spec-reactive-only')) {
    const verdict = swept.map((points, i) => {
      const b = bestWithin(points, peer.mh);
      return b ? `${b.label}: ${fmt(b.under)} under at ${fmt(b.mh)} mh (${b.under < peer.under ? 'beats it' : 'does not beat it'})` : `${families[i]!.label}: no point within (least ${fmt(Math.min(...points.map((p) => p.mh)))} mh)`;
    });
    const references = refs.map((r) => {
      const best = bestWithin(r.points, peer.mh);
      return best ? `${r.label} ${best.label}: ${fmt(best.under)}` : `${r.label}: none within`;
    });
    console.log(`at ${peer.label}'s ${fmt(peer.mh)} member-hours (its under ${fmt(peer.under)}): ${verdict.join('; ')}; references ${references.join(', ')}`);
  }
});
