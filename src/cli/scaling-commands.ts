// `poolpilot scale-out`, `scale-in` and `members`: scaling by hand (queued behind a running autoscaler, or a run of
// its own) and a cluster's members as the cloud and the balancer see them.
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
import { count } from './options';
import type { Cli, Session } from './runtime';

export function printProgress(p: OperationProgress): void {
  const t = new Date().toISOString().slice(11, 19);
  const lines = p.instances.map((i) => `${i.name} ${i.step}${i.ip ? ` ${i.ip}` : ''}${i.error ? ` — ${i.error}` : ''}`);
  console.log(`${t} ${p.kind} ${p.cluster} op ${p.op}: ${lines.join(' | ') || 'choosing members'}`);
}

/** -f FILE or --cluster NAME, exactly one (--cluster FILE, the old spelling, still reads the file). */
function clusterRef(o: { file?: string; cluster?: string }): string {
  if ((o.file === undefined) === (o.cluster === undefined)) throw new UsageError('give one of -f, --file <file> (a cluster spec) or --cluster <name> (a running cluster)');
  if (o.file !== undefined) {
    // The file is read now, so that a missing one is named as such rather than taken for a cluster's name.
    loadClusterSpec(o.file);
    return o.file;
  }
  return o.cluster!;
}

/** A spec file path, or the name of a cluster whose autoscaler runs (its current spec). */
async function resolveCluster(ref: string, session: Session): Promise<ClusterSpec> {
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

async function scaleByHand(session: Session, kind: 'scale-out' | 'scale-in', o: { cluster: string; count?: number; victims?: string; wait: boolean; json?: boolean }): Promise<number> {
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

/** scale-out, scale-in and members. */
export function scalingCommands({ program, withSession }: Cli): void {
  for (const kind of ['scale-out', 'scale-in'] as const) {
    const cmd = program
      .command(kind)
      .description(kind === 'scale-out' ? 'add members now (queued behind the autoscaler if one runs)' : 'remove members now (queued behind the autoscaler if one runs)')
      .option('-f, --file <file>', 'the cluster spec: a run of its own if no autoscaler manages the cluster')
      .option('--cluster <name>', 'a running cluster, by name')
      .option('--count <n>', 'how many members', count('--count'))
      .option('--no-wait', 'start the run and return')
      .option('--json', 'as JSON: the accepted request, or the run and its result');
    if (kind === 'scale-in') cmd.option('--victims <a,b>', 'exactly these members (standalone runs only)');
    cmd.action((o: { file?: string; cluster?: string; count?: number; victims?: string; wait: boolean; json?: boolean }) => withSession((s) => scaleByHand(s, kind, { ...o, cluster: clusterRef(o) }))());
  }

  program
    .command('members')
    .description("a cluster's members as the cloud and the balancer see them")
    .option('-f, --file <file>', 'the cluster spec')
    .option('--cluster <name>', 'a running cluster, by name (its spec as it runs)')
    .option('--json', 'as JSON')
    .action((o: { file?: string; cluster?: string; json?: boolean }) =>
      withSession(async (s) => {
        const rows = await readMembers(await resolveCluster(clusterRef(o), s), s.ctx.credentialsFile);
        console.log(o.json ? JSON.stringify(rows, null, 2) : formatMembers(rows));
      })(),
    );
}
