// Typed helpers to start scaling workflows and follow them, for the CLI, the HTTP API and tests.
import { workflowIds } from '../config/names';
import { type Client, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { CLUSTER_KEY, OPERATION_KEY } from '../config/search-attributes';
import type { ClusterSpec } from '../config/spec';
import { loadSettings } from '../config/settings';
import type { ScaleInInput, ScaleInResult } from '../workflows/scale-in';
import type { ScaleOutInput, ScaleOutResult } from '../workflows/scale-out';
import { progressQuery, type OperationProgress } from '../workflows/run-messages';


export { workflowIds };

export function searchAttributes(cluster: string, operation: string): TypedSearchAttributes | undefined {
  if (loadSettings().POOLPILOT_SEARCH_ATTRIBUTES === 'off') return undefined;
  return new TypedSearchAttributes([
    { key: CLUSTER_KEY, value: cluster },
    { key: OPERATION_KEY, value: operation },
  ]);
}

/** Where the Temporal Web UI shows a workflow: under `base` (the lab's UI with --lab), else POOLPILOT_TEMPORAL_UI. */
export function uiLink(workflowId: string, base = loadSettings().POOLPILOT_TEMPORAL_UI, namespace = 'default'): string | undefined {
  return base ? `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : undefined;
}

/** An op number for a run started by hand without an autoscaler: seconds since the epoch, so names never repeat. */
export function manualOpNumber(now = Date.now()): number {
  return Math.floor(now / 1000);
}

function startRun(client: Client, kind: 'scale-out' | 'scale-in', spec: ClusterSpec, op: number, input: ScaleOutInput | ScaleInInput, what: string): Promise<WorkflowHandle> {
  return client.workflow.start(kind === 'scale-out' ? 'scaleOut' : 'scaleIn', {
    args: [input],
    taskQueue: loadSettings().POOLPILOT_TASK_QUEUE,
    workflowId: workflowIds.run(kind, spec.name, op),
    staticSummary: `${kind.replace('-', ' ')} ${spec.name} by ${what} (op ${op})`,
    typedSearchAttributes: searchAttributes(spec.name, kind),
  });
}

export function startScaleOut(client: Client, spec: ClusterSpec, count: number, op = manualOpNumber()): Promise<WorkflowHandle> {
  return startRun(client, 'scale-out', spec, op, { spec, op, count, checkBounds: true }, `${count}`);
}

export function startScaleIn(client: Client, spec: ClusterSpec, req: { count?: number; victims?: string[] }, op = manualOpNumber()): Promise<WorkflowHandle> {
  return startRun(client, 'scale-in', spec, op, { spec, op, ...req, checkBounds: true }, req.victims ? req.victims.join(', ') : `${req.count}`);
}

/** Calls `onChange` with the run's progress whenever it changes, until the run ends; returns its result. */
export async function follow<R = ScaleOutResult | ScaleInResult>(
  handle: WorkflowHandle,
  onChange: (p: OperationProgress) => void,
  intervalMs = 300,
): Promise<R> {
  let done = false;
  let last = '';
  const watcher = (async () => {
    while (!done) {
      try {
        const p = await handle.query(progressQuery);
        const key = JSON.stringify(p);
        if (key !== last) {
          last = key;
          onChange(p);
        }
      } catch {
        // The run may not have started its first task yet, or has just ended.
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  try {
    return (await handle.result()) as R;
  } finally {
    done = true;
    await watcher;
  }
}

/** The innermost message of a failed run. */
export function failureMessage(err: unknown): string {
  let e: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (e instanceof Error && 'cause' in e && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
