// `poolpilot lab …`, `tools install` and `demo`: the local lab and the scenario on it.
import { Option } from 'commander';
import { UsageError } from './errors';
import { amount, count, durationMs, oldSpelling } from './options';
import type { Cli } from './runtime';

/** The lab's status as JSON: lab status --json, and lab up --json. */
function statusJson(st: { components: { running: boolean }[]; endpoints?: unknown }): string {
  return JSON.stringify({ running: st.components.every((c) => c.running), components: st.components, endpoints: st.endpoints ?? null }, null, 2);
}

/** The lab's commands (up, down, status, history) and the tools it needs. */
export function labCommands({ program, setExit, labDir }: Cli): void {
  const lab = program.command('lab').description('the local lab: Temporal, vcsim, HAProxy, Prometheus and guests on loopback');
  lab
    .command('up')
    .description('start the lab (idempotent)')
    .addOption(oldSpelling('--data-dir <dir>', '--lab-dir'))
    .option('--clone-delay <duration>', 'how long a clone takes in vcsim (realistic: 20s and more)', durationMs('--clone-delay'))
    .option('--boot-delay <duration>', 'how long a guest takes to boot and report an IP (default 1.5s)', durationMs('--boot-delay'))
    .option('--profile <profile>', 'dev: the Temporal CLI dev server; production: PostgreSQL, the Temporal server and Web UI server, and 2 workers', 'dev')
    .option('--workers <n>', 'poolpilot workers the lab runs (default: 0 with dev, the demo runs its own; 2 with production)', count('--workers', 0))
    .option('--cloud <cloud>', 'vsphere: vcsim only; openstack: also Keystone, Nova (fake driver), Neutron, Glance, Placement and Octavia (noop drivers), about 2 minutes', 'vsphere')
    .option('--json', 'when up, print what lab status --json prints')
    .action(async (o: { dataDir?: string; cloneDelay?: number; bootDelay?: number; profile: string; workers?: number; cloud: string; json?: boolean }) => {
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
      if (o.json) return void console.log(statusJson(st));
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
    .addOption(oldSpelling('--data-dir <dir>', '--lab-dir'))
    .option('--purge', 'delete its data too')
    .action(async (o: { dataDir?: string; purge?: boolean }) => {
      const { labDown } = await import('../lab/lab');
      await labDown(labDir(o), { purge: o.purge });
    });
  lab
    .command('status')
    .description('lab processes and endpoints (exit 1 unless all run)')
    .addOption(oldSpelling('--data-dir <dir>', '--lab-dir'))
    .option('--json', 'as JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const { labStatus } = await import('../lab/lab');
      const st = labStatus(labDir(o));
      if (o.json) {
        console.log(statusJson(st));
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
    .addOption(oldSpelling('--data-dir <dir>', '--lab-dir'))
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
}

/** The demo: the whole scenario on the lab. */
export function demoCommand({ program, setExit }: Cli): void {
  program
    .command('demo')
    .description('the whole autoscaling scenario on the lab (npm start)')
    .option('-f, --file <file>', 'the cluster spec (default examples/web.yaml, or examples/openstack/web.yaml)')
    .addOption(oldSpelling('--spec <file>', '-f, --file'))
    .option('--cloud <cloud>', 'vsphere: Locust through HAProxy to vcsim VMs; openstack: Nova servers behind Octavia, with a day of the NASA trace replayed as the demand', 'vsphere')
    .option('--users <n>', 'Locust users', count('--users'), 1000)
    .option('--spawn-rate <n>', 'users started per second', count('--spawn-rate'), 10)
    .addOption(new Option('--plateau <duration>', 'how long the load stays at full strength (60s, 2m; a bare number is seconds)').argParser(durationMs('--plateau')).default(60_000, '60s'))
    .option('--down', 'stop the lab at the end')
    .action(async (o: { file?: string; spec?: string; cloud: string; users: number; spawnRate: number; plateau: number; down?: boolean }) => {
      if (o.cloud !== 'vsphere' && o.cloud !== 'openstack') throw new UsageError(`--cloud must be vsphere or openstack, not "${o.cloud}"`);
      const { runDemo } = await import('../lab/demo');
      const { file, spec, ...rest } = o;
      const chosen = file ?? spec;
      setExit(await runDemo({ ...rest, ...(chosen ? { spec: chosen } : {}), plateau: Math.max(1, Math.round(o.plateau / 1000)), cloud: o.cloud, down: !!o.down }));
    });
}
