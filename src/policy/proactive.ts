// Proactive scaling as the autoscaler and the backtest both apply it: a forecast turned into members one
// time-to-ready ahead, and the schedules' bounds at a moment — one implementation for both.
import { peakBetween, type Forecast } from './forecast';
import { nextScheduleChange, openWindows, scheduledBounds, type OpenWindow, type ScheduledBounds, type ScheduleSpec } from './schedules';

export interface FloorOptions {
  /** From a scale-out to the member serving (ms). */
  timeToReadyMs: number;
  /** Demand one member should carry: the metric's target. */
  level: number;
  /** Extra capacity over the forecast (fraction). */
  headroom: number;
  /** The demand's unit, for the sentence. */
  unit?: string;
}

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/**
 * The members the forecast wants now: enough for the highest demand it expects from now until one time-to-ready
 * (and one forecast step) from now, since members asked for now serve only then. Undefined outside the forecast.
 */
export function forecastFloor(f: Pick<Forecast, 'startMs' | 'stepMs' | 'values'>, now: number, o: FloorOptions): { members: number; text: string } | undefined {
  const until = now + o.timeToReadyMs + f.stepMs;
  const peak = peakBetween(f, now, until);
  if (peak === undefined) return undefined;
  const members = Math.ceil((peak * (1 + o.headroom)) / o.level - 1e-9);
  const text = `forecast ${num(peak)}${o.unit ? ` ${o.unit}` : ''} by ${hhmm(until)} (+${Math.round(o.timeToReadyMs / 60_000)} min time-to-ready, ${Math.round(o.headroom * 100)}% headroom) → ${members}`;
  return { members, text };
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
