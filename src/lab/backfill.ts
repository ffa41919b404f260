// Gives the lab's Prometheus a past: a counter's history written as TSDB blocks by promtool's OpenMetrics backfill and
// moved into the lab's storage, where Prometheus loads them within a minute (it reloads its blocks every minute, and
// since 2.39 it accepts blocks that overlap the ones it has). Prediction needs a day or more of history, and a lab
// started minutes ago has none.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { PrometheusSource } from '../activities/metrics/prometheus';
import { findTool } from './tools';
import { WrongRequestError } from '../config/wrong-request';

export interface CounterHistory {
  /** The counter's name, without `_total`. */
  metric: string;
  labels?: Record<string, string>;
  fromMs: number;
  toMs: number;
  /** Between samples (ms); the scrape interval the history pretends to. */
  stepMs: number;
  /** Events per second at time t (ms). */
  rate: (t: number) => number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The history as OpenMetrics text (timestamps in seconds), as promtool reads it. */
export function counterOpenMetrics(h: CounterHistory): string {
  if (!NAME.test(h.metric)) throw new Error(`"${h.metric}" is not a metric name`);
  if (!(h.stepMs > 0) || !(h.toMs > h.fromMs)) throw new Error('the history needs a step > 0 and an end after its start');
  const labels = Object.entries(h.labels ?? {});
  for (const [k] of labels) if (!NAME.test(k) || k.includes(':')) throw new Error(`"${k}" is not a label name`);
  const sel = labels.length ? `{${labels.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}` : '';
  const lines = [`# TYPE ${h.metric} counter`];
  let total = 0;
  for (let t = h.fromMs; t <= h.toMs; t += h.stepMs) {
    total += Math.max(0, h.rate(t)) * (h.stepMs / 1000);
    lines.push(`${h.metric}_total${sel} ${total.toFixed(3)} ${(t / 1000).toFixed(3)}`);
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

/**
 * Writes `h` into the Prometheus storage at `storageDir` (the lab's `<dataDir>/prometheus`): promtool builds the
 * blocks in a folder beside it, and each block is moved in whole (a rename), so Prometheus never sees half a block.
 * Returns the samples written and the blocks moved in.
 */
export function backfillCounter(storageDir: string, h: CounterHistory): { samples: number; blocks: number } {
  const promtool = findTool('promtool');
  if (!promtool) throw new Error('promtool is missing (Debian package prometheus): run "poolpilot tools install"');
  if (!statSync(storageDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${storageDir} is not a Prometheus storage folder`);
  const work = path.join(path.dirname(storageDir), `backfill-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  try {
    const text = counterOpenMetrics(h);
    const file = path.join(work, 'history.om');
    writeFileSync(file, text);
    const out = path.join(work, 'blocks');
    execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', file, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    const blocks = readdirSync(out).filter((d) => statSync(path.join(out, d)).isDirectory());
    for (const b of blocks) renameSync(path.join(out, b), path.join(storageDir, b));
    return { samples: text.split('\n').length - 3, blocks: blocks.length };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface DailyCycle {
  /** Requests per second at the quietest hour (02:00) and at the busiest (14:00), local time. */
  trough: number;
  peak: number;
}

/** Requests per second at time t (ms) of a daily cycle: lowest at 02:00 and highest at 14:00, local time, smooth between. */
export function dailyCycleRate(c: DailyCycle, t: number): number {
  const d = new Date(t);
  const hour = d.getHours() + d.getMinutes() / 60 + d.getSeconds() / 3600;
  return c.trough + ((c.peak - c.trough) * (1 - Math.cos((2 * Math.PI * (hour - 2)) / 24))) / 2;
}

/** The lab's HAProxy backend request counter (without `_total`), as its Prometheus scrapes it and specs query it. */
export const LAB_REQUESTS_COUNTER = 'haproxy_backend_http_requests';

/**
 * Backfills `hours` of a daily cycle of a counter, ending `endMs`, at 15 s steps (the lab's scrape interval). The
 * end should be a minute or more before now, so that a live [1m] rate never sees the history's last samples.
 */
export function backfillDailyCycle(
  storageDir: string,
  o: DailyCycle & { metric: string; labels: Record<string, string>; hours: number; endMs: number },
): { samples: number; blocks: number } {
  const problem = historyProblem(o);
  if (problem) throw new Error(problem);
  return backfillCounter(storageDir, {
    metric: o.metric,
    labels: o.labels,
    fromMs: o.endMs - o.hours * 3_600_000,
    toMs: o.endMs,
    stepMs: 15_000,
    rate: (t) => dailyCycleRate(o, t),
  });
}

/** The checks `lab history` makes of its numbers; undefined if they hold. */
export function historyProblem(o: { hours: number; trough: number; peak: number }): string | undefined {
  if (!Number.isFinite(o.hours) || o.hours < 1 || o.hours > 24 * 15) return `--hours must be 1 to 360 (15 days), not ${o.hours}`;
  if (!Number.isFinite(o.trough) || o.trough < 0) return `--trough must be a rate of 0 or more, not ${o.trough}`;
  if (!Number.isFinite(o.peak) || o.peak < o.trough) return `--peak must be at least --trough (${o.trough}), not ${o.peak}`;
  return undefined;
}

/**
 * Whether Prometheus at `url` serves a rate of `selector` (a counter's series selector) `hoursAgo` hours back: a
 * backfilled block is loaded. No data yet, or no answer, is false.
 */
export async function historyServed(url: string, selector: string, hoursAgo: number): Promise<boolean> {
  const v = await new PrometheusSource(url).query(`sum(rate(${selector}[1m] offset ${Math.round(hoursAgo * 60)}m))`).catch(() => undefined);
  return v !== undefined && v > 0;
}

/** A `lab history` request refused for its input or the lab's state: nothing was written. */
export class HistoryRequestError extends WrongRequestError {
  override name = 'HistoryRequestError';
}

/**
 * `poolpilot lab history`: backfills a daily cycle of the lab backend's request counter into the lab's Prometheus (a
 * series of its own, `source="backfill"`, ending two minutes ago so a live [1m] rate never sees it) and returns once
 * Prometheus serves it. Refused, with nothing written, for bad numbers, a lab not up, or a history already there.
 */
export async function labHistory(dataDir: string, o: DailyCycle & { hours: number }, log: (line: string) => void): Promise<void> {
  const problem = historyProblem(o);
  if (problem) throw new HistoryRequestError(problem);
  const { labStatus } = await import('./lab');
  const st = labStatus(dataDir);
  const prometheus = st.components.find((c) => c.name === 'prometheus');
  if (!st.state || !st.endpoints?.prometheusUrl || !prometheus?.running) throw new HistoryRequestError(`the lab at ${dataDir} is not up with Prometheus: run "poolpilot lab up" first`);
  const url = st.endpoints.prometheusUrl;
  const labels = { proxy: st.endpoints.haproxyBackend, source: 'backfill' };
  const selector = `${LAB_REQUESTS_COUNTER}_total{proxy="${labels.proxy}",source="backfill"}`;
  // A second history would interleave with the first in the same series, and its rates would be nonsense.
  const earlier = await new PrometheusSource(url).query(`count(count_over_time(${selector}[15d]))`).catch(() => 0);
  if (earlier > 0) throw new HistoryRequestError(`the lab's Prometheus already has a backfilled history (${selector}): "poolpilot lab down --purge" and "lab up" for a fresh one`);
  const written = backfillDailyCycle(path.join(st.state.config.dataDir, 'prometheus'), { ...o, metric: LAB_REQUESTS_COUNTER, labels, endMs: Date.now() - 120_000 });
  log(`wrote ${written.samples} samples of ${selector} (${o.hours} h, ${o.trough} to ${o.peak} requests/s) in ${written.blocks} block(s); waiting for Prometheus to load them (it looks once a minute)…`);
  const deadline = Date.now() + 150_000;
  while (!(await historyServed(url, selector, o.hours - 1))) {
    if (Date.now() > deadline) throw new Error(`Prometheus at ${url} has not loaded the history in 150 s: see ${path.join(st.state.config.dataDir, 'logs', 'prometheus.log')}`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  log(`Prometheus serves the history. A spec whose demand query reads ${LAB_REQUESTS_COUNTER}_total{proxy="${labels.proxy}"} now has a forecast to trust: poolpilot --lab cluster apply -f examples/web-predictive.yaml`);
}
