// What `poolpilot scale-out`, `scale-in` and `members` do once parsed: a request queued behind a running autoscaler,
// or a run of its own, followed to its end. Loaded when one of them runs (scaling-commands.ts defines them), since it
// brings the Temporal client.
import { existsSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadClusterSpec } from '../config/load';
import type { ClusterSpec } from '../config/spec';
import { requestScale, runningAutoscaler } from '../client/clusters';
import { formatMembers, readMembers } from '../client/members';
import { failureMessage, follow, startScaleIn, startScaleOut, uiLink, workflowIds } from '../client/operations';
import { specQuery } from '../workflows/autoscaler-messages';
import type { OperationProgress } from '../workflows/shared';
import { RefusedRunError, UsageError } from './errors';
import type { Session } from './runtime';

export function printProgress(p: OperationProgress): void {
  const t = new Date().toISOString().slice(11, 19);
  const lines = p.instances.map((i) => `${i.name} ${i.step}${i.ip ? ` ${i.ip}` : ''}${i.error ? ` — ${i.error}` : ''}`);
  console.log(`${t} ${p.kind} ${p.cluster} op ${p.op}: ${lines.join(' | ') || 'choosing members'}`);
}

/** A spec file path, or the name of a cluster whose autoscaler runs (its current spec). */
export async function resolveCluster(ref: string, session: Session): Promise<ClusterSpec> {
  if (existsSync(ref)) return loadClusterSpec(ref);
  if (/^[a-z][a-z0-9]*$/.test(ref)) {
    try {
      return await (await session.temporal()).workflow.getHandle(workflowIds.autoscaler(ref)).query(specQuery);
    } catch {
      /* not running: fall through */
    }
  }
  throw new UsageError(`unknown cluster "${ref}": no spec file of that name and no running ${workflowIds.autoscaler(ref)}`);
}

/** The failure type of a standalone run refused for its input. */
function refusedType(err: unknown): string | undefined {
  let e: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure && (e.type === 'OutOfRange' || e.type === 'UnknownMember')) return e.type;
    e = (e as Error & { cause?: unknown }).cause;
  }
  return undefined;
}

export async function scaleByHand(session: Session, kind: 'scale-out' | 'scale-in', o: { cluster: string; count?: number; victims?: string; wait: boolean; json?: boolean }): Promise<number> {
  const spec = await resolveCluster(o.cluster, session);
  const client = await session.temporal();
  const managed = await runningAutoscaler(client, spec.name).then(
    () => true,
    () => false,
  );
  const victims = o.victims?.split(',').map((v) => v.trim()).filter(Boolean);
  if (managed) {
    // The autoscaler owns this cluster: the request joins its queue, so it runs once and in order.
    if (victims?.length) throw new UsageError(`cluster ${spec.name} is managed by its autoscaler; use --count (it picks victims by ${spec.deletionPolicy})`);
    if (o.count === undefined) throw new UsageError('--count N is required');
    const r = await requestScale(client, spec.name, kind, o.count, 'cli');
    if (o.json) {
      console.log(JSON.stringify(r, null, 2));
      return 0;
    }
    console.log(`accepted by ${workflowIds.autoscaler(spec.name)}: ${kind} ${r.n}; it will have ${r.projected} member(s) (poolpilot cluster status ${spec.name})`);
    return 0;
  }
  if (kind === 'scale-in' && !victims?.length && o.count === undefined) throw new UsageError('scale-in needs --count N or --victims a,b');
  if (kind === 'scale-out' && o.count === undefined) throw new UsageError('--count N is required');
  const handle =
    kind === 'scale-out' ? await startScaleOut(client, spec, o.count!) : await startScaleIn(client, spec, victims?.length ? { victims } : { count: o.count! });
  const link = uiLink(handle.workflowId, session.ctx.uiBase);
  // With --json, standard output carries one JSON value: the run, and its result once it ends (progress is left out).
  if (o.json && !o.wait) {
    console.log(JSON.stringify({ workflowId: handle.workflowId }, null, 2));
    return 0;
  }
  if (!o.json) console.log(`started ${handle.workflowId}${link ? ` — ${link}` : ''}`);
  if (!o.wait) return 0;
  try {
    const result = await follow(handle, o.json ? () => undefined : printProgress);
    console.log(JSON.stringify(o.json ? { workflowId: handle.workflowId, result } : result, null, 2));
    return 'failed' in result && result.failed.length ? 1 : 0;
  } catch (err) {
    const msg = failureMessage(err);
    if (refusedType(err)) throw new RefusedRunError(`${handle.workflowId} refused: ${msg}`);
    console.error(`${handle.workflowId} failed: ${msg}`);
    return 1;
  }
}

/** `members`: the cluster's members as the cloud and the balancer see them. */
export async function printMembers(session: Session, ref: string, json: boolean | undefined): Promise<void> {
  const rows = await readMembers(await resolveCluster(ref, session), session.ctx.credentialsFile);
  console.log(json ? JSON.stringify(rows, null, 2) : formatMembers(rows));
}
