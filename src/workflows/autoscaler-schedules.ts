// Schedules in the autoscaler: the windows' bounds, their openings and closings logged, and the size a window asks
// for once. The backtest reads the same ScheduleClock (src/policy/schedules.ts).
import { upcoming } from '../policy/schedules';
import type { ScheduleStatus } from './autoscaler-messages';
import { clock, memberCount, record, type Autoscaling } from './autoscaler-state';

/**
 * Logs windows that opened or closed since the last look, and returns a size a newly opened window asks for once
 * (its `desired`), if any; remembers both in state, so they survive continue-as-new.
 */
export function watchSchedules(a: Autoscaling, now: number): { desired: number; name: string } | undefined {
  const { s } = a;
  if (!s.spec.schedules?.length && !s.openSchedules?.length) return undefined;
  const view = clock(a).read(now);
  const keys = view.open.map((w) => `${w.name}@${w.openedAt}`);
  const before = new Set(s.openSchedules ?? []);
  const n = memberCount(s);
  for (const w of view.open) {
    if (before.has(`${w.name}@${w.openedAt}`)) continue;
    const sets = [w.min !== undefined ? `min ${w.min}` : '', w.max !== undefined ? `max ${w.max}` : '', w.desired !== undefined ? `desired ${w.desired}` : ''].filter(Boolean).join(', ');
    record(a, { current: n, desired: n, action: 'schedule', code: 'ScheduleOpened', reason: `schedule ${w.name} opened: ${sets} until ${w.closesAt === Infinity ? 'its next firing' : `${new Date(w.closesAt).toISOString().slice(0, 16)}Z`}; bounds now [${view.bounds.min}, ${view.bounds.max}]`, source: 'schedule' });
  }
  for (const k of before) {
    if (keys.includes(k)) continue;
    record(a, { current: n, desired: n, action: 'schedule', code: 'ScheduleClosed', reason: `schedule ${k.split('@')[0]} closed; bounds now [${view.bounds.min}, ${view.bounds.max}]`, source: 'schedule' });
  }
  s.openSchedules = keys;
  const fresh = view.open.find((w) => w.desired !== undefined && !(s.schedulesApplied ?? []).includes(`${w.name}@${w.openedAt}`));
  if (!fresh) return undefined;
  s.schedulesApplied = [...(s.schedulesApplied ?? []), `${fresh.name}@${fresh.openedAt}`].slice(-20);
  return { desired: Math.min(Math.max(fresh.desired!, view.bounds.min), view.bounds.max), name: fresh.name };
}

/** When the autoscaler must next look at its schedules (a window opens or closes), if any. */
export function nextScheduleWake(a: Autoscaling, now: number): number | undefined {
  return a.s.spec.schedules?.length ? clock(a).read(now).nextChange : undefined;
}

export function scheduleStatus(a: Autoscaling, now: number): ScheduleStatus[] {
  const schedules = a.s.spec.schedules ?? [];
  if (!schedules.length) return [];
  const open = clock(a).read(now).open;
  return upcoming(schedules, now).map(({ name, next }) => {
    const w = open.find((o) => o.name === name);
    return { name, open: !!w, ...(w ? { openedAt: new Date(w.openedAt).toISOString(), closesAt: w.closesAt === Infinity ? null : new Date(w.closesAt).toISOString() } : {}), next: next.map((t) => new Date(t).toISOString()) };
  });
}
