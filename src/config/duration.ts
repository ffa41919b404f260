// Durations in specs: a number of seconds or a string such as "500ms", "30s", "5m", "1h", "14d".
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as text: a number and an optional unit (seconds without one). The JSON Schema's pattern too. */
const DURATION_TEXT = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const m = DURATION_TEXT.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

/** A zod field that accepts 30, "30s", "500ms", "5m" and yields milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    // A negative one is the likeliest slip: say so rather than "not a duration".
    const negative = typeof value === 'number' ? value < 0 : /^\s*-\s*\d/.test(value);
    ctx.addIssue({ code: 'custom', message: negative ? `${JSON.stringify(value)} is negative: a duration is 0 or more` : `"${value}" is not a duration (use seconds, or e.g. "500ms", "30s", "5m", "2h", "14d")` });
    return z.NEVER;
  }
  return ms;
});
// What an editor checks as people type (the JSON Schema; zod's own check is the transform above).
z.globalRegistry.add(duration.in, {
  description: 'a duration: seconds as a number, or text such as "500ms", "30s", "5m", "2h", "14d"',
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: DURATION_TEXT.source },
  ],
});

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}
