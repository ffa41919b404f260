// The `poolpilot` command line (commander): lab, worker, scaling by hand, members, clusters, API, backtest, demo.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parseDuration } from '../config/duration';
import { loadClusterSpec, loadClusterSpecFile } from '../config/load';
import { DEFAULT_LAB_DIR, loadSettings, PROJECT_ROOT } from '../config/settings';
import type { ClusterSpec } from '../config/spec';
import { applyCluster, clusterStatus, completeHook, deleteCluster, listClusters, requestScale, runningAutoscaler, setPaused } from '../client/clusters';
import { formatHistory, formatStatus, table } from '../client/format';
import { formatMembers, readMembers } from '../client/members';
import { failureMessage, follow, startScaleIn, startScaleOut, uiLink, workflowIds } from '../client/operations';
import { connectClient } from '../temporal/connection';
import type { OperationProgress } from '../workflows/shared';
import { commandContext, type CommandContext } from './context';
import { exitCodeOf, RefusedRunError, UsageError } from './errors';
import { backtestCommand } from './backtest';

/** A duration option: 20s, 2m, 500ms or seconds. */
function durationMs(flag: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new UsageError(`${flag} must be a duration such as 20s or 2m, not "${value}"`);
    return ms;
  };
}

/** A count option: a whole number of at least `least`. */
function count(flag: string, least = 1) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < least) throw new UsageError(`${flag} must be a whole number of at least ${least}, not "${value}"`);
    return Number(value);
  };
}

/** A number option: 0 or more, decimals allowed. */
function amount(flag: string) {
  return (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`${flag} must be a number of 0 or more, not "${value}"`);
    return Number(value);
  };
}

export function printProgress(p: OperationProgress): void {
  const t = new Date().toISOString().slice(11, 19);
  const lines = p.instances.map((i) => `${i.name} ${i.step}${i.ip ? ` ${i.ip}` : ''}${i.error ? ` — ${i.error}` : ''}`);
  console.log(`${t} ${p.kind} ${p.cluster} op ${p.op}: ${lines.join(' | ') || 'choosing members'}`);
}

/** One connection per command, opened on first use, so --help and bad input never connect. */
class Session {
  private client?: Promise<Client>;
  constructor(readonly ctx: CommandContext) {}
  temporal(): Promise<Client> {
    return (this.client ??= connectClient(this.ctx.target));
  }
  async close(): Promise<void> {
    if (this.client) await (await this.client.catch(() => undefined))?.connection.close();
  }
}

/** A spec file path, or the name of a cluster whose autoscaler runs (its current spec). */
async function resolveCluster(ref: string, session: Session): Promise<ClusterSpec> {
  if (existsSync(ref)) return loadClusterSpec(ref);
  if (/^[a-z][a-z0-9]*$/.test(ref)) {
    try {
      return await (await session.temporal()).workflow.getHandle(workflowIds.autoscaler(ref)).query<ClusterSpec>('spec');
    } catch {
      /* not running: fall through */
    }
  }
  throw new UsageError(`unknown cluster "${ref}": no spec file of that name and no running autoscaler:${ref}`);
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

async function scaleByHand(session: Session, kind: 'scale-out' | 'scale-in', o: { cluster: string; count?: number; victims?: string; wait: boolean }): Promise<number> {
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
    console.log(`accepted by autoscaler:${spec.name}: ${kind} ${r.n}; it will have ${r.projected} member(s) (poolpilot cluster status ${spec.name})`);
    return 0;
  }
  if (kind === 'scale-in' && !victims?.length && o.count === undefined) throw new UsageError('scale-in needs --count N or --victims a,b');
  if (kind === 'scale-out' && o.count === undefined) throw new UsageError('--count N is required');
  const handle =
    kind === 'scale-out' ? await startScaleOut(client, spec, o.count!) : await startScaleIn(client, spec, victims?.length ? { victims } : { count: o.count! });
  const link = uiLink(handle.workflowId, session.ctx.uiBase);
  console.log(`started ${handle.workflowId}${link ? ` — ${link}` : ''}`);
  if (!o.wait) return 0;
  try {
    const result = await follow(handle, printProgress);
    console.log(JSON.stringify(result, null, 2));
    return 'failed' in result && result.failed.length ? 1 : 0;
  } catch (err) {
    const msg = failureMessage(err);
    if (refusedType(err)) throw new RefusedRunError(`${handle.workflowId} refused: ${msg}`);
    console.error(`${handle.workflowId} failed: ${msg}`);
    return 1;
  }
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('poolpilot')
    .description('durable autoscaling of vSphere server pools behind a load balancer, on Temporal')
    .option('--lab', `use the local lab's Temporal, credentials and UI (its folder: --lab-dir, POOLPILOT_LAB_DIR, or ${path.relative(PROJECT_ROOT, DEFAULT_LAB_DIR)})`)
    .option('--lab-dir <dir>', 'the lab folder (implies --lab)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 done, 1 the operation failed, 2 the request was wrong (nothing was changed).');
  program.exitOverride();
  const globals = () => program.opts<{ lab?: boolean; labDir?: string }>();
  const ctx = () => commandContext(globals().labDir ?? globals().lab);
  /** Runs `fn` with a session that is closed afterwards; its number is the exit code. */
  const withSession = (fn: (s: Session) => Promise<number | void>) => async () => {
    const s = new Session(ctx());
    try {
      setExit((await fn(s)) ?? 0);
    } finally {
      await s.close();
    }
  };

  const lab = program.command('lab').description('the local lab: Temporal, vcsim, HAProxy, Prometheus and guests on loopback');
  const labDir = (o: { dataDir?: string }) => o.dataDir ?? globals().labDir ?? loadSettings().POOLPILOT_LAB_DIR ?? DEFAULT_LAB_DIR;
  lab
    .command('up')
    .description('start the lab (idempotent)')
    .option('--data-dir <dir>', 'where the lab keeps its state')
    .option('--clone-delay <duration>', 'how long a clone takes in vcsim (realistic: 20s and more)', durationMs('--clone-delay'))
    .option('--boot-delay <duration>', 'how long a guest takes to boot and report an IP (default 1.5s)', durationMs('--boot-delay'))
    .option('--profile <profile>', 'dev: the Temporal CLI dev server; production: PostgreSQL, the Temporal server and Web UI server, and 2 workers', 'dev')
    .option('--workers <n>', 'poolpilot workers the lab runs (default: 0 with dev, the demo runs its own; 2 with production)', count('--workers', 0))
    .option('--cloud <cloud>', 'vsphere: vcsim only; openstack: also Keystone, Nova (fake driver), Neutron, Glance, Placement and Octavia (noop drivers), about 2 minutes', 'vsphere')
    .action(async (o: { dataDir?: string; cloneDelay?: number; bootDelay?: number; profile: string; workers?: number; cloud: string }) => {
      const { labUp, labStatus } = await import('../lab/lab');
      const { OPENSTACK_DEV_PORTS } = await import('../lab/openstack');
      if (o.profile !== 'dev' && o.profile !== 'production') throw new UsageError(`--profile must be dev or production, not "${o.profile}"`);
      if (o.cloud !== 'vsphere' && o.cloud !== 'openstack') throw new UsageError(`--cloud must be vsphere or openstack, not "${o.cloud}"`);
      const state = await labUp({
        ...(o.cloud === 'openstack' ? { openstack: OPENSTACK_DEV_PORTS } : {}),
        dataDir: labDir(o),
        profile: o.profile,
        workers: o.workers ?? (o.profile === 'production' ? 2 : 0),
        ...(o.cloneDelay !== undefined ? { vcsimMethodDelay: `CloneVm:${o.cloneDelay},LockHandoff:0` } : {}),
        ...(o.bootDelay !== undefined ? { guest: { bootDelayMs: o.bootDelay } } : {}),
      });
      const st = labStatus(state.config.dataDir);
      console.log(`lab is up. Temporal UI: ${st.endpoints!.temporalUi}  VIP: ${st.endpoints!.vipUrl}  (poolpilot lab status --json for every endpoint)`);
      const os = st.endpoints!.openstack;
      if (os) {
        console.log(`OpenStack: ${os.authUrl}, project ${os.projectName}, user ${os.username}; for the openstack CLI:`);
        console.log(`  export OS_AUTH_URL=${os.authUrl} OS_PROJECT_NAME=${os.projectName} OS_USERNAME=${os.username} OS_USER_DOMAIN_NAME=${os.userDomainName} OS_PROJECT_DOMAIN_NAME=${os.projectDomainName} OS_REGION_NAME=${os.region} OS_IDENTITY_API_VERSION=3`);
        console.log(`  export OS_PASSWORD=$(poolpilot lab status --json | jq -r .endpoints.openstack.password)`);
      }
    });
  lab
    .command('down')
    .description('stop every lab process')
    .option('--data-dir <dir>', 'the lab folder')
    .option('--purge', 'delete its data too')
    .action(async (o: { dataDir?: string; purge?: boolean }) => {
      const { labDown } = await import('../lab/lab');
      await labDown(labDir(o), { purge: o.purge });
    });
  lab
    .command('status')
    .description('lab processes and endpoints (exit 1 unless all run)')
    .option('--data-dir <dir>', 'the lab folder')
    .option('--json', 'as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const { labStatus } = await import('../lab/lab');
      const st = labStatus(labDir(o));
      if (o.json) {
        console.log(JSON.stringify({ running: st.components.every((c) => c.running), components: st.components, endpoints: st.endpoints ?? null }, null, 2));
      } else {
        const width = Math.max(11, ...st.components.map((c) => c.name.length));
        for (const c of st.components) console.log(`${c.name.padEnd(width)} ${c.running ? `running (pid ${c.pid})` : 'stopped'}`);
        const { openstack, ...rest } = st.endpoints ?? {};
        const rows = [...Object.entries(rest), ...Object.entries(openstack ?? {}).map(([k, v]) => [`openstack.${k}`, v] as const)];
        if (st.endpoints) for (const [k, v] of rows) if (!/password/i.test(k)) console.log(`${k.padEnd(26)} ${Array.isArray(v) ? v.join(' ') : v}`);
      }
      setExit(st.components.every((c) => c.running) ? 0 : 1);
    });

  lab
    .command('history')
    .description("give the lab's Prometheus a past: hours of a daily cycle of its backend's request counter, so a spec's prediction (examples/web-predictive.yaml) is trusted at once")
    .option('--data-dir <dir>', 'the lab folder')
    .option('--hours <n>', 'how much history (1 to 360; prediction needs 25 or more)', count('--hours'), 30)
    .option('--trough <rps>', 'requests per second at 02:00 local time', amount('--trough'), 5)
    .option('--peak <rps>', 'requests per second at 14:00 local time', amount('--peak'), 60)
    .action(async (o: { dataDir?: string; hours: number; trough: number; peak: number }) => {
      const { labHistory } = await import('../lab/backfill');
      await labHistory(labDir(o), o, (line) => console.log(line));
    });

  program
    .command('tools')
    .description("install or build the lab's tools")
    .command('install')
    .description('Go tools into .tools/, Debian packages with apt-get')
    .option('--production', "the production profile's too: PostgreSQL, the Temporal server, its sql tool and the Web UI server")
    .option('--openstack', "the OpenStack lab's too: Debian's OpenStack packages, RabbitMQ and PostgreSQL (about 5 minutes)")
    .action(async (o: { production?: boolean; openstack?: boolean }) => {
      const { ensureOpenstack, ensureTools } = await import('../lab/tools');
      ensureTools(undefined, { production: !!o.production });
      if (o.openstack) ensureOpenstack();
    });

  program
    .command('worker')
    .description('run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, POOLPILOT_TASK_QUEUE, POOLPILOT_CREDENTIALS_FILE …)')
    .action(async () => {
      const c = ctx();
      const { runWorker } = await import('../worker/main');
      await runWorker({ target: c.target, credentialsFile: c.credentialsFile });
    });

  for (const kind of ['scale-out', 'scale-in'] as const) {
    const cmd = program
      .command(kind)
      .description(kind === 'scale-out' ? 'add members now (queued behind the autoscaler if one runs)' : 'remove members now (queued behind the autoscaler if one runs)')
      .requiredOption('--cluster <file|name>', 'a spec file, or the name of a running cluster')
      .option('--count <n>', 'how many members', count('--count'))
      .option('--no-wait', 'start the run and return');
    if (kind === 'scale-in') cmd.option('--victims <a,b>', 'exactly these members (standalone runs only)');
    cmd.action((o: { cluster: string; count?: number; victims?: string; wait: boolean }) => withSession((s) => scaleByHand(s, kind, o))());
  }

  program
    .command('members')
    .description("a cluster's members as vSphere and the balancer see them")
    .requiredOption('--cluster <file|name>', 'a spec file, or the name of a running cluster')
    .option('--json', 'as JSON')
    .action((o: { cluster: string; json?: boolean }) =>
      withSession(async (s) => {
        const rows = await readMembers(await resolveCluster(o.cluster, s), s.ctx.credentialsFile);
        console.log(o.json ? JSON.stringify(rows, null, 2) : formatMembers(rows));
      })(),
    );

  const cluster = program.command('cluster').description("clusters' autoscalers: apply, list, status, scale, pause, resume, history, delete");
  cluster
    .command('apply')
    .description("start a cluster's autoscaler, or apply the spec to the running one")
    .requiredOption('-f, --file <file>', 'the cluster spec (YAML or JSON)')
    .action((o: { file: string }) =>
      withSession(async (s) => {
        const loaded = loadClusterSpecFile(o.file);
        const r = await applyCluster(await s.temporal(), loaded);
        const id = workflowIds.autoscaler(loaded.spec.name);
        console.log(r.started ? `started ${id}` : `updated ${id}; changed: ${r.changed.join(', ') || 'nothing'}`);
        const link = uiLink(id, s.ctx.uiBase);
        if (link) console.log(`Temporal UI: ${link}`);
      })(),
    );
  cluster
    .command('list')
    .description('running clusters')
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) =>
      withSession(async (s) => {
        const all = await listClusters(await s.temporal());
        if (o.json) console.log(JSON.stringify(all, null, 2));
        else console.log(all.length ? table(['CLUSTER', 'PHASE', 'MEMBERS', 'DESIRED', 'MIN', 'MAX', 'OPERATION'], all.map((st) => [st.cluster, st.phase, String(st.current), String(st.desired), String(st.min), String(st.max), st.currentOperation ?? '-'])) : '(no clusters)');
      })(),
    );
  cluster
    .command('status <name>')
    .description('phase, conditions, members, metrics and recent decisions')
    .option('--json', 'as JSON')
    .action((name: string, o: { json?: boolean }) =>
      withSession(async (s) => {
        const st = await clusterStatus(await s.temporal(), name);
        console.log(o.json ? JSON.stringify(st, null, 2) : formatStatus(st));
      })(),
    );
  cluster
    .command('history <name>')
    .description('scaling runs and the decision log')
    .option('--json', 'as JSON')
    .action((name: string, o: { json?: boolean }) =>
      withSession(async (s) => {
        const st = await clusterStatus(await s.temporal(), name);
        if (o.json) return void console.log(JSON.stringify({ runs: st.runs, decisions: st.decisions }, null, 2));
        console.log(formatHistory(st));
        const link = uiLink(workflowIds.autoscaler(name), s.ctx.uiBase);
        if (link) console.log(`\nevery run in the Temporal UI: ${link.replace(/\/workflows\/.*/, '/workflows')}?query=${encodeURIComponent(`PoolpilotCluster="${name}"`)}`);
      })(),
    );
  cluster
    .command('scale <name>')
    .description('queue an operator request: --out N, --in N or --desired N')
    .option('--out <n>', 'add N members', count('--out'))
    .option('--in <n>', 'remove N members', count('--in'))
    .option('--desired <n>', 'go to N members', count('--desired', 0))
    .action((name: string, o: { out?: number; in?: number; desired?: number }) =>
      withSession(async (s) => {
        const given = (['out', 'in', 'desired'] as const).filter((k) => o[k] !== undefined);
        if (given.length !== 1) throw new UsageError('give exactly one of --out N, --in N, --desired N');
        const key = given[0]!;
        const kind = key === 'out' ? 'scale-out' : key === 'in' ? 'scale-in' : 'set-desired';
        const r = await requestScale(await s.temporal(), name, kind, o[key]!, 'cli');
        console.log(`accepted: ${kind} ${r.n}; ${r.position ? `${r.position} request(s) ahead; ` : ''}cluster ${name} will have ${r.projected} member(s)`);
      })(),
    );
  for (const verb of ['pause', 'resume'] as const) {
    cluster
      .command(`${verb} <name>`)
      .description(verb === 'pause' ? 'pause automatic decisions (operator requests still run)' : 'resume automatic decisions')
      .action((name: string) =>
        withSession(async (s) => {
          await setPaused(await s.temporal(), name, verb === 'pause');
          console.log(`${name}: automatic decisions ${verb === 'pause' ? 'paused (manual requests still run)' : 'resumed'}`);
        })(),
      );
  }
  cluster
    .command('delete <name>')
    .description("end a cluster's autoscaler; its members keep running unless --scale-to-zero")
    .option('--scale-to-zero', 'remove every member first')
    .action((name: string, o: { scaleToZero?: boolean }) =>
      withSession(async (s) => {
        const r = await deleteCluster(await s.temporal(), name, { scaleToZero: !!o.scaleToZero });
        console.log(
          o.scaleToZero
            ? `deleting ${name}: scaling its ${r.members} member(s) to zero, then the autoscaler ends`
            : `deleted the autoscaler of ${name}; its ${r.members} member(s) keep running unmanaged (apply the spec again to manage them, or use --scale-to-zero)`,
        );
      })(),
    );

  program
    .command('hook')
    .description('lifecycle hooks that wait for an operator')
    .command('complete <cluster> <member> <hook> <result>')
    .description('let a member waiting for a hook go on (CONTINUE) or be undone (ABANDON)')
    .option('--run <workflowId>', "the run (default: the cluster's current operation)")
    .action((cluster: string, member: string, hook: string, result: string, o: { run?: string }) =>
      withSession(async (s) => {
        if (result !== 'CONTINUE' && result !== 'ABANDON') throw new UsageError(`the result must be CONTINUE or ABANDON, not "${result}"`);
        const r = await completeHook(await s.temporal(), cluster, { member, hook, result }, o.run);
        console.log(`${r.run}: hook ${hook} of ${member} completed with ${result}`);
      })(),
    );

  const api = program
    .command('api')
    .description('the HTTP API and alert receivers (POOLPILOT_API_HOST, POOLPILOT_API_PORT, POOLPILOT_API_TOKENS_FILE)')
    .option('--port <n>', 'port', count('--port'))
    .option('--host <host>', 'address to listen on')
    .action(async (o: { port?: number; host?: string }) => {
      const { runApi } = await import('../client/api');
      setExit(await runApi({ ...o, target: ctx().target }));
    });
  api
    .command('token-create <name>')
    .description('make a named API token, add its SHA-256 and grants to the tokens file, and print the token (once)')
    .requiredOption('--file <file>', 'the tokens file (POOLPILOT_API_TOKENS_FILE); created if missing')
    .requiredOption('--grant <pattern=role...>', 'a role on clusters matching a glob: "web-*=operator", "*=viewer" (roles: viewer, operator, admin)')
    .action(async (name: string, o: { file: string; grant: string[] }) => {
      const { createToken, TokensFileError } = await import('../config/tokens');
      try {
        const token = createToken(o.file, name, o.grant);
        console.log(token);
        console.error(`token ${name} added to ${o.file} (only its SHA-256 is stored; this is the only time it is shown)`);
      } catch (err) {
        if (err instanceof TokensFileError) throw new UsageError(err.message);
        throw err;
      }
    });

  backtestCommand(program, setExit);

  program
    .command('demo')
    .description('the whole autoscaling scenario on the lab (npm start)')
    .option('--spec <file>', 'the cluster spec (default examples/web.yaml, or examples/openstack/web.yaml)')
    .option('--cloud <cloud>', 'vsphere: Locust through HAProxy to vcsim VMs; openstack: Nova servers behind Octavia, with a day of the NASA trace replayed as the demand', 'vsphere')
    .option('--users <n>', 'Locust users', count('--users'), 1000)
    .option('--spawn-rate <n>', 'users started per second', count('--spawn-rate'), 10)
    .option('--plateau <s>', 'seconds at full load', count('--plateau'), 60)
    .option('--down', 'stop the lab at the end')
    .action(async (o: { spec?: string; cloud: string; users: number; spawnRate: number; plateau: number; down?: boolean }) => {
      if (o.cloud !== 'vsphere' && o.cloud !== 'openstack') throw new UsageError(`--cloud must be vsphere or openstack, not "${o.cloud}"`);
      const { runDemo } = await import('../lab/demo');
      setExit(await runDemo({ ...o, cloud: o.cloud, down: !!o.down }));
    });
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  if (argv.length === 0) {
    console.log(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; a usage error was printed by commander already.
      return err.exitCode === 0 ? 0 : 2;
    }
    console.error(`poolpilot: ${(err as Error).message}`);
    return exitCodeOf(err);
  }
}

export function runCli(argv: string[]): void {
  void main(argv).then((code) => process.exit(code));
}

if (require.main === module) runCli(process.argv.slice(2));
