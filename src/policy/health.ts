// Health replacement (self-healing): which members have been broken for longer than the grace period, and how many
// may be replaced now under the hourly limit. Senlin's health policy and cloud auto-scaling groups do the same.
import type { HealthSpec } from '../config/spec';
import { memberProblem, type Member } from './inventory';

export interface UnhealthyMark {
  /** When the member was first seen broken (ms). */
  since: number;
  why: string;
}

/** The marks after a look at `members`: new problems start now, lasting ones keep their start, healed ones go. */
export function trackHealth(previous: Record<string, UnhealthyMark>, members: readonly Member[], now: number): Record<string, UnhealthyMark> {
  const next: Record<string, UnhealthyMark> = {};
  for (const m of members) {
    const why = memberProblem(m);
    if (why) next[m.name] = { since: previous[m.name]?.since ?? now, why };
  }
  return next;
}

export interface ReplacementPlan {
  /** Broken longer than the grace period and within the hourly limit: replace now. */
  due: { name: string; why: string; forMs: number }[];
  /** Broken longer than the grace period, but over the hourly limit. */
  held: string[];
  /** Replacement times still inside the last hour. */
  recent: number[];
}

export const HOUR_MS = 3_600_000;

/** Members to replace now; `recent` are the times of earlier replacements. */
export function planReplacements(marks: Record<string, UnhealthyMark>, now: number, health: HealthSpec, recent: readonly number[]): ReplacementPlan {
  const inHour = recent.filter((t) => now - t < HOUR_MS);
  const over = Object.entries(marks)
    .filter(([, m]) => now - m.since >= health.gracePeriod)
    .sort((a, b) => a[1].since - b[1].since || a[0].localeCompare(b[0]));
  if (!health.replace) return { due: [], held: [], recent: inHour };
  const room = Math.max(0, health.maxReplacementsPerHour - inHour.length);
  return {
    due: over.slice(0, room).map(([name, m]) => ({ name, why: m.why, forMs: now - m.since })),
    held: over.slice(room).map(([name]) => name),
    recent: inHour,
  };
}
