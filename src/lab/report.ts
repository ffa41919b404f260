// The scenario report: a chart (vega-lite → SVG) of load, p95 latency and members with scaling runs marked, and a summary.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { RunRecord } from '../workflows/autoscaler-messages';

export interface Sample {
  t: number;
  users: number;
  rps: number;
  p95: number;
  members: number;
  failures: number;
  requests: number;
  phase: string;
}

export interface ScenarioReport {
  cluster: string;
  startedAt: string;
  users: number;
  spawnRate: number;
  plateauS: number;
  samples: Sample[];
  runs: RunRecord[];
  loadStopS?: number;
  backAtMinS?: number;
  servedByMember: Record<string, number>;
  min: number;
  max: number;
  reportDir: string;
  temporalUi: string;
  /** A replayed trace instead of Locust (the OpenStack lab): what was replayed; there is no latency and nothing is served. */
  replayed?: string;
}

export interface Summary {
  peakMembers: number;
  /** Seconds from load start until the pool reached its peak. */
  timeToCapacityS: number | null;
  /** Seconds from the load stopping until the pool was back at min. */
  timeBackToMinS: number | null;
  requests: number;
  failedRequests: number;
  /** Failed requests while scale-in runs were under way. */
  failedDuringScaleIn: number;
  p95DuringScaleOutMs: number | null;
  p95SteadyMs: number | null;
  scaleOutRuns: number;
  scaleInRuns: number;
  membersThatServed: number;
  membersSeen: number;
}

const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export function summarize(r: ScenarioReport): Summary {
  const start = Date.parse(r.startedAt);
  const rel = (iso: string | undefined) => (iso ? (Date.parse(iso) - start) / 1000 : undefined);
  const peak = Math.max(0, ...r.samples.map((s) => s.members));
  const firstPeak = r.samples.find((s) => s.members === peak);
  const outs = r.runs.filter((x) => x.kind === 'scale-out');
  const ins = r.runs.filter((x) => x.kind === 'scale-in');
  const within = (t: number, runs: RunRecord[]) => runs.some((x) => t >= (rel(x.startedAt) ?? Infinity) && t <= (rel(x.endedAt) ?? Infinity));
  const loaded = r.samples.filter((s) => s.users > 0 && s.rps > 0);
  const lastOutEnd = Math.max(0, ...outs.map((x) => rel(x.endedAt) ?? 0));
  let failedDuringScaleIn = 0;
  for (let i = 1; i < r.samples.length; i++) {
    const s = r.samples[i]!;
    if (within(s.t, ins)) failedDuringScaleIn += Math.max(0, s.failures - r.samples[i - 1]!.failures);
  }
  const lastSample = r.samples[r.samples.length - 1];
  return {
    peakMembers: peak,
    timeToCapacityS: firstPeak && peak > r.min ? +firstPeak.t.toFixed(1) : null,
    timeBackToMinS: r.backAtMinS !== undefined ? +r.backAtMinS.toFixed(1) : null,
    requests: lastSample?.requests ?? 0,
    failedRequests: lastSample?.failures ?? 0,
    failedDuringScaleIn,
    p95DuringScaleOutMs: median(loaded.filter((s) => within(s.t, outs)).map((s) => s.p95)),
    p95SteadyMs: median(loaded.filter((s) => s.t > lastOutEnd + 10 && (r.loadStopS === undefined || s.t < r.loadStopS)).map((s) => s.p95)),
    scaleOutRuns: outs.length,
    scaleInRuns: ins.length,
    membersThatServed: Object.values(r.servedByMember).filter((n) => n > 0).length,
    membersSeen: Object.keys(r.servedByMember).length,
  };
}

export function chartSpec(r: ScenarioReport): vl.TopLevelSpec {
  const start = Date.parse(r.startedAt);
  const rows = r.samples.flatMap((s) => [
    ...(r.replayed ? [] : [{ t: s.t, series: 'users', value: s.users, panel: 'load' }]),
    { t: s.t, series: r.replayed ? 'demand (requests/s)' : 'requests/s', value: s.rps, panel: 'load' },
    ...(r.replayed ? [] : [{ t: s.t, series: 'p95 latency (ms)', value: s.p95, panel: 'latency' }]),
    { t: s.t, series: 'members UP', value: s.members, panel: 'members' },
  ]);
  // A run shorter than 2 s (most scale-ins) still gets a visible band.
  const runs = r.runs.map((x) => {
    const s = (Date.parse(x.startedAt) - start) / 1000;
    const e = ((x.endedAt ? Date.parse(x.endedAt) : Date.now()) - start) / 1000;
    return { start: s, end: Math.max(e, s + 2), kind: x.kind };
  });
  const layer = (panel: string, title: string, step = false) => ({
    height: 140,
    width: 720,
    layer: [
      {
        data: { values: runs },
        mark: { type: 'rect' as const, opacity: 0.3 },
        encoding: {
          x: { field: 'start', type: 'quantitative' as const, title: 'seconds since load start' },
          x2: { field: 'end' },
          color: { field: 'kind', type: 'nominal' as const, title: 'scaling run', scale: { domain: ['scale-out', 'scale-in'], range: ['#2ca02c', '#d62728'] } },
        },
      },
      {
        data: { values: rows.filter((x) => x.panel === panel) },
        mark: { type: 'line' as const, interpolate: step ? ('step-after' as const) : ('linear' as const) },
        encoding: {
          x: { field: 't', type: 'quantitative' as const },
          y: { field: 'value', type: 'quantitative' as const, title },
          stroke: { field: 'series', type: 'nominal' as const, title: null },
        },
      },
    ],
    resolve: { scale: { color: 'independent' as const, stroke: 'independent' as const } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: r.replayed ? `poolpilot: cluster ${r.cluster} under ${r.replayed}` : `poolpilot: cluster ${r.cluster} under ${r.users} users (${r.spawnRate}/s ramp, ${r.plateauS}s plateau)`,
    vconcat: r.replayed
      ? [layer('load', 'demand (requests/s)'), layer('members', 'members UP', true)]
      : [layer('load', 'offered load'), layer('latency', 'p95 latency (ms)'), layer('members', 'members UP', true)],
    config: { font: 'sans-serif' },
  } as vl.TopLevelSpec;
}

export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export function summaryText(r: ScenarioReport, s: Summary): string {
  const f = (v: number | null, unit: string) => (v === null ? 'n/a' : `${v} ${unit}`);
  const common = [
    `peak members ${s.peakMembers} (min ${r.min}, max ${r.max}); ${s.scaleOutRuns} scale-out run(s), ${s.scaleInRuns} scale-in run(s)`,
    `time from load start to peak capacity: ${f(s.timeToCapacityS, 's')}; back to min after the load stopped: ${f(s.timeBackToMinS, 's')}`,
  ];
  if (r.replayed) {
    const peakDemand = Math.max(0, ...r.samples.map((x) => x.rps));
    return [`cluster ${r.cluster}: ${r.replayed}`, ...common, `peak demand ${peakDemand.toFixed(1)} requests/s; ${s.requests} requests of demand replayed (read by the autoscaler, served by no one: the lab's servers are Nova's fake ones)`].join('\n');
  }
  return [
    `cluster ${r.cluster}: ${r.users} users at ${r.spawnRate}/s, ${r.plateauS}s plateau`,
    ...common,
    `p95 latency during scale-out ${f(s.p95DuringScaleOutMs, 'ms')}, at steady state ${f(s.p95SteadyMs, 'ms')}`,
    `requests ${s.requests}, failed ${s.failedRequests}, failed while scaling in ${s.failedDuringScaleIn}`,
    `members that served requests: ${s.membersThatServed} of ${s.membersSeen}`,
  ].join('\n');
}

export async function renderReport(r: ScenarioReport): Promise<{ chart: string; summary: string; text: string }> {
  const s = summarize(r);
  const chart = path.join(r.reportDir, 'chart.svg');
  writeFileSync(chart, await renderSvg(chartSpec(r)));
  const summary = path.join(r.reportDir, 'summary.json');
  const { samples, ...rest } = r;
  writeFileSync(summary, JSON.stringify({ summary: s, ...rest, samples }, null, 2));
  const text = summaryText(r, s);
  writeFileSync(path.join(r.reportDir, 'summary.txt'), `${text}\n`);
  return { chart, summary, text };
}
