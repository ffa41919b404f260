// The cluster spec's prediction block (pure: workflows bundle it): the seasonal forecast's settings, the demand
// floor's window, and the objective its margin is calibrated to (or a fixed margin).
import { z } from 'zod';
import { duration } from './duration';
import { share } from './share';

export const predictionSchema = z
  .object({
    /** The target metric whose level turns forecast demand into members (default: the first metric with a target). */
    metric: z.string().optional(),
    /** PromQL for the pool's total demand in that metric's unit; default the metric's own query when it is a total. */
    query: z.string().min(1).optional(),
    /** History read for each forecast, and its step. */
    history: duration.default(14 * 86_400_000),
    step: duration.default(300_000),
    /** How far ahead each forecast reaches, and how often it is made again. */
    horizon: duration.default(6 * 3_600_000),
    refresh: duration.default(3_600_000),
    /** From a scale-out to a member serving; the forecast is read this far ahead. Default: the median of the last five successful scale-outs, else 5 minutes. */
    timeToReady: duration.optional(),
    /** The recent readings whose mean, moved by half their trend to now, is the level the demand floor starts from. */
    window: duration.default(1_800_000),
    /**
     * What the operator wants: the share of time with less ready capacity than demand ("1%"). The floor's margin is
     * calibrated online from this cluster's own outcomes to meet it (src/policy/prediction.ts). Default 2% when no
     * margin is given.
     */
    objective: z.object({ underProvisioned: share }).strict().optional(),
    /**
     * A fixed margin instead: standard deviations of demand over the level the floor covers (the spread pooled over
     * about a day, as before objectives). Specs from before objectives carry it (margin 2 was the default); with it, nothing is calibrated.
     */
    margin: z.number().min(0).max(6).optional(),
    /** Extra capacity over the forecast, as a fraction. */
    headroom: z.number().min(0).max(2).default(0),
    /** A forecast whose error (sMAPE) on the last day is above this is set aside. */
    maxError: z.number().min(0).max(2).default(0.5),
    /** Record what the forecast would do, without acting on it. */
    forecastOnly: z.boolean().default(false),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.objective && p.margin !== undefined) ctx.addIssue({ code: 'custom', path: ['margin'], message: 'give objective or margin, not both: a fixed margin is not calibrated to an objective' });
  });

/**
 * The objective when the spec gives neither an objective nor a fixed margin: 2% of the time short, the figure the
 * peers' defaults reach on real traces at best (AWS target tracking: 2.2–5.4% on NASA 1995, WorldCup 1998, Twitter).
 */
export const DEFAULT_OBJECTIVE = 0.02;

/** The share of time under-provisioned the prediction aims at, or undefined when the spec fixes a margin instead. */
export function objectiveOf(p: { objective?: { underProvisioned: number }; margin?: number }): number | undefined {
  return p.objective?.underProvisioned ?? (p.margin === undefined ? DEFAULT_OBJECTIVE : undefined);
}
