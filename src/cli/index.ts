// The `poolpilot` command line (commander): lab, worker, scaling by hand, members, clusters, API, backtest, demo.
// Each command group is a file of its own; this one puts them together and runs them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { DEFAULT_LAB_DIR, PROJECT_ROOT } from '../config/settings';
import { backtestCommand } from './backtest';
import { clusterCommands } from './cluster-commands';
import { completionCommand } from './completion';
import { importCommands } from './import-commands';
import { exitCodeOf } from './errors';
import { demoCommand, labCommands } from './lab-commands';
import { cliRuntime } from './runtime';
import { scalingCommands } from './scaling-commands';
import { apiCommands, workerCommand } from './service-commands';

/** The package's version, read once from package.json (one place for it). */
export const VERSION = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('poolpilot')
    .description('durable autoscaling of vSphere and OpenStack server pools behind a load balancer, on Temporal')
    .version(VERSION, '-V, --version', "poolpilot's version")
    .option('--lab', `use the local lab's Temporal, credentials and UI (its folder: --lab-dir, POOLPILOT_LAB_DIR, or ${path.relative(PROJECT_ROOT, DEFAULT_LAB_DIR)})`)
    .option('--lab-dir <dir>', 'the lab folder (implies --lab)')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nExit codes: 0 done, 1 the operation failed, 2 the request was wrong (nothing was changed).');
  program.exitOverride();
  const cli = cliRuntime(program, setExit);
  labCommands(cli);
  workerCommand(cli);
  scalingCommands(cli);
  clusterCommands(cli);
  apiCommands(cli);
  backtestCommand(program, setExit);
  demoCommand(cli);
  importCommands(cli);
  completionCommand(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  // Bare `poolpilot`: the same help, footer included, as --help.
  if (argv.length === 0) argv = ['--help'];
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
