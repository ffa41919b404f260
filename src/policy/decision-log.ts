// The autoscaler's decision log: what it decided, why (a code and a sentence), from which source; bounded.
export type DecisionSource = 'policy' | 'manual' | 'alarm' | 'bounds' | 'reconcile' | 'health' | 'schedule' | 'forecast';

export interface DecisionRecord {
  at: string;
  current: number;
  desired: number;
  action: string;
  /** A stable code (DecisionCode, an alarm's drop code, Reconciled...): what tools and the log's dedupe compare. */
  code?: string;
  reason: string;
  source: DecisionSource;
  workflowId?: string;
  /** The API token's name behind a manual request or alarm (the audit trail). */
  by?: string;
}

/**
 * A hold that repeats the last entry: same action, code and sizes. Only changes are logged, so a quiet cluster keeps
 * a readable log; entries from before codes existed compare by sentence.
 */
export function repeatsLast(log: readonly DecisionRecord[], d: Omit<DecisionRecord, 'at'>): boolean {
  const last = log[log.length - 1];
  if (!last || last.action !== d.action || last.current !== d.current || last.desired !== d.desired) return false;
  return last.code !== undefined && d.code !== undefined ? last.code === d.code : last.reason === d.reason;
}

/** Appends `d`, keeping the newest `limit` entries. */
export function appendDecision(log: DecisionRecord[], d: DecisionRecord, limit: number): void {
  log.push(d);
  if (log.length > limit) log.splice(0, log.length - limit);
}
