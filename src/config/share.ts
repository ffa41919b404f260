// Shares of time in specs and options: "1%", "0.5%", or a fraction such as 0.01. One parser for the spec's objective
// and the backtest's --objective / --sweep-objective, so both read "1%" the same way.
import { z } from 'zod';

/** The objective's range: above 0 (no pool is never short), at most half the time (beyond that, why scale?). */
export const SHARE_BOUNDS = { min: 0.0001, max: 0.5 } as const;

/** "1%" → 0.01, 0.01 → 0.01; a number above 1 is refused (write "5%", not 5). Undefined when it is not a share. */
export function parseShare(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(value);
  if (!m) return undefined;
  const x = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  return x <= 1 ? x : undefined;
}

/** Why a value is not an objective, or undefined when it is one. */
export function shareProblem(value: number | string): string | undefined {
  const x = parseShare(value);
  if (x === undefined) return `"${value}" is not a share of time (write e.g. "1%" or 0.01)`;
  if (x < SHARE_BOUNDS.min || x > SHARE_BOUNDS.max) return `${formatShare(x)} is outside ${formatShare(SHARE_BOUNDS.min)}…${formatShare(SHARE_BOUNDS.max)}`;
  return undefined;
}

export const formatShare = (x: number): string => `${+(x * 100).toPrecision(3)}%`;

/** A zod field for an objective: "1%" or 0.01, yielding the fraction. */
export const share = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const problem = shareProblem(value);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return parseShare(value)!;
});
