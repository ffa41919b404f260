// The autoscaler's message handlers: requests (operator and alarm), pause, live spec, delete, status.
import { setHandler } from '@temporalio/workflow';
import type * as SpecModule from '../config/spec';
import { changedSections } from '../config/spec-diff';
import { admitAlarm, byToken, memberRemovalProblem, operatorRequestProblem, type RequestKind } from '../policy/requests';
import {
  applySpecUpdate,
  deleteUpdate,
  legacyApplySpecUpdate,
  pauseSignal,
  pauseUpdate,
  requestUpdate,
  resumeSignal,
  scaleInSignal,
  scaleOutSignal,
  setDesiredSignal,
  specQuery,
  statusQuery,
  type ApplyMeta,
  type RequestInput,
  type RequestResult,
} from './autoscaler-messages';
import { boundsNow, memberCount, projected, record, refreshConditions, type Autoscaling } from './autoscaler-state';
import { statusOf } from './autoscaler-status';

type ClusterSpec = SpecModule.ClusterSpec;

/**
 * The spec schema, loaded only when a history's legacy applySpec (the spec as written) is replayed. The worker
 * evaluates a workflow's modules once per workflow instance, and building the zod schemas costs several milliseconds
 * each time: with a thousand clusters that is seconds of worker time at every start or cache refill.
 */
let specModule: typeof SpecModule | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const specSchema = (): typeof SpecModule => (specModule ??= require('../config/spec') as typeof SpecModule);

const KINDS: RequestKind[] = ['scale-out', 'scale-in', 'set-desired'];

function problemWith(a: Autoscaling, req: RequestInput | undefined): string | undefined {
  if (a.deleting) return `cluster ${a.cluster} is being deleted`;
  if (!req || !KINDS.includes(req.kind)) return `unknown request kind ${JSON.stringify(req?.kind)}`;
  if (req.origin !== undefined && req.origin !== 'operator' && req.origin !== 'alarm') return `unknown request origin ${JSON.stringify(req.origin)}`;
  if (req.members !== undefined && req.origin === 'alarm') return 'an alarm cannot name members to remove';
  if (req.origin === 'alarm') {
    // An alarm is checked for shape only: whether it is taken is the policy's call, made in the handler and logged.
    const least = req.kind === 'set-desired' ? 0 : 1;
    return typeof req.n === 'number' && Number.isInteger(req.n) && req.n >= least ? undefined : `${req.kind} needs a whole number of at least ${least}, not ${JSON.stringify(req.n)}`;
  }
  const { min, max } = boundsNow(a);
  if (req.members !== undefined) {
    if (req.kind !== 'scale-in' || !Array.isArray(req.members) || req.members.some((m) => typeof m !== 'string') || req.n !== req.members.length) return 'a removal names its members and is a scale-in of their number';
    const known = a.s.members.filter((m) => m.vm).map((m) => m.name);
    const queued = a.s.queue.flatMap((q) => q.members ?? []);
    return memberRemovalProblem(req.members, !!req.replace, known, queued, projected(a), { cluster: a.cluster, min, max });
  }
  return operatorRequestProblem(req.kind, req.n, projected(a), { cluster: a.cluster, min, max });
}

function enqueue(a: Autoscaling, req: RequestInput & { source: string }, reason?: string): RequestResult {
  // Ahead of it: every queued request, plus the run under way unless that run is the queue's head.
  const position = a.s.queue.length + (a.current && !a.servingQueue ? 1 : 0);
  a.s.queue.push({ kind: req.kind, n: req.n, source: req.source, ...(req.origin ? { origin: req.origin } : {}), ...(req.by ? { by: req.by } : {}), ...(req.members ? { members: [...req.members], replace: !!req.replace } : {}), at: Date.now() });
  a.wake = true;
  return { accepted: true, kind: req.kind, n: req.n, projected: projected(a), position, ...(reason ? { reason } : {}) };
}

function handleRequest(a: Autoscaling, req: RequestInput): RequestResult {
  const source = req.source ?? 'update';
  if (req.origin !== 'alarm') return enqueue(a, { ...req, source });
  const { s } = a;
  const current = memberCount(s);
  const verdict = admitAlarm(
    { ...req, source },
    { now: Date.now(), current, ...boundsNow(a), autoscaling: s.spec.autoscaling, policy: s.policy, busy: !!a.current || s.queue.length > 0, paused: s.paused },
  );
  if (!verdict.taken) {
    record(a, { current, desired: current, action: 'alarm-dropped', code: verdict.code, reason: verdict.reason, source: 'alarm', ...(req.by ? { by: req.by } : {}) });
    return { accepted: false, code: verdict.code, reason: verdict.reason };
  }
  return enqueue(a, { kind: verdict.kind, n: verdict.n, origin: 'alarm', source, ...(req.by ? { by: req.by } : {}) }, verdict.reason);
}

/** Clears the failed runs' backoff, logging what it lifted. */
function forgetFailures(a: Autoscaling, why: string): void {
  const held = Object.entries(a.s.backoff ?? {}).filter(([, b]) => b);
  if (!held.length) return;
  a.s.backoff = undefined;
  const m = memberCount(a.s);
  const what = held.map(([kind, b]) => `${kind} ${b!.suspended ? 'suspended' : 'backing off'} after ${b!.failures} failed run(s)${b!.code ? ` (${b!.code})` : ''}`).join(', ');
  record(a, { current: m, desired: m, action: 'retry', code: 'BackoffCleared', reason: `${why}: ${what}; the next run is tried at once`, source: 'manual' });
}

export function installHandlers(a: Autoscaling): void {
  const signalRequest = (kind: RequestKind) => (n: number) => {
    const problem = problemWith(a, { kind, n });
    if (problem) {
      // A signal cannot be refused; it is recorded as rejected so the operator sees why nothing happened.
      const m = memberCount(a.s);
      record(a, { current: m, desired: m, action: 'rejected', code: 'RequestRejected', reason: `${kind} ${n} by signal rejected: ${problem}`, source: 'manual' });
      return;
    }
    enqueue(a, { kind, n, source: 'signal' });
  };
  const setPaused = (paused: boolean) => {
    a.s.paused = paused;
    // An operator's resume tries a backed-off or suspended direction again at once: they fixed what failed.
    if (!paused) forgetFailures(a, 'resume');
    a.wake = true;
    refreshConditions(a);
  };
  setHandler(scaleOutSignal, signalRequest('scale-out'));
  setHandler(scaleInSignal, signalRequest('scale-in'));
  setHandler(setDesiredSignal, signalRequest('set-desired'));
  setHandler(pauseSignal, () => setPaused(true));
  setHandler(resumeSignal, () => setPaused(false));
  setHandler(requestUpdate, (req) => handleRequest(a, req), {
    validator: (req) => {
      const problem = problemWith(a, req);
      if (problem) throw new Error(problem);
    },
  });
  setHandler(pauseUpdate, (req) => {
    const paused = typeof req === 'boolean' ? req : !!req.paused;
    const by = typeof req === 'boolean' ? undefined : req.by;
    setPaused(paused);
    if (by) {
      const m = memberCount(a.s);
      record(a, { current: m, desired: m, action: paused ? 'pause' : 'resume', code: paused ? 'Paused' : 'Resumed', reason: `automatic decisions ${paused ? 'paused' : 'resumed'}${byToken(by)}`, source: 'manual', by });
    }
    return { paused };
  });
  const applySpec = (next: ClusterSpec, meta?: ApplyMeta) => {
    const changed = changedSections(a.s.spec, next);
    a.s.spec = next;
    // A new spec may mend what failed (a template, a credential's name): try at once.
    forgetFailures(a, 'spec applied');
    a.wake = true;
    const m = memberCount(a.s);
    record(a, { current: m, desired: m, action: 'spec', code: 'SpecApplied', reason: `spec applied${byToken(meta?.by)}; changed: ${changed.join(', ') || 'nothing'}`, source: 'manual', ...(meta?.by ? { by: meta.by } : {}) });
    return { applied: true as const, changed };
  };
  const otherCluster = (name: unknown) => (name !== a.cluster ? `spec is for cluster "${String(name)}", but this autoscaler runs "${a.cluster}"` : undefined);
  // The spec arrives parsed (the client ran parseClusterSpec): only what this autoscaler alone knows is checked here.
  setHandler(applySpecUpdate, applySpec, {
    validator: (spec: ClusterSpec, _meta?: ApplyMeta) => {
      const problem = otherCluster(spec?.name);
      if (problem) throw new Error(problem);
    },
  });
  setHandler(legacyApplySpecUpdate, (raw: unknown, meta?: ApplyMeta) => applySpec(specSchema().clusterSpecSchema.parse(raw), meta), {
    validator: (raw: unknown, _meta?: ApplyMeta) => {
      const { clusterSpecSchema, formatIssues } = specSchema();
      const r = clusterSpecSchema.safeParse(raw);
      if (!r.success) throw new Error(`invalid cluster spec:\n  - ${formatIssues(r.error.issues).join('\n  - ')}`);
      const problem = otherCluster(r.data.name);
      if (problem) throw new Error(problem);
    },
  });
  setHandler(deleteUpdate, (req) => {
    a.deleting = { scaleToZero: !!req?.scaleToZero };
    if (req?.by) {
      const m = memberCount(a.s);
      record(a, { current: m, desired: req.scaleToZero ? 0 : m, action: 'delete', code: 'Deleted', reason: `cluster deleted${req.scaleToZero ? ' with scale-to-zero' : ''}${byToken(req.by)}`, source: 'manual', by: req.by });
    }
    a.wake = true;
    return { deleting: true as const, members: memberCount(a.s) };
  });
  setHandler(specQuery, () => a.s.spec);
  setHandler(statusQuery, () => statusOf(a));
}
