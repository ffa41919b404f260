// `poolpilot scale-out`, `scale-in` and `members`: scaling by hand (queued behind a running autoscaler, or a run of
// its own) and a cluster's members as the cloud and the balancer see them. What they do is in scaling-run.ts, loaded
// when one runs, so that defining them (for --help, or any other command) does not load the Temporal client.
import { loadClusterSpec } from '../config/load';
import { UsageError } from './errors';
import { count } from './options';
import type { Cli } from './runtime';

/** What the commands do, loaded on first use. */
const run = () => import('./scaling-run');

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
    cmd.action((o: { file?: string; cluster?: string; count?: number; victims?: string; wait: boolean; json?: boolean }) => withSession(async (s) => (await run()).scaleByHand(s, kind, { ...o, cluster: clusterRef(o) }))());
  }

  program
    .command('members')
    .description("a cluster's members as the cloud and the balancer see them")
    .option('-f, --file <file>', 'the cluster spec')
    .option('--cluster <name>', 'a running cluster, by name (its spec as it runs)')
    .option('--json', 'as JSON')
    .action((o: { file?: string; cluster?: string; json?: boolean }) =>
      withSession(async (s) => {
        const ref = clusterRef(o);
        await (await run()).printMembers(s, ref, o.json);
      })(),
    );
}
