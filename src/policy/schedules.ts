// Scheduled actions: cron windows (5-field cron, IANA time zones, DST-correct through croner) that raise or lower the
// bounds, or ask for a size once, as AWS scheduled actions, KEDA's cron scaler and NSX ALB schedules do.
//
// A window opens at each firing of its cron and lasts `until` (a duration), or, without `until`, until the next
// firing of its own cron — so an action without `until` stays in force, as an AWS scheduled action does.
// Overlapping windows: for each of min, max and desired, the window that opened last and sets it wins; the spec's
// own bounds apply where no open window sets them; a min above the max raises the max (the later intent to have
// capacity wins over a cap). `desired` is applied once, when its window opens.
import type { Cron as CronType } from 'croner';

export interface ScheduleSpec {
  name: string;
  cron: string;
  timezone: string;
  min?: number;
  max?: number;
  desired?: number;
  /** How long each window lasts (ms); absent: until the cron fires again. */
  until?: number;
}

export interface OpenWindow {
  name: string;
  openedAt: number;
  /** When it closes (ms): `until` after opening, or the cron's next firing. */
  closesAt: number;
  min?: number;
  max?: number;
  desired?: number;
}

export interface ScheduledBounds {
  min: number;
  max: number;
  /** The windows that set min / max (for the log and the status). */
  minBy?: string;
  maxBy?: string;
}

let croner: typeof import('croner') | undefined;
/** Loaded on first use: a workflow evaluates its modules per instance, and most clusters have no schedule. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cronModule = () => (croner ??= require('croner') as typeof import('croner'));

/** The most firings one cron remembers, and the most it steps forward to reach a time before starting afresh there. */
const FIRINGS_KEPT = 4096;
const FIRINGS_STEP = 64;

/**
 * A cron's firings, as croner gives them, remembered as one run of consecutive firings (each the next after the one
 * before): for a time inside the run, the next firing is the first remembered one after it, found by bisection.
 * Why: croner's nextRun in a time zone costs about 0.2 ms, and a backtest asks again at every window change of its
 * 60 days (measured: 14% of a predictive backtest's CPU); the answers are croner's own, only not asked twice.
 */
class Firings {
  /** Consecutive firings (ms), oldest first; the first is the next after `from` (ms). */
  private run: number[] = [];
  private from = Infinity;
  /** Whether the cron fires no more after the run's last (or, with none, after `from`). */
  private ended = false;

  constructor(private readonly cron: CronType) {}

  private ask(t: number): number | undefined {
    return this.cron.nextRun(new Date(t))?.getTime();
  }

  /** The next firing strictly after `t` (ms), if any. */
  next(t: number): number | undefined {
    const r = this.run;
    if (t >= this.from) {
      // None after `from`: a cron that never fires (30 February), as croner said.
      if (r.length === 0) return undefined;
      for (let steps = 0; r[r.length - 1]! <= t && !this.ended && steps < FIRINGS_STEP; steps++) {
        const f = this.ask(r[r.length - 1]!);
        if (f === undefined) this.ended = true;
        else r.push(f);
      }
      if (r[r.length - 1]! > t) {
        let lo = 0;
        let hi = r.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (r[mid]! > t) hi = mid;
          else lo = mid + 1;
        }
        const f = r[lo]!;
        if (r.length > FIRINGS_KEPT) this.from = r.splice(0, r.length - FIRINGS_KEPT / 2).pop()!;
        return f;
      }
      if (this.ended) return undefined;
    }
    // Before the run, or too far past it: a new run from the firing after `t`.
    const f = this.ask(t);
    this.run = f === undefined ? [] : [f];
    this.from = t;
    this.ended = f === undefined;
    return f;
  }
}

const crons = new Map<string, Firings>();

/** The firings of a schedule's cron; throws naming the problem for a bad expression or time zone. */
function firingsOf(s: Pick<ScheduleSpec, 'cron' | 'timezone'>): Firings {
  const key = `${s.timezone}\n${s.cron}`;
  let c = crons.get(key);
  if (!c) {
    c = new Firings(new (cronModule().Cron)(s.cron, { timezone: s.timezone, legacyMode: true }));
    crons.set(key, c);
  }
  return c;
}

/** The next firing strictly after `t` (ms), if any. */
export function nextFiring(s: ScheduleSpec, t: number): number | undefined {
  return firingsOf(s).next(t);
}

const LOOKBACK_MS = [86_400_000, 8 * 86_400_000, 32 * 86_400_000, 367 * 86_400_000];
/** More than any daylight-saving shift: a search that starts inside a repeated hour can miss that day's firing. */
const DST_MARGIN_MS = 2 * 3_600_000;

/** The last firing at or before `t`: within `until` (and a DST margin) when given, else up to a year back. */
export function lastFiring(s: ScheduleSpec, t: number): number | undefined {
  const search = (from: number) => {
    let last: number | undefined;
    for (let f = nextFiring(s, from - 1); f !== undefined && f <= t; f = nextFiring(s, f)) last = f;
    return last;
  };
  if (s.until !== undefined) return search(t - s.until - DST_MARGIN_MS);
  for (const back of LOOKBACK_MS) {
    const last = search(t - back);
    if (last !== undefined) return last;
  }
  return undefined;
}

/** The windows open at `now`, the one opened last first. */
export function openWindows(schedules: readonly ScheduleSpec[], now: number): OpenWindow[] {
  const open: OpenWindow[] = [];
  for (const s of schedules) {
    const openedAt = lastFiring(s, now);
    if (openedAt === undefined) continue;
    const closesAt = s.until !== undefined ? openedAt + s.until : (nextFiring(s, openedAt) ?? Infinity);
    if (now >= closesAt) continue;
    open.push({ name: s.name, openedAt, closesAt, min: s.min, max: s.max, desired: s.desired });
  }
  return open.sort((a, b) => b.openedAt - a.openedAt || a.name.localeCompare(b.name));
}

/** The bounds in force: for each, the window opened last that sets it, else the spec's. */
export function scheduledBounds(spec: { min: number; max: number }, open: readonly OpenWindow[]): ScheduledBounds {
  const minW = open.find((w) => w.min !== undefined);
  const maxW = open.find((w) => w.max !== undefined);
  const min = minW?.min ?? spec.min;
  let max = maxW?.max ?? spec.max;
  if (min > max) max = min;
  return { min, max, ...(minW ? { minBy: minW.name } : {}), ...(maxW ? { maxBy: maxW.name } : {}) };
}

/** The next time any window opens or closes after `now`: when the autoscaler must look again. */
export function nextScheduleChange(schedules: readonly ScheduleSpec[], now: number): number | undefined {
  let next: number | undefined;
  const consider = (t: number | undefined) => {
    if (t !== undefined && t > now && (next === undefined || t < next)) next = t;
  };
  for (const s of schedules) consider(nextFiring(s, now));
  for (const w of openWindows(schedules, now)) consider(w.closesAt);
  return next;
}

/** Upcoming firings of each schedule, for the status. */
export function upcoming(schedules: readonly ScheduleSpec[], now: number, count = 3): { name: string; next: number[] }[] {
  return schedules.map((s) => {
    const next: number[] = [];
    for (let t: number | undefined = now; next.length < count; ) {
      t = nextFiring(s, t);
      if (t === undefined) break;
      next.push(t);
    }
    return { name: s.name, next };
  });
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
