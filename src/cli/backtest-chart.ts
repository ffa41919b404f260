// The backtest's chart as a plain SVG: demand (in members' worth) and each policy's ready members over time.
//
// Hand-written rather than through the demo's Vega: a few polylines need no chart library in the product's
// dependencies, and 60 days of minutes are first reduced to at most WIDTH points (the maximum of each bucket, so
// peaks and shortfalls stay visible).
import type { DemandTrace } from '../policy/backtest';
import type { BacktestResult } from '../policy/peers';

const WIDTH = 1200;
const HEIGHT = 420;
const PAD = { left: 50, right: 200, top: 20, bottom: 40 };
/** One colour per policy in every chart of a backtest; others (none today) take the spare ones by position. */
const POLICY_COLORS: Record<string, string> = { spec: '#d62728', 'spec-reactive-only': '#ff7f0e', 'fixed-step': '#9467bd', hpa: '#1f77b4', aws: '#2ca02c', oracle: '#111111' };
const SPARE = ['#8c564b', '#e377c2', '#17becf'];
export const DEMAND_COLOR = '#999';
export const policyColor = (name: string, i = 0): string => POLICY_COLORS[name] ?? SPARE[i % SPARE.length]!;

function buckets(values: ArrayLike<number>, n: number, scale = 1): number[] {
  const size = Math.max(1, Math.ceil(values.length / n));
  const out: number[] = [];
  for (let i = 0; i < values.length; i += size) {
    let m = -Infinity;
    for (let j = i; j < Math.min(i + size, values.length); j++) m = Math.max(m, values[j]!);
    out.push(m * scale);
  }
  return out;
}

export const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function renderBacktestChart(trace: DemandTrace, r: BacktestResult): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const series = [
    { name: 'demand (members needed)', points: buckets(trace.values, plotW, 1 / r.model.capacityPerMember), color: DEMAND_COLOR, width: 1 },
    ...r.policies.map((p, i) => ({ name: p.name, points: buckets(p.ready, plotW), color: policyColor(p.name, i), width: 1.2 })),
  ];
  const top = Math.max(1, ...series.flatMap((s) => s.points)) * 1.05;
  const x = (i: number, n: number) => PAD.left + (n > 1 ? (i / (n - 1)) * plotW : 0);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const days = (trace.values.length * trace.stepMs) / 86_400_000;
  const ticks = Array.from({ length: 6 }, (_, k) => (top / 5) * k);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    ...ticks.map((v) => `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(0)}</text>`),
    `<text x="${PAD.left}" y="${HEIGHT - 12}">0</text><text x="${PAD.left + plotW}" y="${HEIGHT - 12}" text-anchor="end">${days.toFixed(1)} days</text>`,
    `<text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">members (peak of each bucket)</text>`,
    ...series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width}" points="${s.points.map((v, i) => `${x(i, s.points.length).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`),
    ...series.map((s, i) => `<rect x="${WIDTH - PAD.right + 12}" y="${PAD.top + i * 18}" width="12" height="3" fill="${s.color}"/><text x="${WIDTH - PAD.right + 30}" y="${PAD.top + i * 18 + 5}">${esc(s.name)}</text>`),
    '</svg>',
  ];
  return parts.join('\n');
}
