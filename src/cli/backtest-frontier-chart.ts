// The backtest's trade-off chart as a plain SVG: member-hours against time under-provisioned (each peer a labelled
// point, the spec's objective sweep a line, the oracle marked), beside the busiest day of the trace zoomed in (demand
// and each policy's ready members by the minute, the max bound drawn). Plain SVG for the reason backtest-chart.ts
// gives; colours come from policyColor, so a policy has one colour in every chart.
import type { DemandTrace, Simulation } from '../policy/backtest';
import type { BacktestResult, SweepPoint } from '../policy/peers';
import { DEMAND_COLOR, esc, policyColor } from './backtest-chart';

const WIDTH = 1280;
const HEIGHT = 520;
const PANEL = { top: 70, bottom: 60, height: 520 - 70 - 60 };
const LEFT = { x: 70, width: 480 };
const RIGHT = { x: 680, width: 400 };
const DAY = 86_400_000;

export interface FrontierChartInput {
  trace: DemandTrace;
  result: BacktestResult;
  sweep?: SweepPoint[];
  /** The spec's name and where its demand came from, for the title. */
  spec: string;
  source: string;
}

const fmt = (x: number) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(0) : x.toFixed(1));

/** Ticks at round steps (1, 2, 5 × 10^k) within [from, to]. */
function ticks(to: number, from = 0, n = 5): number[] {
  const raw = (to - from) / n || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const first = Math.ceil(from / step) * step;
  return Array.from({ length: Math.floor((to - first) / step) + 1 }, (_, k) => first + k * step);
}

/** The step index where the busiest day (the highest daily total of demand) starts, and that day's length in steps. */
function busiestDay(trace: DemandTrace): { from: number; steps: number } {
  const perDay = Math.max(1, Math.round(DAY / trace.stepMs));
  // Days are the calendar days of the trace's clock when it has one, else whole days from its start.
  const offset = trace.startMs === undefined ? 0 : Math.round((((trace.startMs % DAY) + DAY) % DAY) / trace.stepMs);
  let best = { from: 0, total: -1 };
  for (let from = offset ? perDay - offset : 0; from < trace.values.length; from += perDay) {
    let total = 0;
    for (let s = from; s < Math.min(from + perDay, trace.values.length); s++) total += trace.values[s]!;
    if (total > best.total) best = { from, total };
  }
  return { from: best.from, steps: Math.min(perDay, trace.values.length - best.from) };
}

function frontierPanel(r: BacktestResult, sweep: SweepPoint[] | undefined): string[] {
  const points = r.policies.map((p) => ({ name: p.name, x: p.scores.timeshareUnder, y: p.scores.memberHours }));
  const line = (sweep ?? []).map((p) => ({ label: `${+(p.objective * 100).toPrecision(3)}%`, x: p.spec.scores.timeshareUnder, y: p.spec.scores.memberHours })).sort((a, b) => a.x - b.x);
  const all = [...points, ...line];
  const xTop = Math.max(1, ...all.map((p) => p.x)) * 1.08;
  const yMin = Math.min(...all.map((p) => p.y)) * 0.95;
  const yMax = Math.max(...all.map((p) => p.y)) * 1.03;
  const X = (v: number) => LEFT.x + (v / xTop) * LEFT.width;
  const Y = (v: number) => PANEL.top + PANEL.height - ((v - yMin) / (yMax - yMin || 1)) * PANEL.height;
  const yTicks = ticks(yMax, yMin);
  const out = [
    `<text x="${LEFT.x}" y="${PANEL.top - 12}" font-weight="bold">Cost against shortfall (lower left is better)</text>`,
    ...ticks(xTop).map((v) => `<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${PANEL.top}" y2="${PANEL.top + PANEL.height}" stroke="#eee"/><text x="${X(v).toFixed(1)}" y="${PANEL.top + PANEL.height + 16}" text-anchor="middle">${fmt(v)}%</text>`),
    ...yTicks.map((v) => `<line x1="${LEFT.x}" x2="${LEFT.x + LEFT.width}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/><text x="${LEFT.x - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`),
    `<text x="${LEFT.x + LEFT.width / 2}" y="${PANEL.top + PANEL.height + 36}" text-anchor="middle">time under-provisioned (% of the trace)</text>`,
    `<text x="18" y="${PANEL.top + PANEL.height / 2}" transform="rotate(-90 18 ${PANEL.top + PANEL.height / 2})" text-anchor="middle">member-hours</text>`,
  ];
  if (line.length) {
    out.push(`<polyline fill="none" stroke="${policyColor('spec')}" stroke-width="1.5" stroke-dasharray="4 3" points="${line.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"><title>the spec at each objective (--sweep-objective)</title></polyline>`);
    for (const p of line) out.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3" fill="white" stroke="${policyColor('spec')}"/><text x="${(X(p.x) + 5).toFixed(1)}" y="${(Y(p.y) - 5).toFixed(1)}" fill="${policyColor('spec')}" font-size="10">${esc(p.label)}</text>`);
  }
  for (const p of points) {
    const c = policyColor(p.name);
    const mark = p.name === 'oracle' ? `<path d="M${(X(p.x) - 6).toFixed(1)},${Y(p.y).toFixed(1)} l6,-6 l6,6 l-6,6 z" fill="${c}"/>` : `<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="5" fill="${c}"/>`;
    out.push(`${mark}<text x="${(X(p.x) + 8).toFixed(1)}" y="${(Y(p.y) + 4).toFixed(1)}" fill="${c}" font-weight="bold">${esc(p.name)}</text>`);
  }
  return out;
}

function dayPanel(trace: DemandTrace, r: BacktestResult): string[] {
  const { from, steps } = busiestDay(trace);
  const cap = r.model.capacityPerMember;
  const demand = Array.from({ length: steps }, (_, i) => trace.values[from + i]! / cap);
  // Demand last, so it shows over the oracle's line, which follows it closely.
  const series = [...r.policies.map((p: Simulation) => ({ name: p.name, color: policyColor(p.name), values: Array.from(p.ready.subarray(from, from + steps)) })), { name: 'demand (members needed)', color: DEMAND_COLOR, values: demand }];
  const peak = Math.max(1, ...series.flatMap((s) => s.values));
  // The max bound is drawn where it is in reach; far above the day's peak it would flatten the lines, so it is named.
  const maxInReach = r.bounds.max <= peak * 2;
  const top = (maxInReach ? Math.max(peak, r.bounds.max) : peak) * 1.05;
  const X = (i: number) => RIGHT.x + (i / Math.max(1, steps - 1)) * RIGHT.width;
  const Y = (v: number) => PANEL.top + PANEL.height - (v / top) * PANEL.height;
  const startMs = (trace.startMs ?? 0) + from * trace.stepMs;
  const hourSteps = Math.round(3_600_000 / trace.stepMs);
  const day = trace.startMs === undefined ? `day ${Math.floor((from * trace.stepMs) / DAY) + 1} of the trace` : new Date(startMs).toISOString().slice(0, 10) + ' (UTC)';
  const out = [
    `<text x="${RIGHT.x}" y="${PANEL.top - 12}" font-weight="bold">The busiest day: ${esc(day)}</text>`,
    ...ticks(top).map((v) => `<line x1="${RIGHT.x}" x2="${RIGHT.x + RIGHT.width}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/><text x="${RIGHT.x - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`),
    ...Array.from({ length: Math.floor(steps / (hourSteps * 3)) + 1 }, (_, k) => k * hourSteps * 3).map((i) => `<text x="${X(i).toFixed(1)}" y="${PANEL.top + PANEL.height + 16}" text-anchor="middle">${new Date(startMs + i * trace.stepMs).toISOString().slice(11, 16)}</text>`),
    `<text x="${RIGHT.x + RIGHT.width / 2}" y="${PANEL.top + PANEL.height + 36}" text-anchor="middle">time of day (UTC); ready members by the minute</text>`,
  ];
  if (!maxInReach) out.push(`<text x="${RIGHT.x + RIGHT.width}" y="${PANEL.top - 12}" text-anchor="end" fill="#555">max ${r.bounds.max}, above the chart</text>`);
  else out.push(`<line x1="${RIGHT.x}" x2="${RIGHT.x + RIGHT.width}" y1="${Y(r.bounds.max).toFixed(1)}" y2="${Y(r.bounds.max).toFixed(1)}" stroke="#333" stroke-dasharray="6 4"/><text x="${RIGHT.x + RIGHT.width}" y="${(Y(r.bounds.max) - 4).toFixed(1)}" text-anchor="end">max ${r.bounds.max}</text>`);
  for (const s of series) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.name.startsWith('demand') ? 1 : 1.3}" points="${s.values.map((v, i) => `${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`);
  series.forEach((s, i) => out.push(`<rect x="${RIGHT.x + RIGHT.width + 14}" y="${PANEL.top + i * 18}" width="12" height="3" fill="${s.color}"/><text x="${RIGHT.x + RIGHT.width + 30}" y="${PANEL.top + i * 18 + 5}">${esc(s.name)}</text>`));
  return out;
}

/** The whole chart: title, the trade-off panel and the busiest day. */
export function renderFrontierChart(o: FrontierChartInput): string {
  const m = o.result.model;
  const model = `${fmt(m.capacityPerMember)} ${esc(o.result.metric)} per member, ready ${+(m.timeToReadyMs / 60_000).toFixed(1)} min after a scale-out, drain ${Math.round(m.drainMs / 1000)} s, bounds [${o.result.bounds.min}, ${o.result.bounds.max}]`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${LEFT.x}" y="24" font-size="15" font-weight="bold">poolpilot backtest: spec ${esc(o.spec)} on ${esc(o.source)}</text>`,
    `<text x="${LEFT.x}" y="42" fill="#555">${model}</text>`,
    ...frontierPanel(o.result, o.sweep),
    ...dayPanel(o.trace, o.result),
    '</svg>',
  ].join('\n');
}
