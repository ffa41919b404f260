// `poolpilot worker` and `api`: the long-running services, and the API's token tool.
import { settingsHelp } from '../config/settings';
import { UsageError } from './errors';
import { count } from './options';
import type { Cli } from './runtime';

/** The worker. */
export function workerCommand({ program, ctx }: Cli): void {
  program
    .command('worker')
    .description('run a worker: it runs every scaling workflow and their activities against the clouds and balancers')
    .addHelpText('after', settingsHelp(['POOLPILOT_TASK_QUEUE', 'POOLPILOT_CREDENTIALS_FILE', 'POOLPILOT_LOG_LEVEL', 'POOLPILOT_METRICS_HOST', 'POOLPILOT_METRICS_PORT', 'POOLPILOT_SEARCH_ATTRIBUTES', 'POOLPILOT_FAILED_LOGIN_INTERVAL', 'POOLPILOT_VSPHERE_WAIT', 'POOLPILOT_LAB_DIR']))
    .action(async () => {
      const c = ctx();
      const { runWorker } = await import('../worker/main');
      await runWorker({ target: c.target, credentialsFile: c.credentialsFile });
    });
}

/** The HTTP API, and its token tool. */
export function apiCommands({ program, setExit, ctx }: Cli): void {
  const api = program
    .command('api')
    .description('the HTTP API and alert receivers')
    .addHelpText('after', settingsHelp(['POOLPILOT_API_HOST', 'POOLPILOT_API_PORT', 'POOLPILOT_API_TOKENS_FILE', 'POOLPILOT_API_TOKEN', 'POOLPILOT_TASK_QUEUE', 'POOLPILOT_TEMPORAL_UI', 'POOLPILOT_LOG_LEVEL', 'POOLPILOT_LAB_DIR']))
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
}
