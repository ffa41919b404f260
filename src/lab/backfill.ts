// Gives the lab's Prometheus a past: a counter's history written as TSDB blocks by promtool's OpenMetrics backfill and
// moved into the lab's storage, where Prometheus loads them within a minute (it reloads its blocks every minute, and
// since 2.39 it accepts blocks that overlap the ones it has). Prediction needs a day or more of history, and a lab
// started minutes ago has none.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { findTool } from './tools';

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
