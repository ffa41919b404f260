// `poolpilot backtest`: a spec's policy and its peers' on recorded demand (a CSV, or the spec's Prometheus history).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { PrometheusSource } from '../activities/metrics/prometheus';
import { formatDuration, parseDuration } from '../config/duration';
import { fileProblem } from '../config/file-problem';
import { loadClusterSpec } from '../config/load';
import type { ClusterSpec } from '../config/spec';
import { parseTraceCsv, TraceError } from '../config/trace';
import type { DemandTrace, Simulation } from '../policy/backtest';
import { BacktestInputError, PEERS, runBacktest, type BacktestResult, type PeerName, type SweepPoint } from '../policy/peers';
import { table } from '../client/format';
import { renderBacktestChart } from './backtest-chart';
import { renderFrontierChart } from './backtest-frontier-chart';
import { runSweep } from './backtest-sweep';
import { formatShare, parseShare, shareProblem } from '../config/share';
import { UsageError } from './errors';
import { oldSpelling, required } from './options';

export interface BacktestCliOptions {
  file?: string;
  /** The old spelling of --file. */
  cluster?: string;
  trace?: string;
  column?: string;
  start?: string;
  scale: number;
  capacityPerMember?: number;
  clone: number;
  boot: number;
  drain?: number;
  metric?: string;
  min?: number;
  max?: number;
  compare: PeerName[];
  holdGaps?: boolean;
  prometheus?: string;
  query?: string;
  from?: string;
  to?: string;
  step: number;
  json?: boolean;
  out?: string;
  objective?: number;
  sweepObjective?: number[];
}

const durationArg = (flag: string) => (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined) throw new UsageError(`${flag} must be a duration such as 30s, 2m or 90, not "${v}"`);
  return ms;
};
const numberArg = (flag: string, least = 0) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= least) throw new UsageError(`${flag} must be a number above ${least}, not "${v}"`);
  return n;
};
const countArg = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a whole number, not "${v}"`);
  return Number(v);
};
const shareArg = (flag: string) => (v: string) => {
  const problem = shareProblem(v);
  if (problem) throw new UsageError(`${flag}: ${problem}`);
  return parseShare(v)!;
};
const sharesArg = (flag: string) => (v: string) => {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean).map(shareArg(flag));
  if (list.length === 0) throw new UsageError(`${flag} needs a list such as 0.5%,1%,2%,5%,10%`);
  return [...new Set(list)];
};
const peersArg = (v: string): PeerName[] => {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  const wrong = names.filter((n) => !(PEERS as readonly string[]).includes(n));
  if (wrong.length) throw new UsageError(`--compare: unknown polic${wrong.length > 1 ? 'ies' : 'y'} ${wrong.join(', ')} (known: ${PEERS.join(', ')})`);
  return names as PeerName[];
};

/** A time for --from/--to: ISO, Unix seconds, or "now-7d" style relative to now. */
export function parseTimeArg(v: string, now = Date.now()): number {
  const rel = /^now(-(.+))?$/.exec(v.trim());
  if (rel) {
    if (!rel[2]) return now;
    const unit = /^(\d+(?:\.\d+)?)d$/.exec(rel[2]);
    const ms = unit ? Number(unit[1]) * 86_400_000 : parseDuration(rel[2]);
    if (ms === undefined) throw new UsageError(`"${v}" is not a time (use ISO, Unix seconds, or now-7d / now-12h)`);
    return now - ms;
  }
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new UsageError(`"${v}" is not a time (use ISO, Unix seconds, or now-7d / now-12h)`);
  return t;
}

/** The demand from Prometheus: --query, else the metric's own query when it is a pool total. */
async function prometheusTrace(spec: ClusterSpec, o: BacktestCliOptions): Promise<DemandTrace & { source: string }> {
  if (!o.from || !o.to) throw new UsageError('--prometheus needs --from and --to');
  const metric = o.metric ? spec.metrics.find((m) => m.name === o.metric) : spec.metrics[0];
  let query = o.query;
  if (!query) {
    if (!metric || !('prometheus' in metric.source)) throw new UsageError(`give --query: metric ${metric?.name ?? '(none)'} of cluster ${spec.name} has no Prometheus query`);
    if (!metric.target || metric.target.perMember) {
      throw new UsageError(`metric ${metric.name} is a per-member average; give --query for the pool's total demand (e.g. sum(...) instead of avg(...))`);
    }
    query = metric.source.prometheus.query;
  }
  const start = parseTimeArg(o.from);
  const end = parseTimeArg(o.to);
  if (end <= start) throw new UsageError(`--to ${o.to} is not after --from ${o.from}`);
  const points = await new PrometheusSource(o.prometheus!, 60_000).rangeQuery(query, start, end, o.step).catch((err: Error) => {
    throw new BacktestInputError(err.message);
  });
  const values: number[] = [];
  let prev: number | undefined;
  for (const [t, v] of points) {
    if (prev !== undefined && t - prev > o.step) {
      const missing = Math.round((t - prev) / o.step) - 1;
      if (!o.holdGaps) throw new TraceError(`Prometheus has no samples for ${missing} step(s) before ${new Date(t).toISOString()} (use --hold-gaps to repeat the last value over gaps)`);
      for (let k = 0; k < missing; k++) values.push(values[values.length - 1]!);
    }
    values.push(v * o.scale);
    prev = t;
  }
  if (values.length < 2) throw new TraceError(`"${query}" returned ${values.length} sample(s) between --from and --to: too few to backtest`);
  return { stepMs: o.step, values, startMs: start, source: `${o.prometheus} ${query} [${new Date(start).toISOString()} .. ${new Date(end).toISOString()}, step ${formatDuration(o.step)}]` };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function formatBacktest(r: BacktestResult, source: string): string {
  const forecasts = r.policies.some((p) => p.scores.forecastError !== undefined);
  const counted = r.policies.some((p) => p.scores.countedUnder !== undefined);
  const head = ['POLICY', 'UNDER MIN', 'MEMBER-H', 'VS ORACLE', 'ACC UNDER %', 'ACC OVER %', 'TIME UNDER %', 'TIME OVER %', 'ACTIONS', 'REVERSALS', ...(forecasts ? ['FORECAST sMAPE %', 'IN USE %'] : []), ...(counted ? ['COUNTED UNDER %'] : [])];
  const rows = r.policies.map(({ name, scores: s }) => [
    name,
    fmt(s.underProvisionedMinutes, 0),
    fmt(s.memberHours, 0),
    fmt(s.memberHoursVsOracle, 2),
    fmt(s.accuracyUnder, 2),
    fmt(s.accuracyOver, 1),
    fmt(s.timeshareUnder, 2),
    fmt(s.timeshareOver, 1),
    String(s.actions),
    String(s.reversals),
    ...(forecasts ? [s.forecastError !== undefined ? fmt(s.forecastError) : '-', s.forecastInUse !== undefined ? fmt(s.forecastInUse, 0) : '-'] : []),
    ...(counted ? [s.countedUnder !== undefined ? fmt(s.countedUnder, 2) : '-'] : []),
  ]);
  const m = r.model;
  return [
    `demand: ${source}`,
    `pool model: ${m.capacityPerMember} per member (metric ${r.metric}); ready ${formatDuration(m.timeToReadyMs)} after a scale-out; drain ${formatDuration(m.drainMs)}; bounds [${r.bounds.min}, ${r.bounds.max}]`,
    '',
    table(head, rows),
  ].join('\n');
}

/** The sweep beside the peers: each objective's point on the spec's frontier, then each peer's point. */
export function formatSweep(points: SweepPoint[], r: BacktestResult): string {
  const head = ['POLICY', 'OBJECTIVE', 'COUNTED UNDER %', 'UNDER MIN', 'TIME UNDER %', 'MEMBER-H', 'VS ORACLE'];
  const row = (name: string, objective: string, s: Simulation['scores']) => [name, objective, s.countedUnder !== undefined ? fmt(s.countedUnder, 2) : '-', fmt(s.underProvisionedMinutes, 0), fmt(s.timeshareUnder, 2), fmt(s.memberHours, 0), fmt(s.memberHoursVsOracle, 2)];
  const rows = [...points.map((p) => row(p.spec.name, formatShare(p.objective), p.spec.scores)), ...r.policies.filter((p) => p.name !== 'spec').map((p) => row(p.name, '-', p.scores))];
  return table(head, rows);
}

/** The JSON other tools read: documented in docs/backtest-and-prediction.md; names are stable. */
export function backtestJson(r: BacktestResult, source: string, trace: DemandTrace) {
  return {
    trace: { source, steps: trace.values.length, stepMs: trace.stepMs },
    model: { ...r.model, metric: r.metric, ...r.bounds },
    policies: r.policies.map((p: Simulation) => ({ name: p.name, ...p.scores })),
  };
}

export async function runBacktestCommand(o: BacktestCliOptions): Promise<number> {
  const spec = loadClusterSpec(required(o.file ?? o.cluster, '-f, --file <file>'));
  const objectiveFlag = o.objective !== undefined ? '--objective' : o.sweepObjective ? '--sweep-objective' : undefined;
  if (objectiveFlag && !spec.prediction) throw new UsageError(`${objectiveFlag}: cluster ${spec.name} has no prediction block, whose demand floor an objective calibrates`);
  if (!o.trace === !o.prometheus) throw new UsageError('give the demand as --trace CSV or as --prometheus URL --from T --to T');
  let trace: DemandTrace;
  let source: string;
  if (o.trace) {
    let text: string;
    try {
      text = readFileSync(o.trace, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --trace ${o.trace}: ${fileProblem(err)}`);
    }
    const parsed = parseTraceCsv(text, { source: o.trace, column: o.column, holdGaps: o.holdGaps, scale: o.scale });
    // Offsets (minute 0, 1, …) are placed at --start for schedules; ISO times carry their own.
    trace = { ...parsed, startMs: o.start !== undefined ? parseTimeArg(o.start) + parsed.startMs : parsed.startMs };
    source = `${o.trace} (${parsed.column}${o.scale !== 1 ? ` × ${o.scale}` : ''}, ${parsed.values.length} steps of ${formatDuration(parsed.stepMs)})`;
    if (parsed.filled.length) console.error(`backtest: held the last value over ${parsed.filled.length} gap(s), the first before row ${parsed.filled[0]!.row}`);
  } else {
    ({ source, ...trace } = await prometheusTrace(spec, o));
  }
  const result = runBacktest(trace, spec, {
    metric: o.metric,
    capacityPerMember: o.capacityPerMember,
    cloneMs: o.clone,
    bootMs: o.boot,
    drainMs: o.drain,
    min: o.min,
    max: o.max,
    compare: o.compare,
    objective: o.objective,
  });
  const json: ReturnType<typeof backtestJson> & { sweep?: { objective: number; name: string }[] } = backtestJson(result, source, trace);
  let sweep: SweepPoint[] | undefined;
  if (o.sweepObjective) {
    const options = { metric: o.metric, capacityPerMember: o.capacityPerMember, cloneMs: o.clone, bootMs: o.boot, drainMs: o.drain, min: o.min, max: o.max, compare: [] };
    sweep = await runSweep({ trace, spec, options, objectives: o.sweepObjective });
    json.sweep = sweep.map((p) => ({ objective: p.objective, name: p.spec.name, ...p.spec.scores }));
  }
  if (o.json) console.log(JSON.stringify(json, null, 2));
  else {
    console.log(formatBacktest(result, source));
    if (sweep) console.log(`\nthe spec's frontier (--sweep-objective), beside the peers:\n\n${formatSweep(sweep, result)}`);
  }
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileSync(path.join(o.out, 'backtest.json'), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(path.join(o.out, 'backtest.svg'), renderBacktestChart(trace, result));
    writeFileSync(path.join(o.out, 'backtest-frontier.svg'), renderFrontierChart({ trace, result, ...(sweep ? { sweep } : {}), spec: spec.name, source }));
    if (!o.json) console.log(`\nwrote ${['backtest.json', 'backtest.svg', 'backtest-frontier.svg'].map((f) => path.join(o.out!, f)).join(', ')}`);
  }
  return 0;
}

export function backtestCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('backtest')
    .description("score a cluster spec's policy on recorded demand, side by side with NSX ALB / Senlin (fixed-step), the HPA, AWS and an oracle")
    .option('-f, --file <file>', 'the cluster spec (YAML or JSON)')
    .addOption(oldSpelling('--cluster <file>', '-f, --file'))
    .option('--trace <csv>', 'demand as CSV: a time column, then value columns')
    .option('--column <name>', 'the CSV value column (default: the second column)')
    .option('--start <time>', 'the wall time of a CSV whose times are offsets (minute 0, 1, …), for schedules (ISO)')
    .option('--hold-gaps', 'repeat the last value over gaps in the data instead of failing')
    .option('--prometheus <url>', "read the demand from Prometheus' history instead")
    .option('--query <promql>', "the pool's total demand (default: the metric's own query, if it is a total)")
    .option('--from <time>', 'ISO, Unix seconds or now-7d')
    .option('--to <time>', 'ISO, Unix seconds or now')
    .addOption(new Option('--step <duration>', 'range-query step').argParser(durationArg('--step')).default(60_000, '1m'))
    .option('--metric <name>', 'the spec metric the demand feeds (default: the first)')
    .option('--scale <x>', 'multiply the demand by x', numberArg('--scale'), 1)
    .option('--capacity-per-member <n>', "demand one member serves (default: the metric's target × (1 + autoscaling.tolerance), the most a target tracker lets a member carry; a threshold policy's high threshold)", numberArg('--capacity-per-member'))
    .addOption(new Option('--clone <duration>', 'clone time of a new member').argParser(durationArg('--clone')).default(30_000, '30s'))
    .addOption(new Option('--boot <duration>', 'guest boot time of a new member').argParser(durationArg('--boot')).default(90_000, '90s'))
    .option('--drain <duration>', "how long a removed member drains (default: the spec's drainGracePeriod)", durationArg('--drain'))
    .option('--min <n>', "override the spec's min", countArg('--min'))
    .option('--max <n>', "override the spec's max", countArg('--max'))
    .addOption(new Option('--compare <list>', `peers to compare with: ${PEERS.join(',')}`).argParser(peersArg).default([...PEERS], PEERS.join(',')))
    .option('--objective <share>', "the share of time under-provisioned the spec's prediction aims at, over the spec's own (e.g. 1%)", shareArg('--objective'))
    .option('--sweep-objective <list>', 'score the spec at each objective too (e.g. 0.5%,1%,2%,5%,10%), in parallel, beside the peers', sharesArg('--sweep-objective'))
    .option('--json', 'print {"policies": [...]} as JSON')
    .option('--out <dir>', 'write there backtest.json, backtest.svg (demand and each policy’s ready capacity) and backtest-frontier.svg (member-hours against time under-provisioned, the sweep as a line; the busiest day zoomed in)')
    .action(async (o: BacktestCliOptions) => setExit(await runBacktestCommand(o)));
}
