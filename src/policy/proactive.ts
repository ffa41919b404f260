// Proactive scaling as the autoscaler and the backtest both apply it: a forecast turned into members one
// time-to-ready ahead, and the schedules' bounds at a moment — one implementation for both.
import type { Nowcast } from './nowcast';
import { nextScheduleChange, openWindows, scheduledBounds, type OpenWindow, type ScheduledBounds, type ScheduleSpec } from './schedules';

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** What a member carries before a target tracker scales out: the target × (1 + tolerance). */
export const memberCapacity = (target: number, tolerance: number): number => target * (1 + tolerance);

export interface DemandFloorOptions {
  /** From a scale-out to the member serving (ms): for the sentence, the level is what such a member meets. */
  timeToReadyMs: number;
  /** Demand one member carries before the reactive policy scales out: the target × (1 + tolerance). */
  capacity: number;
  /** Standard deviations of demand above its recent level to cover. */
  margin: number;
  /** Extra capacity over that (fraction). */
  headroom: number;
  unit?: string;
}

/**
 * The members that cover the demand expected one time-to-ready from now: the recent level plus `margin` standard
 * deviations of a reading around it, over what a member carries. It leads scale-in too (decide() scales in to it
 * without waiting out stabilization, never below the reactive recommendation): it already looks past the noise that
 * stabilization waits out.
 */
export function demandFloor(nc: Nowcast, now: number, o: DemandFloorOptions): { members: number; text: string; leadsScaleIn: true } {
  const demand = (nc.level + o.margin * nc.sigma) * (1 + o.headroom);
  const members = Math.max(0, Math.ceil(demand / o.capacity - 1e-9));
  const u = o.unit ? ` ${o.unit}` : '';
  const head = o.headroom ? `, ${Math.round(o.headroom * 100)}% headroom` : '';
  const text = `forecast ${num(demand)}${u} at ${hhmm(now + o.timeToReadyMs)} (+${Math.round(o.timeToReadyMs / 60_000)} min time-to-ready): level ${num(nc.level)} over ${nc.samples} readings + ${o.margin}σ (σ ${num(nc.sigma)})${head}, ${num(o.capacity)} per member → ${members}`;
  return { members, text, leadsScaleIn: true };
}

export interface ScheduleView {
  open: OpenWindow[];
  bounds: ScheduledBounds;
  /** When a window next opens or closes (ms). */
  nextChange?: number;
}

/** The schedules' state at `now`, recomputed only when a window has opened or closed since the last call. */
export class ScheduleClock {
  private view?: ScheduleView;
  private at = -Infinity;
  constructor(
    private readonly schedules: readonly ScheduleSpec[],
    private readonly spec: { min: number; max: number },
  ) {}

  read(now: number): ScheduleView {
    if (!this.view || now < this.at || (this.view.nextChange !== undefined && now >= this.view.nextChange)) {
      const open = openWindows(this.schedules, now);
      this.view = { open, bounds: scheduledBounds(this.spec, open), nextChange: nextScheduleChange(this.schedules, now) };
      this.at = now;
    }
    return this.view;
  }
}
