// Failed scaling runs back off, as a cloud's auto-scaling group backs off failing launches: each consecutive failure of
// a direction waits longer before the next attempt (exponential, jittered, up to a cap), and a fault that no retry can
// mend suspends that direction at once, leaving one probe per cap interval. Pure: the caller passes time and jitter.

/** A run's direction: a failing scale-out does not hold back a scale-in, nor the other way round. */
export type RunKind = 'scale-out' | 'scale-in';

/**
 * Fault codes (the non-retryable ApplicationFailure types of src/activities/errors.ts) that no retry mends: a missing
 * or refused credential, an object the spec names that does not exist, a permission. Only an operator fixes these.
 */
export const PERMANENT_FAULTS: readonly string[] = ['CredentialMissing', 'BadCredentials', 'Forbidden', 'TemplateNotFound', 'InventoryNotFound', 'BackendNotFound', 'TenantNotFound', 'InvalidSpec'];

export function isPermanentFault(code: string | undefined): boolean {
  return code !== undefined && PERMANENT_FAULTS.includes(code);
}

export interface BackoffSettings {
  /** The wait after the first failure (ms); doubled at each further one. */
  initial: number;
  /** The longest wait (ms), and the interval between probes while suspended. */
  max: number;
}

/** A direction's failures since its last success. */
export interface BackoffState {
  /** Consecutive failed runs. */
  failures: number;
  /** When the latest failed run ended (ms). */
  failedAt: number;
  /** No run of this direction starts before this (ms). */
  retryAt: number;
  /** The fault's code, when the run failed with one. */
  code?: string;
  /** The fault's message, for the status. */
  message: string;
  /** A permanent fault: only a probe per `max` interval, or an operator's resume or apply, tries again. */
  suspended: boolean;
}

export type Backoffs = Partial<Record<RunKind, BackoffState>>;

/** The fault of a failed run: its code (if typed) and its message. */
export interface RunFault {
  code?: string;
  message: string;
}

/**
 * The state after a failed run that ended at `now`. `jitter` in [0, 1) takes up to a fifth off the wait, so clusters
 * that failed together do not retry together; the wait never passes the cap. A probe while suspended waits the full cap.
 */
export function afterFailure(prev: BackoffState | undefined, fault: RunFault, now: number, settings: BackoffSettings, jitter: number): BackoffState {
  const failures = (prev?.failures ?? 0) + 1;
  const suspended = isPermanentFault(fault.code);
  const exponential = Math.min(settings.max, settings.initial * 2 ** Math.min(failures - 1, 30));
  const wait = suspended ? settings.max : Math.round(exponential * (1 - 0.2 * Math.min(Math.max(jitter, 0), 1)));
  return { failures, failedAt: now, retryAt: now + wait, ...(fault.code ? { code: fault.code } : {}), message: fault.message, suspended };
}

/** Why a run of `kind` may not start at `now`, or undefined when it may. */
export function heldBack(backoffs: Backoffs | undefined, kind: RunKind, now: number): BackoffState | undefined {
  const b = backoffs?.[kind];
  return b && now < b.retryAt ? b : undefined;
}

/** The earliest moment a held-back direction may try again (for the loop's timer). */
export function nextRetryAt(backoffs: Backoffs | undefined, now: number): number | undefined {
  const due = Object.values(backoffs ?? {}).flatMap((b) => (b && b.retryAt > now ? [b.retryAt] : []));
  return due.length ? Math.min(...due) : undefined;
}

/** The decision-log code of a held-back run: stable, so repeated holds are logged once. */
export function holdCode(b: BackoffState): 'ScalingSuspended' | 'BackingOff' {
  return b.suspended ? 'ScalingSuspended' : 'BackingOff';
}

/** The sentence for a held-back run, derived from the state (never parsed back). */
export function holdReason(kind: RunKind, b: BackoffState, now: number, cluster: string): string {
  const fault = b.code ? `${b.code}: ${b.message}` : b.message;
  const wait = `${Math.max(0, Math.ceil((b.retryAt - now) / 1000))} s`;
  if (b.suspended) return `${kind} suspended after ${fault}; next probe in ${wait}, or now with: poolpilot cluster resume ${cluster}`;
  return `${kind} backing off after ${b.failures} failed run(s) in a row (${fault}); next attempt in ${wait}`;
}
