// Typed calls to a cluster's autoscaler (start, update, query), shared by the CLI and the HTTP API.
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ClusterSpec } from '../config/spec';
import { loadSettings } from '../config/settings';
import type { autoscaler } from '../workflows/autoscaler';
import { completeHookUpdate, type HookCompletion } from '../workflows/hook-messages';
import type { UpdateDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  applySpecUpdate,
  deleteUpdate,
  pauseUpdate,
  requestUpdate,
  specQuery,
  statusQuery,
  type AutoscalerInput,
  type AutoscalerStatus,
  type DeleteRequest,
  type RequestAccepted,
  type RequestKind,
  type RequestOrigin,
  type RequestResult,
} from '../workflows/autoscaler-messages';
import { searchAttributes, workflowIds } from './operations';
import { poolLabel } from '../config/balancer';
import { WrongRequestError } from '../config/wrong-request';

/** A request the cluster refused (unknown cluster, out of range, malformed): nothing was changed. */
export class ClusterRequestError extends WrongRequestError {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 422 = 422,
  ) {
    super(message);
    this.name = 'ClusterRequestError';
  }
}

/** A running cluster whose worker did not answer a read in time: nothing wrong with the request (the API's 503). */
export class ClusterNoAnswerError extends Error {
  constructor(
    readonly cluster: string,
    readonly taskQueue: string,
    /** `read`: asked, no answer in time; `sent`: a request not sent, since no worker polls the task queue. */
    readonly what: 'read' | 'sent' = 'read',
  ) {
    super(
      what === 'read'
        ? `cluster "${cluster}": no worker answered within ${QUERY_DEADLINE_MS / 1000} s; is a poolpilot worker of task queue "${taskQueue}" running?`
        : `cluster "${cluster}": no worker polls task queue "${taskQueue}", so nothing was sent and nothing changed; start a poolpilot worker of that queue and ask again`,
    );
    this.name = 'ClusterNoAnswerError';
  }
}

function innermost(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The handle of a running autoscaler and the task queue its worker polls, or a ClusterRequestError naming the unknown cluster. */
async function describeAutoscaler(client: Client, cluster: string) {
  const handle = client.workflow.getHandle(workflowIds.autoscaler(cluster));
  try {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') throw new ClusterRequestError(`unknown cluster "${cluster}": its autoscaler is ${d.status.name.toLowerCase()} (poolpilot cluster apply -f FILE starts it again)`, 404);
    return { handle, taskQueue: d.taskQueue };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ClusterRequestError(`unknown cluster "${cluster}": no ${workflowIds.autoscaler(cluster)} runs (poolpilot cluster apply -f FILE starts one)`, 404);
    throw err;
  }
}

/** The handle of a running autoscaler, or a ClusterRequestError naming the unknown cluster. */
export async function runningAutoscaler(client: Client, cluster: string) {
  return (await describeAutoscaler(client, cluster)).handle;
}

/**
 * How long a read waits for the cluster's worker. A query is answered by a worker, not by Temporal: with every worker
 * of the cluster's task queue down, it would wait without end and, in a listing, hold up every other cluster.
 */
export const QUERY_DEADLINE_MS = 10_000;

/** The worker's answer to a query, or a ClusterNoAnswerError naming the task queue nobody answered on. */
async function queryWithin<R>(client: Client, handle: WorkflowHandle, cluster: string, taskQueue: string, ask: (h: WorkflowHandle) => Promise<R>): Promise<R> {
  // Our own signal, not a gRPC deadline: past the deadline the call may end as DEADLINE_EXCEEDED or as CANCELLED
  // (the client's retry layer), and only whether this signal fired tells the two from other failures.
  const timeout = AbortSignal.timeout(QUERY_DEADLINE_MS);
  try {
    return await client.withAbortSignal(timeout, () => ask(handle));
  } catch (err) {
    throw timeout.aborted ? new ClusterNoAnswerError(cluster, taskQueue) : err;
  }
}

/**
 * Whether any worker polls the task queue. Temporal lists a worker for a few minutes after its last poll, so a worker
 * that died a moment ago still counts; an empty list means none has polled for minutes.
 */
async function anyWorkerPolls(client: Client, taskQueue: string): Promise<boolean> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (r.pollers ?? []).length > 0;
}

/**
 * An update of the running autoscaler, by its typed definition; a refusal is a ClusterRequestError (422). With no
 * worker on the cluster's task queue nothing is sent (ClusterNoAnswerError): an update nobody takes would wait without
 * end, and might run whenever a worker came back, long after its sender gave up.
 */
async function update<R, A extends [unknown, ...unknown[]]>(client: Client, cluster: string, def: UpdateDefinition<R, A>, ...args: A): Promise<R> {
  const { handle, taskQueue } = await describeAutoscaler(client, cluster);
  if (!(await anyWorkerPolls(client, taskQueue))) throw new ClusterNoAnswerError(cluster, taskQueue, 'sent');
  try {
    return await handle.executeUpdate(def, { args });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new ClusterRequestError(innermost(err), 422);
    throw err;
  }
}

/** Starts the cluster's autoscaler, or applies the spec to the running one: parsed, the one form on the wire. */
export async function applyCluster(client: Client, spec: ClusterSpec, by?: string): Promise<{ started: boolean; changed: string[] }> {
  const input: AutoscalerInput = { spec, searchAttributes: loadSettings().POOLPILOT_SEARCH_ATTRIBUTES !== 'off' };
  try {
    await client.workflow.start<typeof autoscaler>('autoscaler', {
      args: [input],
      taskQueue: loadSettings().POOLPILOT_TASK_QUEUE,
      workflowId: workflowIds.autoscaler(spec.name),
      staticSummary: `autoscaler of cluster ${spec.name} (${spec.min}..${spec.max} members, ${poolLabel(spec.loadBalancer)})`,
      typedSearchAttributes: searchAttributes(spec.name, 'autoscaler'),
    });
    return { started: true, changed: [] };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const r = await update(client, spec.name, applySpecUpdate, spec, ...(by ? [{ by }] : []));
  return { started: false, changed: r.changed };
}

/** The spec the cluster's autoscaler runs now, or undefined when none runs. */
export async function runningSpec(client: Client, cluster: string): Promise<ClusterSpec | undefined> {
  try {
    const { handle, taskQueue } = await describeAutoscaler(client, cluster);
    return await queryWithin(client, handle, cluster, taskQueue, (h) => h.query(specQuery));
  } catch (err) {
    if (err instanceof ClusterRequestError && err.status === 404) return undefined;
    throw err;
  }
}

export async function clusterStatus(client: Client, cluster: string): Promise<AutoscalerStatus> {
  const { handle, taskQueue } = await describeAutoscaler(client, cluster);
  return queryWithin(client, handle, cluster, taskQueue, (h) => h.query(statusQuery));
}

/** A running cluster whose worker did not answer, or whose read failed: listed with why, so one cluster down hides no other. */
export interface UnansweredCluster {
  cluster: string;
  phase: 'NO_ANSWER';
  taskQueue: string;
  error: string;
}

export type ClusterListing = AutoscalerStatus | UnansweredCluster;

export const answered = (c: ClusterListing): c is AutoscalerStatus => c.phase !== 'NO_ANSWER';

export async function listClusters(client: Client): Promise<ClusterListing[]> {
  const running: { workflowId: string; taskQueue: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'autoscaler' AND ExecutionStatus = 'Running'` })) running.push(wf);
  // Asked all at once: the listing takes as long as the slowest answer, at most QUERY_DEADLINE_MS.
  const replies = await Promise.all(
    running.map(async ({ workflowId, taskQueue }): Promise<ClusterListing | undefined> => {
      const cluster = workflowIds.clusterOf(workflowId);
      try {
        return await queryWithin(client, client.workflow.getHandle(workflowId), cluster, taskQueue, (h) => h.query(statusQuery));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined; // gone between the list and the query
        // Any other failure of one cluster's read is that cluster's line, never the whole listing's.
        return { cluster, phase: 'NO_ANSWER', taskQueue, error: err instanceof ClusterNoAnswerError ? err.message : `cluster "${cluster}": its status could not be read: ${innermost(err)}` };
      }
    }),
  );
  return replies.filter((c): c is ClusterListing => c !== undefined).sort((a, b) => a.cluster.localeCompare(b.cluster));
}

/** An operator's request: queued and run as asked, or refused (422) with the reason. */
export async function requestScale(client: Client, cluster: string, kind: RequestKind, n: number, source: string, by?: string): Promise<RequestAccepted> {
  const r = await sendRequest(client, cluster, kind, n, source, 'operator', by);
  if (!r.accepted) throw new ClusterRequestError(r.reason, 409);
  return r;
}

/** A request as `origin`: an alarm's may come back dropped by the policy (cooldown, a run under way, at a bound). */
export async function sendRequest(client: Client, cluster: string, kind: RequestKind, n: number, source: string, origin: RequestOrigin, by?: string): Promise<RequestResult> {
  if (!Number.isInteger(n)) throw new ClusterRequestError(`${kind} needs a whole number, not ${JSON.stringify(n)}`, 400);
  return update(client, cluster, requestUpdate, { kind, n, source, origin, ...(by ? { by } : {}) });
}

/**
 * An operator's removal of named members, queued behind what runs: drained and destroyed by the same scale-in
 * workflow; with `replace`, as many new members join first. Refused (422) for a member not in the cluster, or below
 * min without replace.
 */
export async function removeMembers(client: Client, cluster: string, members: string[], replace: boolean, source: string, by?: string): Promise<RequestAccepted> {
  const r = await update(client, cluster, requestUpdate, { kind: 'scale-in', n: members.length, members, replace, source, origin: 'operator', ...(by ? { by } : {}) });
  if (!r.accepted) throw new ClusterRequestError(r.reason, 409);
  return r;
}

/** Pause or resume; `by` (a token's name) is recorded in the decision log. */
export function setPaused(client: Client, cluster: string, paused: boolean, by?: string): Promise<{ paused: boolean }> {
  return update(client, cluster, pauseUpdate, by ? { paused, by } : paused);
}

export async function deleteCluster(client: Client, cluster: string, req: DeleteRequest): Promise<{ members: number }> {
  const r = await update(client, cluster, deleteUpdate, req);
  return r;
}

/**
 * Completes a lifecycle hook a run waits for an operator on: the run `runId`, else the cluster's current operation.
 * Refused (422) when the member does not wait for that hook.
 */
export async function completeHook(client: Client, cluster: string, c: HookCompletion, runId?: string): Promise<{ run: string }> {
  const run = runId ?? (await clusterStatus(client, cluster)).currentOperation;
  if (!run) throw new ClusterRequestError(`no run of cluster ${cluster} is under way, so none waits for hook ${c.hook} (give --run WORKFLOW_ID for a standalone run)`, 409);
  try {
    await client.workflow.getHandle(run).executeUpdate(completeHookUpdate, { args: [c] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new ClusterRequestError(innermost(err), 422);
    if (err instanceof WorkflowNotFoundError) throw new ClusterRequestError(`no run ${run}`, 404);
    throw err;
  }
  return { run };
}

/** Waits until the autoscaler has finished all queued work and its current run. */
export async function waitIdle(client: Client, cluster: string, timeoutMs = 300_000): Promise<AutoscalerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A worker too busy to answer one read within QUERY_DEADLINE_MS is asked again, until this wait's own deadline.
    const st = await clusterStatus(client, cluster).catch((err: unknown) => {
      if (err instanceof ClusterNoAnswerError && Date.now() < deadline) return undefined;
      throw err;
    });
    if (st && !st.currentOperation && st.queue.length === 0) return st;
    if (Date.now() > deadline) throw new Error(`cluster ${cluster} still busy after ${timeoutMs / 1000}s (${st ? st.currentOperation : 'its worker did not answer'})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
