// The autoscaler's messages — queries, signals, updates — and the types they carry. Clients import this module, never
// the workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ClusterSpec } from '../config/spec';
import type { Condition, Phase } from '../policy/conditions';
import type { DecisionRecord } from '../policy/decision-log';
import type { MetricReading, PolicyState } from '../policy/engine';
import type { AlarmDropCode, QueuedRequest, RequestKind, RequestOrigin } from '../policy/requests';
import type { UnhealthyMark } from '../policy/health';
import type { Member, MemberSummary } from '../policy/inventory';
import type { Calibration, DemandWindow } from '../policy/prediction';
import type { Backoffs, BackoffState, RunKind } from '../policy/backoff';

export type { Condition, Phase, DecisionRecord, RequestKind, RequestOrigin, MemberSummary };

/** How a run ended, as data: the sentence in `outcome` is derived from it, never parsed back. */
export interface RunResult {
  status: 'succeeded' | 'partial' | 'failed';
  /** Members that joined (scale-out) or were removed (scale-in). */
  done: number;
  failed: number;
  /** The fault's code (a non-retryable failure's type) when the run failed with one. */
  code?: string;
}

export interface RunRecord {
  workflowId: string;
  kind: RunKind;
  count: number;
  startedAt: string;
  endedAt?: string;
  /** Runs recorded before `result` existed have only this sentence. */
  outcome?: string;
  result?: RunResult;
}

export interface PollRecord {
  /** Epoch ms the poll was scheduled for. */
  dueAt: number;
  /** How much later the reading arrived (ms): the worker's and Temporal's delay. */
  lagMs: number;
}

export interface AutoscalerState {
  spec: ClusterSpec;
  opCounter: number;
  paused: boolean;
  initialized: boolean;
  policy: PolicyState;
  queue: QueuedRequest[];
  decisions: DecisionRecord[];
  runs: RunRecord[];
  /** The members as the latest reconcile saw them (runs begun before this kept summaries: read once at start). */
  members: Member[];
  readings: Record<string, MetricReading & { at: string; failingSince?: string }>;
  lastReconcileAt: number;
  /** Runs recorded before conditions kept one error here; read only to carry it into `failedRun`. */
  lastError?: string;
  /** The latest run, if it failed in full or in part; the next fully successful run clears it. */
  failedRun?: { workflowId: string; outcome: string; partial: boolean; code?: string };
  /** Per direction, the failures since its last success: the next attempt waits, or is suspended (patched). */
  backoff?: Backoffs;
  /** The latest reconcile's error; the next successful reconcile clears it. */
  reconcileError?: string;
  /** The code of the latest policy decision. */
  lastDecisionCode?: string;
  /** Conditions as last derived, for their transition times. */
  conditions?: Condition[];
  /** Members seen broken, since when and why (health replacement). */
  unhealthy?: Record<string, UnhealthyMark>;
  /** When replacements were launched in the last hour (ms), for the hourly limit. */
  replacements?: number[];
  /** Schedule windows open at the last look (name@openedAt), and those whose desired size was applied. */
  openSchedules?: string[];
  schedulesApplied?: string[];
  /** The latest forecast (small: a few dozen values), or why it is set aside. */
  forecast?: ForecastState;
  /** The prediction metric's recent readings (the demand floor's window) and its pooled spread. */
  demand?: DemandWindow;
  /** With an objective: the floor's margin as calibrated from this cluster's outcomes (carried over continue-as-new). */
  calibration?: Calibration;
  /** The cluster's warm VMs at the last reconcile, readiest first. */
  warm?: WarmVm[];
  /** After a failed refill, the next is not tried before this (ms). */
  warmRetryAt?: number;
  iterations: number;
  /** The last polls on schedule: when each was due and how late its reading arrived, newest last. */
  polls?: PollRecord[];
  /** Options of the deployment, not the cluster. */
  searchAttributes: boolean;
}

export interface ForecastState {
  madeAt: number;
  nextRefresh: number;
  startMs?: number;
  stepMs?: number;
  values?: number[];
  /** sMAPE on the last day of history (0..2). */
  error?: number;
  /** Why it is set aside (too little history, a failed query, a poor fit). */
  reason?: string;
}

export interface WarmVm {
  name: string;
  power: string;
  ip?: string;
}

export interface ScheduleStatus {
  name: string;
  open: boolean;
  openedAt?: string;
  closesAt?: string | null;
  /** The next firings (ISO). */
  next: string[];
}

export interface ForecastStatus {
  state: 'pending' | 'in use' | 'forecast only' | 'set aside';
  reason: string | null;
  error: number | null;
  madeAt: string | null;
  nextRefresh: string | null;
  timeToReadyMs: number;
  /** Members the forecast wants now, and why. */
  members: number | null;
  text: string | null;
  /**
   * With an objective: the share of time short it aims at, the quantile level it covers now (1 − α, steered by the
   * pool's outcomes), the margin that gives in spreads, and the scores (polls' worth, decayed) the margin rests on;
   * the share of time short the calibration has counted since it engaged (null before), and over how long (ms).
   */
  objective?: { underProvisioned: number; quantile: number; margin: number; scores: number; counted: number | null; countedMs: number } | null;
}

export interface AutoscalerInput {
  spec: ClusterSpec;
  /** Set when continuing as new. */
  state?: AutoscalerState;
  /** Register PoolpilotCluster/PoolpilotOperation on child runs (the server must know these keys). */
  searchAttributes?: boolean;
  /** The highest op number already used by this cluster's VMs, so new names never collide. */
  opFloor?: number;
}

export interface AutoscalerStatus {
  cluster: string;
  phase: Phase;
  conditions: Condition[];
  min: number;
  max: number;
  current: number;
  desired: number;
  paused: boolean;
  members: MemberSummary[];
  metrics: AutoscalerState['readings'];
  cooldown: { scaleOutMs: number; scaleInMs: number };
  decisions: DecisionRecord[];
  currentOperation: string | null;
  queue: QueuedRequest[];
  runs: RunRecord[];
  /** The message of a False AbleToScale condition, if any. */
  lastError: string | null;
  /** Members seen broken, since when (ISO) and why; replaced after health.gracePeriod. */
  unhealthy: Record<string, { since: string; why: string }>;
  /** The spec's bounds, and the schedule windows that set min / max now (`min` / `max` above are those in force). */
  specBounds: { min: number; max: number; minBy: string | null; maxBy: string | null };
  schedules: ScheduleStatus[];
  forecast: ForecastStatus | null;
  /** The warm pool: its size and state, the warm VMs, and the refill under way. */
  warmPool: { size: number; state: string; vms: WarmVm[]; refilling: string | null } | null;
  iterations: number;
  recentPolls: PollRecord[];
  /** Directions held back after failed runs: backing off, or suspended by a fault no retry mends. */
  backoff: BackoffStatus[];
  runId: string;
}

export interface BackoffStatus extends Omit<BackoffState, 'failedAt' | 'retryAt'> {
  kind: RunKind;
  failedAt: string;
  retryAt: string;
}

export interface RequestInput {
  kind: RequestKind;
  n: number;
  /** Who sent it: cli, api, alertmanager:<alert>, webhook:<action>. */
  source?: string;
  /** operator (default): runs as asked. alarm: taken or dropped by the policy's cooldowns and bounds. */
  origin?: RequestOrigin;
  /** The API token's name that made the request, for the audit trail (history and decision log). */
  by?: string;
  /** Remove exactly these members (kind scale-in, n their number); with replace, new ones join first. */
  members?: string[];
  replace?: boolean;
}

export interface RequestAccepted {
  accepted: true;
  kind: RequestKind;
  n: number;
  /** Members the cluster will have once every queued request has run. */
  projected: number;
  /** Requests ahead of this one. */
  position: number;
  /** For an alarm: why it was taken. */
  reason?: string;
}

/** An alarm the policy dropped: nothing was queued; the decision log has the same reason. */
export interface RequestDropped {
  accepted: false;
  code: AlarmDropCode;
  reason: string;
}

export type RequestResult = RequestAccepted | RequestDropped;

export interface DeleteRequest {
  scaleToZero: boolean;
  /** The API token's name that asked, for the decision log. */
  by?: string;
}

/** Pause or resume; a bare boolean (as older clients send) is the same without `by`. */
export type PauseRequest = boolean | { paused: boolean; by?: string };

/** Who applied a spec, for the decision log. */
export interface ApplyMeta {
  by?: string;
}

export const statusQuery = defineQuery<AutoscalerStatus>('status');
export const specQuery = defineQuery<ClusterSpec>('spec');
export const scaleOutSignal = defineSignal<[number]>('scaleOut');
export const scaleInSignal = defineSignal<[number]>('scaleIn');
export const setDesiredSignal = defineSignal<[number]>('setDesired');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const requestUpdate = defineUpdate<RequestResult, [RequestInput]>('request');
export const pauseUpdate = defineUpdate<{ paused: boolean }, [PauseRequest]>('setPaused');
/**
 * A spec for the running autoscaler, in the form it starts with: parsed (durations in ms), as every client sends it
 * after parseClusterSpec. One form on the wire, parsed once, at the edge.
 */
export const applySpecUpdate = defineUpdate<{ applied: true; changed: string[] }, [ClusterSpec, ApplyMeta?]>('applyClusterSpec');
/**
 * The earlier update, which took the spec as written and parsed it here. Kept only so that histories that carry it
 * replay (see patches.ts); no client sends it, and it goes with the deprecatePatch() calls.
 */
export const legacyApplySpecUpdate = defineUpdate<{ applied: true; changed: string[] }, [unknown, ApplyMeta?]>('applySpec');
export const deleteUpdate = defineUpdate<{ deleting: true; members: number }, [DeleteRequest]>('delete');
