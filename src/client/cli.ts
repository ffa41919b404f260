// The `poolpilot` command line: lab, worker, scaling by hand, members, clusters.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { SpecError, type ClusterSpec } from '../config/spec';
import { loadClusterSpec } from '../config/load';
import { loadSettings } from '../config/settings';
import { labDown, labStatus, labUp } from '../lab/lab';
import { ensureTools } from '../lab/tools';
import { connectClient } from './connection';
import { readMembers, formatMembers } from './members';
import { failureMessage, follow, startScaleIn, startScaleOut, uiLink, workflowIds } from './operations';
import type { OperationProgress } from '../workflows/shared';
import { clusterCommand } from './cluster-cli';
import { ClusterRequestError, requestScale, runningAutoscaler } from './clusters';
import { UsageError } from './errors';


const HELP = `poolpilot — durable autoscaling of vSphere server pools behind HAProxy, on Temporal

Usage:
  poolpilot lab up [--data-dir DIR]          start the local lab (Temporal, vcsim, HAProxy, Prometheus, guests)
  poolpilot lab down [--purge]               stop every lab process (--purge: delete its data too)
  poolpilot lab status [--json]              lab processes and endpoints
  poolpilot tools install                    install/build the lab's tools
  poolpilot worker                           run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...)
  poolpilot scale-out --cluster FILE|NAME --count N [--no-wait]
  poolpilot scale-in  --cluster FILE|NAME (--count N | --victims a,b) [--no-wait]
  poolpilot members   --cluster FILE|NAME [--json]
  poolpilot cluster apply -f FILE            start or update a cluster's autoscaler
  poolpilot cluster list | status NAME [--json] | history NAME
  poolpilot cluster scale NAME (--out N | --in N | --desired N)
  poolpilot cluster pause NAME | resume NAME | delete NAME [--scale-to-zero]
  poolpilot api [--port N]                   HTTP API and webhook receiver
  poolpilot demo                             the whole autoscaling scenario on the lab (npm start)

Exit codes: 0 done, 1 the operation failed, 2 the request was wrong (nothing was changed).`;

function positiveInt(value: string | undefined, flag: string): number {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1, not "${value}"`);
  return n;
}

/** A spec file path, or the name of a cluster whose autoscaler runs (its current spec). */
export async function resolveCluster(ref: string | undefined, client?: () => Promise<Client>): Promise<ClusterSpec> {
  if (!ref) throw new UsageError('--cluster is required (a spec file or the name of a running cluster)');
  if (existsSync(ref)) return loadClusterSpec(ref);
  if (/^[a-z][a-z0-9]*$/.test(ref) && client) {
    const c = await client();
    try {
      return await c.workflow.getHandle(workflowIds.autoscaler(ref)).query<ClusterSpec>('spec');
    } catch {
      /* not running: fall through */
    }
  }
  throw new UsageError(`unknown cluster "${ref}": no spec file of that name and no running autoscaler:${ref}`);
}

export function printProgress(p: OperationProgress): void {
  const t = new Date().toISOString().slice(11, 19);
  const lines = p.instances.map((i) => `${i.name} ${i.step}${i.ip ? ` ${i.ip}` : ''}${i.error ? ` — ${i.error}` : ''}`);
  console.log(`${t} ${p.kind} ${p.cluster} op ${p.op}: ${lines.join(' | ') || 'choosing members'}`);
}

async function scaleCommand(kind: 'scale-out' | 'scale-in', args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { cluster: { type: 'string' }, count: { type: 'string' }, victims: { type: 'string' }, 'no-wait': { type: 'boolean' } } });
  let client: Client | undefined;
  const getClient = async () => (client ??= await connectClient());
  const spec = await resolveCluster(values.cluster, getClient);
  const managed = await runningAutoscaler(await getClient(), spec.name).then(
    () => true,
    () => false,
  );
  if (managed) {
    // The autoscaler owns this cluster: the request joins its queue, so it runs once and in order.
    if (values.victims) throw new UsageError(`cluster ${spec.name} is managed by its autoscaler; use --count (it picks victims by ${spec.deletionPolicy})`);
    const r = await requestScale(await getClient(), spec.name, kind, positiveInt(values.count, '--count'), 'cli');
    console.log(`accepted by autoscaler:${spec.name}: ${kind} ${r.n}; it will have ${r.projected} member(s) (poolpilot cluster status ${spec.name})`);
    return 0;
  }
  let handle;
  if (kind === 'scale-out') {
    handle = await startScaleOut(await getClient(), spec, positiveInt(values.count, '--count'));
  } else {
    const victims = values.victims?.split(',').map((v) => v.trim()).filter(Boolean);
    if (!victims?.length && values.count === undefined) throw new UsageError('scale-in needs --count N or --victims a,b');
    handle = await startScaleIn(await getClient(), spec, victims?.length ? { victims } : { count: positiveInt(values.count, '--count') });
  }
  console.log(`started ${handle.workflowId}${uiLink(handle.workflowId) ? ` — ${uiLink(handle.workflowId)}` : ''}`);
  if (values['no-wait']) return 0;
  try {
    const result = await follow(handle, printProgress);
    console.log(JSON.stringify(result, null, 2));
    return 'failed' in result && result.failed.length ? 1 : 0;
  } catch (err) {
    const msg = failureMessage(err);
    console.error(`${handle.workflowId} failed: ${msg}`);
    return /\[OutOfRange\]|OutOfRange|UnknownMember/.test(msg) || /above max|below min|has no member/.test(msg) ? 2 : 1;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  /** Everything after the command, for commands without subcommands. */
  const args = argv.slice(1);
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    case 'tools':
      if (sub !== 'install') throw new UsageError('usage: poolpilot tools install');
      ensureTools();
      return 0;
    case 'lab': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, purge: { type: 'boolean' }, 'data-dir': { type: 'string' } } });
      const dataDir = values['data-dir'] ?? loadSettings().POOLPILOT_LAB_DIR;
      if (sub === 'up') {
        const state = await labUp({ dataDir });
        const s = labStatus(state.config.dataDir);
        console.log(`lab is up. Temporal UI: ${s.endpoints!.temporalUi}  VIP: ${s.endpoints!.vipUrl}  (poolpilot lab status --json for every endpoint)`);
        return 0;
      }
      if (sub === 'down') {
        await labDown(dataDir, { purge: values.purge });
        return 0;
      }
      if (sub === 'status') {
        const s = labStatus(dataDir);
        if (values.json) {
          console.log(JSON.stringify({ running: s.components.every((c) => c.running), components: s.components, endpoints: s.endpoints ?? null }, null, 2));
        } else {
          for (const c of s.components) console.log(`${c.name.padEnd(11)} ${c.running ? `running (pid ${c.pid})` : 'stopped'}`);
          if (s.endpoints) for (const [k, v] of Object.entries(s.endpoints)) if (!/password/i.test(k)) console.log(`${k.padEnd(22)} ${v}`);
        }
        return s.components.every((c) => c.running) ? 0 : 1;
      }
      throw new UsageError('usage: poolpilot lab up|down|status');
    }
    case 'worker': {
      const { runWorker } = await import('../worker/main');
      await runWorker();
      return 0;
    }
    case 'scale-out':
    case 'scale-in':
      return scaleCommand(cmd, args);
    case 'members': {
      const { values } = parseArgs({ args, options: { cluster: { type: 'string' }, json: { type: 'boolean' } } });
      const spec = await resolveCluster(values.cluster, () => connectClient());
      const members = await readMembers(spec);
      console.log(values.json ? JSON.stringify(members, null, 2) : formatMembers(members));
      return 0;
    }
    case 'cluster':
      return clusterCommand(sub, rest);
    case 'api': {
      const { runApi } = await import('./api');
      return runApi(args);
    }
    case 'demo': {
      const { runDemo } = await import('../lab/demo');
      return runDemo(args);
    }
    default:
      throw new UsageError(`unknown command "${cmd}"; see poolpilot --help`);
  }
}

/** Runs the CLI with `argv` and exits with its code: 0 done, 1 the operation failed, 2 a wrong request. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      if (err instanceof SpecError) {
        console.error(err.message);
        process.exit(2);
      }
      if (err instanceof UsageError || err instanceof ClusterRequestError || /^ERR_PARSE_ARGS/.test(String((err as NodeJS.ErrnoException).code))) {
        console.error(`poolpilot: ${err.message}`);
        process.exit(2);
      }
      console.error(`poolpilot: ${err.message}`);
      process.exit(1);
    },
  );
}

if (require.main === module) runCli(process.argv.slice(2));
