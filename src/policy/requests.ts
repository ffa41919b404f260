// Scaling requests from outside the policy loop: an operator's run as asked, an alarm's goes through the policy.
//
// An operator (CLI, API `/scale`) asks for a change and gets it, bounds permitting, queued behind what runs. An alarm
// (Alertmanager, a webhook, an NSX ALB ControlScript) is an input to the policy, as it is in NSX ALB, Senlin and EC2
// Auto Scaling: it is taken only when no run is under way or queued and that direction's cooldown is over, bounded
// by min/max and the max step, and otherwise dropped, not queued. Alertmanager re-sends a firing alert every
// group/repeat interval, so a queued alarm would walk the pool to its bound.
import type { AutoscalingSpec } from '../config/spec';
import { cooldownRemaining, maxStepOut, type PolicyState } from './engine';

export type RequestKind = 'scale-out' | 'scale-in' | 'set-desired';
export type RequestOrigin = 'operator' | 'alarm';

export interface ScaleRequest {
  kind: RequestKind;
  n: number;
  /** operator: runs as asked. alarm: goes through the policy (absent in runs recorded before alarms: operator). */
  origin?: RequestOrigin;
  /** Who sent it, for the log: cli, api, alertmanager:<alert>, webhook:<action>, signal. */
  source: string;
  /** The API token's name that sent it (the audit trail). */
  by?: string;
  /**
   * A scale-in of exactly these members, by name (an operator's `member remove`); n is their number. With `replace`,
   * as many new members join first and the pool keeps its size (a member taken out, as AWS's terminate-instance
   * without decrementing the desired capacity).
   */
  members?: string[];
  replace?: boolean;
}

/** " [token NAME]" for a request an API token made, else "": appended to what the log says of the request. */
export const byToken = (by: string | undefined): string => (by ? ` [token ${by}]` : '');

export interface QueuedRequest extends ScaleRequest {
  at: number;
  /** A replacing removal whose new members' run has ended: how many joined (only the removal is left). */
  replaced?: number;
}

/** The size a request asks for, from `current` members. */
export function requestTarget(kind: RequestKind, n: number, current: number): number {
  return kind === 'scale-out' ? current + n : kind === 'scale-in' ? current - n : n;
}

/** Members once every queued request has run (a replacement keeps the size). */
export function projectedSize(current: number, queue: readonly ScaleRequest[]): number {
  return queue.reduce((size, r) => (r.replace ? size : requestTarget(r.kind, r.n, size)), current);
}

/**
 * Why removing `members` by name cannot be queued (undefined: it can). `known`: the cluster's members now; `queued`:
 * those already asked to go. Without replace the pool shrinks and may not go below min; with it, the new members
 * join first, so there must be room for them under max.
 */
export function memberRemovalProblem(members: readonly string[], replace: boolean, known: readonly string[], queued: readonly string[], projected: number, b: Bounds): string | undefined {
  if (members.length === 0) return 'name at least one member to remove';
  const unknown = members.filter((m) => !known.includes(m));
  if (unknown.length) return `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a member of cluster ${b.cluster} (its members: ${known.join(', ') || 'none'})`;
  const twice = members.filter((m) => queued.includes(m));
  if (twice.length) return `${twice.join(', ')} ${twice.length === 1 ? 'is' : 'are'} already queued to be removed from cluster ${b.cluster}`;
  if (new Set(members).size !== members.length) return 'a member is named twice';
  const n = members.length;
  if (!replace && projected - n < b.min) return `removing ${members.join(', ')} would leave ${projected - n} members, below min ${b.min} of cluster ${b.cluster}; --replace puts a new member in each one's place`;
  if (replace && projected + n > b.max) return `replacing ${members.join(', ')} needs room for ${n} new member(s) first: ${projected + n} is above max ${b.max} of cluster ${b.cluster}`;
  return undefined;
}

export interface Bounds {
  cluster: string;
  min: number;
  max: number;
}

/** Why an operator's request cannot be queued (undefined: it can). `projected` counts what is queued already. */
export function operatorRequestProblem(kind: RequestKind, n: unknown, projected: number, b: Bounds): string | undefined {
  if (typeof n !== 'number' || !Number.isInteger(n)) return `${kind} needs a whole number, not ${JSON.stringify(n)}`;
  if (kind === 'set-desired') {
    return n < b.min || n > b.max ? `desired ${n} is outside [min ${b.min}, max ${b.max}] of cluster ${b.cluster}` : undefined;
  }
  if (n < 1) return `${kind} needs a count of at least 1, not ${n}`;
  if (kind === 'scale-out' && projected + n > b.max) return `scale-out by ${n} would make ${projected + n} members, above max ${b.max} of cluster ${b.cluster} (${projected} after queued requests)`;
  if (kind === 'scale-in' && projected - n < b.min) return `scale-in by ${n} would leave ${projected - n} members, below min ${b.min} of cluster ${b.cluster} (${projected} after queued requests)`;
  return undefined;
}

/** A queued request as the run it becomes: the target within [min, max], and why. */
export function boundedRun(req: ScaleRequest, current: number, min: number, max: number): { target: number; why: string } {
  const target = requestTarget(req.kind, req.n, current);
  const bounded = Math.min(Math.max(target, min), max);
  const asked = req.members ? `${req.replace ? 'replacing' : 'removal of'} ${req.members.join(', ')} requested by ${req.source}` : `${req.kind} ${req.n} requested by ${req.source}`;
  const by = `${req.origin === 'alarm' ? `alarm ${req.source}` : asked}${byToken(req.by)}`;
  return { target: bounded, why: `${by}${bounded !== target ? `, bounded to [${min}, ${max}] → ${bounded}` : ''}` };
}

export type AlarmDropCode = 'Paused' | 'RunInProgress' | 'NoChange' | 'AtMax' | 'AtMin' | 'ScaleOutCooldown' | 'ScaleInCooldown';

export type AlarmVerdict =
  | { taken: true; kind: 'scale-out' | 'scale-in'; n: number; target: number; reason: string }
  | { taken: false; code: AlarmDropCode; reason: string };

export interface AlarmContext {
  now: number;
  current: number;
  min: number;
  max: number;
  autoscaling: AutoscalingSpec;
  policy: PolicyState;
  /** A scaling run is under way or a request is queued. */
  busy: boolean;
  paused: boolean;
}

/** Takes or drops an alarm's request by the policy's rules; the reason reads "alarm <source> taken|dropped: …". */
export function admitAlarm(req: ScaleRequest, ctx: AlarmContext): AlarmVerdict {
  const name = `alarm ${req.source}${byToken(req.by)}`;
  const drop = (code: AlarmDropCode, why: string): AlarmVerdict => ({ taken: false, code, reason: `${name} dropped: ${why}` });
  if (ctx.paused) return drop('Paused', 'automatic scaling is paused');
  if (ctx.busy) return drop('RunInProgress', 'a scaling run is under way or queued');
  const asked = requestTarget(req.kind, req.n, ctx.current);
  if (asked === ctx.current) return drop('NoChange', `the cluster already has ${ctx.current} member(s)`);
  const out = asked > ctx.current;
  let target = Math.min(Math.max(asked, ctx.min), ctx.max);
  if (target === ctx.current) return out ? drop('AtMax', `already at max ${ctx.max}`) : drop('AtMin', `already at min ${ctx.min}`);
  const step = out ? maxStepOut(ctx.autoscaling, ctx.current) : ctx.autoscaling.maxStepIn;
  if (step !== undefined && Math.abs(target - ctx.current) > step) target = ctx.current + (out ? step : -step);
  const cd = cooldownRemaining(ctx.policy, ctx.autoscaling, ctx.now);
  const left = out ? cd.scaleOut : cd.scaleIn;
  if (left > 0) return drop(out ? 'ScaleOutCooldown' : 'ScaleInCooldown', `${out ? 'scale-out' : 'scale-in'} cooldown, ${Math.ceil(left / 1000)} s left`);
  const limited = target !== asked ? ` (asked ${asked}; bounds and max step → ${target})` : '';
  return { taken: true, kind: out ? 'scale-out' : 'scale-in', n: Math.abs(target - ctx.current), target, reason: `${name} taken: ${ctx.current} → ${target}${limited}` };
}
