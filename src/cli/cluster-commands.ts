// `poolpilot cluster …` and `hook complete`: a cluster's autoscaler, through its typed messages.
import { writeFileSync } from 'node:fs';
import { loadClusterSpecFile } from '../config/load';
import { SPEC_JSON_SCHEMA_FILE, specJsonSchemaText } from '../config/spec-json-schema';
import { balancerOf, poolLabel } from '../config/balancer';
import { computeOf, sourceOf } from '../config/compute';
import { specDiff, type SpecChange } from '../config/spec-diff';
import { workflowIds } from '../config/names';
import { formatHistory, formatStatus, table } from '../client/format';
import { UsageError } from './errors';
import { count } from './options';
import type { Cli } from './runtime';

/**
 * The cluster client and the UI's links, loaded by the commands that connect: they bring the Temporal client (a fifth
 * of a second), which validate, schema and every other command's --help do not need.
 */
const client = async () => ({ ...(await import('../client/clusters')), uiLink: (await import('../client/operations')).uiLink });

/** A command's result as JSON: the same value the API replies with. */
const printJson = (v: unknown) => console.log(JSON.stringify(v, null, 2));

/** One line per changed field: `  autoscaling.scaleOutCooldown: 60000 → 30000`. */
function formatChanges(changes: SpecChange[]): string {
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return changes.map((c) => `  ${c.path}: ${show(c.from)} → ${show(c.to)}`).join('\n');
}

/** The cluster group (apply, list, status, history, scale, pause, resume, delete) and hook complete. */
export function clusterCommands({ program, withSession }: Cli): void {
  const cluster = program.command('cluster').description("clusters' autoscalers: validate, apply, list, status, history, scale, pause, resume, delete");
  cluster
    .command('validate')
    .description('check a cluster spec offline: the same checks as apply, connecting to nothing')
    .requiredOption('-f, --file <file>', 'the cluster spec (YAML or JSON)')
    .option('--json', 'as JSON: the spec as parsed (defaults filled in, durations in ms)')
    .action((o: { file: string; json?: boolean }) => {
      const { spec } = loadClusterSpecFile(o.file);
      if (o.json) return void printJson({ file: o.file, valid: true, cluster: spec.name, spec });
      const cloud = computeOf(spec);
      console.log(`${o.file}: a valid spec of cluster ${spec.name}: ${spec.min}..${spec.max} members from ${cloud.kind} ${sourceOf(cloud)}, ${balancerOf(spec.loadBalancer).kind} ${poolLabel(spec.loadBalancer)}`);
    });
  cluster
    .command('apply')
    .description("start a cluster's autoscaler, or apply the spec to the running one")
    .requiredOption('-f, --file <file>', 'the cluster spec (YAML or JSON)')
    .option('--dry-run', 'validate, then show what would change in the running autoscaler, changing nothing')
    .option('--json', 'as JSON')
    .action((o: { file: string; dryRun?: boolean; json?: boolean }) =>
      withSession(async (s) => {
        // The spec first: a wrong one is refused before the client loads.
        const { spec } = loadClusterSpecFile(o.file);
        const { applyCluster, runningSpec, uiLink } = await client();
        const id = workflowIds.autoscaler(spec.name);
        if (o.dryRun) {
          const running = await runningSpec(await s.temporal(), spec.name);
          const changes = running ? specDiff(running, spec) : [];
          if (o.json) return void printJson({ cluster: spec.name, workflowId: id, dryRun: true, wouldStart: !running, changes });
          if (!running) return void console.log(`dry run: would start ${id} (no autoscaler of ${spec.name} runs); nothing changed`);
          console.log(changes.length ? `dry run: applying ${o.file} to ${id} would change ${changes.length} field(s); nothing changed:\n${formatChanges(changes)}` : `dry run: ${id} already runs this spec; nothing would change`);
          return;
        }
        const r = await applyCluster(await s.temporal(), spec);
        const link = uiLink(id, s.ctx.uiBase);
        if (o.json) return void printJson(r);
        console.log(r.started ? `started ${id}` : `updated ${id}; changed: ${r.changed.join(', ') || 'nothing'}`);
        if (link) console.log(`Temporal UI: ${link}`);
      })(),
    );
  cluster
    .command('list')
    .description('running clusters')
    .option('--json', 'as JSON')
    .action((o: { json?: boolean }) =>
      withSession(async (s) => {
        const { answered, listClusters } = await client();
        const all = await listClusters(await s.temporal());
        if (o.json) console.log(JSON.stringify(all, null, 2));
        else {
          console.log(all.length ? table(['CLUSTER', 'PHASE', 'MEMBERS', 'DESIRED', 'MIN', 'MAX', 'OPERATION'], all.map((st) => (answered(st) ? [st.cluster, st.phase, String(st.current), String(st.desired), String(st.min), String(st.max), st.currentOperation ?? '-'] : [st.cluster, st.phase, '?', '?', '?', '?', '-']))) : '(no clusters)');
          for (const st of all.filter((c) => !answered(c))) console.error(st.error);
        }
      })(),
    );
  cluster
    .command('status <name>')
    .description('phase, conditions, members, metrics and recent decisions')
    .option('--json', 'as JSON')
    .action((name: string, o: { json?: boolean }) =>
      withSession(async (s) => {
        const { clusterStatus } = await client();
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
        const { clusterStatus, uiLink } = await client();
        const st = await clusterStatus(await s.temporal(), name);
        if (o.json) return void printJson({ runs: st.runs, decisions: st.decisions });
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
    .option('--json', "as JSON (the API's reply)")
    .action((name: string, o: { out?: number; in?: number; desired?: number; json?: boolean }) =>
      withSession(async (s) => {
        const { requestScale } = await client();
        const given = (['out', 'in', 'desired'] as const).filter((k) => o[k] !== undefined);
        if (given.length !== 1) throw new UsageError('give exactly one of --out N, --in N, --desired N');
        const key = given[0]!;
        const kind = key === 'out' ? 'scale-out' : key === 'in' ? 'scale-in' : 'set-desired';
        const r = await requestScale(await s.temporal(), name, kind, o[key]!, 'cli');
        if (o.json) return void printJson(r);
        console.log(`accepted: ${kind} ${r.n}; ${r.position ? `${r.position} request(s) ahead; ` : ''}cluster ${name} will have ${r.projected} member(s)`);
      })(),
    );
  for (const verb of ['pause', 'resume'] as const) {
    cluster
      .command(`${verb} <name>`)
      .description(verb === 'pause' ? 'pause automatic decisions (operator requests still run)' : 'resume automatic decisions')
      .option('--json', "as JSON (the API's reply)")
      .action((name: string, o: { json?: boolean }) =>
        withSession(async (s) => {
          const { setPaused } = await client();
          const r = await setPaused(await s.temporal(), name, verb === 'pause');
          if (o.json) return void printJson(r);
          console.log(`${name}: automatic decisions ${verb === 'pause' ? 'paused (manual requests still run)' : 'resumed'}`);
        })(),
      );
  }
  cluster
    .command('delete <name>')
    .description("end a cluster's autoscaler; its members keep running unless --scale-to-zero")
    .option('--scale-to-zero', 'remove every member first')
    .option('--json', "as JSON (the API's reply)")
    .action((name: string, o: { scaleToZero?: boolean; json?: boolean }) =>
      withSession(async (s) => {
        const { deleteCluster } = await client();
        const r = await deleteCluster(await s.temporal(), name, { scaleToZero: !!o.scaleToZero });
        if (o.json) return void printJson(r);
        console.log(
          o.scaleToZero
            ? `deleting ${name}: scaling its ${r.members} member(s) to zero, then the autoscaler ends`
            : `deleted the autoscaler of ${name}; its ${r.members} member(s) keep running unmanaged (apply the spec again to manage them, or use --scale-to-zero)`,
        );
      })(),
    );

  program
    .command('member')
    .description("one member of a running cluster's pool")
    .command('remove <cluster> <members...>')
    .description('drain and destroy the named members through the scale-in workflow, queued behind what runs')
    .option('--decrement', 'the pool shrinks by them (the default; refused below min)')
    .option('--replace', 'as many new members join first, then the named ones go: the pool keeps its size')
    .option('--json', "as JSON (the API's reply)")
    .action((cluster: string, members: string[], o: { replace?: boolean; decrement?: boolean; json?: boolean }) =>
      withSession(async (s) => {
        const { removeMembers } = await client();
        if (o.replace && o.decrement) throw new UsageError('give --replace or --decrement, not both');
        const r = await removeMembers(await s.temporal(), cluster, members, !!o.replace, 'cli');
        if (o.json) return void printJson(r);
        console.log(`accepted: ${o.replace ? 'replacing' : 'removing'} ${members.join(', ')}; ${r.position ? `${r.position} request(s) ahead; ` : ''}cluster ${cluster} will have ${r.projected} member(s) (poolpilot cluster history ${cluster})`);
      })(),
    );

  program
    .command('schema')
    .description(`the cluster spec's JSON Schema, for editors (the package's copy: ${SPEC_JSON_SCHEMA_FILE})`)
    .option('-o, --output <file>', 'write it to a file instead of standard output')
    .action((o: { output?: string }) => {
      if (o.output) writeFileSync(o.output, specJsonSchemaText());
      else process.stdout.write(specJsonSchemaText());
    });

  program
    .command('hook')
    .description('lifecycle hooks that wait for an operator')
    .command('complete <cluster> <member> <hook> <result>')
    .description('let a member waiting for a hook go on (CONTINUE) or be undone (ABANDON)')
    .option('--run <workflowId>', "the run (default: the cluster's current operation)")
    .option('--json', "as JSON (the API's reply)")
    .action((cluster: string, member: string, hook: string, result: string, o: { run?: string; json?: boolean }) =>
      withSession(async (s) => {
        const { completeHook } = await client();
        if (result !== 'CONTINUE' && result !== 'ABANDON') throw new UsageError(`the result must be CONTINUE or ABANDON, not "${result}"`);
        const r = await completeHook(await s.temporal(), cluster, { member, hook, result }, o.run);
        if (o.json) return void printJson(r);
        console.log(`${r.run}: hook ${hook} of ${member} completed with ${result}`);
      })(),
    );
}
