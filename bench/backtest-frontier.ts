// Policy quality: the trade-off prediction.margin sets, on the README's backtest (NASA 1995 × 6.5, max 80, clone 60 s,
// boot 2 m), beside the peers. Two families, each swept over the margin: examples/web-predictive.yaml as written
// (10 m scale-in stabilization, 5 m scale-in cooldown) and the same spec with the HPA's scale-in timing (5 m
// stabilization, no cooldowns). Prints each point's under-provisioned minutes and member-hours; for each peer, the
// fewest under-provisioned minutes either family reaches at no more than that peer's member-hours (and where);
// and a reference that is not a policy: capacity from each minute's centred 15-minute mean plus z·√(D·mean), members
// there the moment they are needed — what knowing the next quarter-hour's level, but not its minute-to-minute
// noise, buys. BENCH_MARGINS=0.5,1,… overrides the sweep.
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

/** Under-provisioned minutes and member-hours of the level-plus-noise reference at each z. */
function levelReference(trace: DemandTrace, cap: number, bounds: { min: number; max: number }, zs: number[]): { dispersion: number; points: Point[] } {
  const v = trace.values;
  const n = v.length;
  const half = 7;
  // Centred 15-minute mean by prefix sums.
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + v[i]!;
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half);
    const b = Math.min(n, i + half + 1);
    mean[i] = (prefix[b]! - prefix[a]!) / (b - a);
  }
  // Variance of a minute around that mean, per unit of mean (for counts, the dispersion of the arrivals).
  let rr = 0;
  let mm = 0;
  for (let i = 0; i < n; i++) {
    rr += (v[i]! - mean[i]!) ** 2;
    mm += mean[i]!;
  }
  const dispersion = rr / mm;
  const stepMin = trace.stepMs / 60_000;
  const points = zs.map((z) => {
    let under = 0;
    let members = 0;
    for (let i = 0; i < n; i++) {
      const m = mean[i]!;
      const k = Math.min(Math.max(Math.ceil((m + z * Math.sqrt(dispersion * m)) / cap - 1e-9), bounds.min), bounds.max);
      members += k;
      if (k * cap < v[i]!) under += stepMin;
    }
    return { label: `z ${z}`, under, mh: (members * stepMin) / 60 };
  });
  return { dispersion, points };
}

/** The fewest under-provisioned minutes among `points` at no more than `mh` member-hours. */
function bestWithin(points: Point[], mh: number): Point | undefined {
  let best: Point | undefined;
  for (const p of points) if (p.mh <= mh && (!best || p.under < best.under)) best = p;
  return best;
}

runBench(async () => {
  const margins = (process.env.BENCH_MARGINS ?? '0,0.5,1,1.25,1.5,1.75,1.9,2,2.5,3').split(',').map(Number);
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
  const sweep: Point[] = families.flatMap((f) =>
    margins.map((margin) => {
      const r = runBacktest(trace, { ...spec, autoscaling: f.autoscaling, prediction: { ...spec.prediction!, margin } }, { ...options, compare: [] });
      const s = r.policies[0]!.scores;
      return { label: `${f.label}, margin ${margin}`, under: s.underProvisionedMinutes, mh: s.memberHours };
    }),
  );
  const cap = first.model.capacityPerMember;
  console.log(`NASA 1995 × 6.5, ${(trace.values.length / 1440).toFixed(1)} days; ${cap} per member, ${(first.model.timeToReadyMs / 60_000).toFixed(1)} min to ready; spec examples/web-predictive.yaml (its margin ${spec.prediction.margin}); ${sweep.length + 1} backtests in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const row = (p: Point) => `  ${p.label.padEnd(26)} ${fmt(p.under).padStart(7)} ${fmt(p.mh).padStart(7)}`;
  console.log(`  ${'policy'.padEnd(26)} ${'under'.padStart(7)} ${'mh'.padStart(7)}   (under-provisioned minutes, member-hours)`);
  for (const p of peers) console.log(row(p));
  for (const p of sweep) console.log(row(p));
  const { dispersion, points: ref } = levelReference(trace, cap, first.bounds, [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.5, 4]);
  console.log(`reference, not a policy (the centred 15-minute mean + z·√(${dispersion.toFixed(1)} × mean), members at once):`);
  for (const p of ref) console.log(row(p));
  for (const peer of peers.filter((p) => p.label !== 'oracle' && p.label !== 'spec-reactive-only')) {
    const b = bestWithin(sweep, peer.mh);
    const r = bestWithin(ref, peer.mh);
    const verdict = b ? `${b.label}: ${fmt(b.under)} under at ${fmt(b.mh)} mh (${b.under < peer.under ? 'beats it' : 'does not beat it'})` : `no point is within its member-hours (least: ${fmt(Math.min(...sweep.map((p) => p.mh)))})`;
    const reference = r ? `reference ${r.label}: ${fmt(r.under)}` : 'reference: none within';
    console.log(`at ${peer.label}'s ${fmt(peer.mh)} member-hours (its under ${fmt(peer.under)}): ${verdict}; ${reference}`);
  }
});
