// The local lab: Temporal, vcsim, HAProxy, Prometheus and the guest simulator on loopback, as one datacenter.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  componentsOf,
  credentialsPath,
  metricsTargets,
  endpoints,
  LAB_CREDENTIAL_REF,
  LAB_INVENTORY,
  labConfigSchema,
  readLabState,
  statePath,
  type Component,
  type LabConfig,
  type LabConfigInput,
  type LabEndpoints,
  type LabState,
} from './state';
import { SEARCH_ATTRIBUTES } from '../config/search-attributes';
import { ensureOpenstack, ensureTools, PROJECT_ROOT, type Tools } from './tools';
import { OPENSTACK_LAB_NAMES, openstackDown, openstackStatus, openstackUp, readOpenstackState, type OpenstackLabState } from './openstack';
import { applySchemas, DYNAMIC_CONFIG_FILE, initPostgres, readDatabaseCredentials, postgresCommand, registerNamespace, temporalPorts, temporalServerConfig, uiServerConfig } from './production';

export { endpoints, readLabState, LAB_INVENTORY, type LabState, type LabEndpoints, type LabConfig, type LabConfigInput } from './state';

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a reused pid is not ours.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return true;
  }
}

export function waitForPort(host: string, p: number, timeoutMs: number, what: string, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (!alive()) return reject(new Error(`${what} exited during start-up`));
      const s = net.createConnection({ host, port: p });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`${what} did not open ${host}:${p} within ${Math.round(timeoutMs / 1000)} s`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function portInUse(host: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port: p });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

function startProcess(dataDir: string, name: Component, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = dataDir): number {
  const logs = path.join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const out = openSync(path.join(logs, `${name}.log`), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], cwd, env: { ...process.env, ...env } });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${name} (${cmd})`);
  return child.pid;
}

function logTail(dataDir: string, name: Component): string {
  const file = path.join(dataDir, 'logs', `${name}.log`);
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(-5);
    return `${file}:\n  ${lines.join('\n  ')}`;
  } catch {
    return `${file}: (no log)`;
  }
}

function haproxyConfig(c: LabConfig): string {
  return `# Written by poolpilot lab up.
global
  stats socket ${path.join(c.dataDir, 'haproxy.sock')} mode 600 level admin
  stats timeout 30s
  maxconn 4000

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout queue 30s
  option http-server-close
  retries 2
  option redispatch

frontend vip
  bind ${c.host}:${c.ports.vip}
  # The balancer contract tests reach their own backend with this header; everyone else gets the pool.
  use_backend ${c.backend}-contract if { req.hdr(x-pool) -m str contract }
  default_backend ${c.backend}

frontend stats
  bind ${c.host}:${c.ports.haproxyStats}
  http-request use-service prometheus-exporter if { path /metrics }
  stats enable
  stats uri /stats

# Members are dynamic servers that poolpilot adds and removes through the runtime API.
backend ${c.backend}
  balance leastconn
  option httpchk GET /healthz

# A backend of its own for the load-balancer contract tests (test servers, not VMs).
backend ${c.backend}-contract
  balance leastconn
  option httpchk GET /healthz
`;
}

function prometheusConfig(c: LabConfig): string {
  const s = Math.round(c.scrapeIntervalMs / 1000);
  return `# Written by poolpilot lab up.
global:
  scrape_interval: ${s}s
  evaluation_interval: ${s}s
scrape_configs:
  - job_name: haproxy
    static_configs:
      - targets: ['${c.host}:${c.ports.haproxyStats}']
  # poolpilot's workers (the lab's, or the demo's) and its API.
  - job_name: poolpilot
    static_configs:
      - targets: [${metricsTargets(c).map((t) => `'${t}'`).join(', ')}]
  # The OpenStack demo's replayed trace (up only while it runs): the demand Nova's fake servers cannot serve.
  - job_name: demand
    static_configs:
      - targets: ['${c.host}:${c.ports.demand}']
${c.profile === 'production' ? `  - job_name: temporal
    static_configs:
      - targets: ['${c.host}:${temporalPorts(c).metrics}']
` : ''}rule_files:
  - ${path.join(PROJECT_ROOT, 'deploy', 'prometheus', 'poolpilot-rules.yml')}
`;
}

function govc(tools: Tools, state: LabState, args: string[]): string {
  const e = endpoints(state);
  const r = spawnSync(tools.govc, args, {
    encoding: 'utf8',
    env: { ...process.env, GOVC_URL: e.vsphereUrl, GOVC_USERNAME: e.vsphereUsername, GOVC_PASSWORD: e.vspherePassword, GOVC_INSECURE: '1' },
  });
  if (r.status !== 0) throw new Error(`govc ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Makes the lab's inventory in a fresh vcsim: a pool folder and the template VM. */
function seedInventory(tools: Tools, state: LabState): void {
  const existing = govc(tools, state, ['ls', '/DC0/vm']);
  if (!existing.includes(LAB_INVENTORY.folder)) govc(tools, state, ['folder.create', LAB_INVENTORY.folder]);
  if (!existing.includes(LAB_INVENTORY.template)) {
    govc(tools, state, ['vm.create', '-on=false', '-folder', '/DC0/vm', '-pool', LAB_INVENTORY.resourcePool, '-ds', LAB_INVENTORY.datastore, '-net', LAB_INVENTORY.network, path.basename(LAB_INVENTORY.template)]);
  }
}

export interface LabOptions {
  log?: (msg: string) => void;
  tools?: Tools;
}

/** Brings up whatever part of the lab is not running; running parts are kept. */
export async function labUp(input: LabConfigInput = {}, opts: LabOptions = {}): Promise<LabState> {
  const log = opts.log ?? ((m: string) => console.log(`[lab] ${m}`));
  const config = labConfigSchema.parse(input);
  const c = config;
  const production = c.profile === 'production';
  mkdirSync(c.dataDir, { recursive: true });
  const tools = opts.tools ?? ensureTools(log, { production });
  if (c.openstack) ensureOpenstack(log);
  const previous = readLabState(c.dataDir);
  if (previous && (previous.config.profile ?? 'dev') !== c.profile && Object.values(previous.pids).some((p) => pidAlive(p))) {
    throw new Error(`the lab in ${c.dataDir} runs the ${previous.config.profile ?? 'dev'} profile; poolpilot lab down first (or use another --data-dir)`);
  }
  const state: LabState = {
    config,
    pids: { ...(previous?.pids ?? {}) },
    credentials: previous?.credentials ?? { username: 'poolpilot', password: randomBytes(12).toString('hex') },
    ...(production ? { database: previous?.database ?? readDatabaseCredentials(c) ?? { user: 'temporal', password: randomBytes(12).toString('hex') } } : {}),
    startedAt: previous?.startedAt ?? new Date().toISOString(),
  };
  const writeCredentials = (os?: OpenstackLabState) =>
    writeFileSync(
      credentialsPath(c.dataDir),
      JSON.stringify({ [LAB_CREDENTIAL_REF]: state.credentials, ...(os ? { [OPENSTACK_LAB_NAMES.credentialRef]: { username: OPENSTACK_LAB_NAMES.username, password: os.secrets.user } } : {}) }, null, 2),
      { mode: 0o600 },
    );
  writeCredentials(readOpenstackState(c.dataDir));
  // The OpenStack lab takes about two minutes; it comes up beside the rest.
  const openstack = c.openstack
    ? openstackUp({ dataDir: c.dataDir, host: c.host, ports: c.openstack, log: (m) => log(`openstack: ${m}`) }).then((os) => (writeCredentials(os), os))
    : undefined;
  // A failure is reported where it is awaited, below.
  openstack?.catch(() => undefined);
  const save = () => writeFileSync(statePath(c.dataDir), JSON.stringify(state, null, 2));

  const want = async (name: Component, p: number | undefined, start: () => number, readyMs = 60_000) => {
    if (pidAlive(state.pids[name])) {
      log(`${name} already running (pid ${state.pids[name]})`);
      return false;
    }
    if (p !== undefined && (await portInUse(c.host, p))) {
      throw new Error(`${name}: ${c.host}:${p} is already taken by another program; stop it or choose another port (see poolpilot lab up --help)`);
    }
    state.pids[name] = start();
    save();
    if (p !== undefined) {
      await waitForPort(c.host, p, readyMs, name, () => pidAlive(state.pids[name])).catch((err: Error) => {
        throw new Error(`${err.message}; last lines of ${logTail(c.dataDir, name)}`);
      });
    }
    log(`${name} up (pid ${state.pids[name]}${p ? `, ${c.host}:${p}` : ''})`);
    return true;
  };

  if (production) {
    initPostgres(c, state, tools, log);
    await want('postgres', c.ports.postgres, () => startProcess(c.dataDir, 'postgres', ...postgresCommand(c, tools)));
    applySchemas(c, state, tools, log);
    const root = path.join(c.dataDir, 'temporal-server');
    mkdirSync(path.join(root, 'config'), { recursive: true });
    writeFileSync(path.join(root, 'config', 'production.yaml'), temporalServerConfig(c, state.database!, DYNAMIC_CONFIG_FILE), { mode: 0o600 });
    await want('temporal', c.ports.temporal, () => startProcess(c.dataDir, 'temporal', tools['temporal-server'], ['--root', root, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'], { GOGC: process.env.GOGC ?? '400' }), 120_000);
    registerNamespace(c, tools, log, () => pidAlive(state.pids.temporal));
    const uiRoot = path.join(c.dataDir, 'temporal-ui');
    mkdirSync(path.join(uiRoot, 'config'), { recursive: true });
    writeFileSync(path.join(uiRoot, 'config', 'base.yaml'), uiServerConfig(c));
    writeFileSync(path.join(uiRoot, 'config', 'production.yaml'), uiServerConfig(c));
    await want('temporal-ui', c.ports.temporalUi, () => startProcess(c.dataDir, 'temporal-ui', tools['temporal-ui-server'], ['--root', uiRoot, '--config', 'config', '--env', 'production', 'start']));
  } else {
    await want('temporal', c.ports.temporal, () =>
      startProcess(c.dataDir, 'temporal', tools.temporal, [
        'server', 'start-dev', '--ip', c.host, '--port', String(c.ports.temporal), '--ui-port', String(c.ports.temporalUi),
        '--db-filename', path.join(c.dataDir, 'temporal.db'), '--namespace', 'default', '--log-level', 'warn',
        '--search-attribute', `${SEARCH_ATTRIBUTES.cluster}=Keyword`, '--search-attribute', `${SEARCH_ATTRIBUTES.operation}=Keyword`,
        // Activities scheduled by a workflow task go straight back to the worker that completed it.
        '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
        // Write-ahead log, synced at checkpoints, instead of SQLite's rollback journal with a sync per commit: the
        // density benchmark measured about 15 ms of server CPU per autoscaler poll before, 6-7 ms after. Still
        // crash-safe for the process.
        '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal',
      ], {
        // Go collects garbage when the heap doubles; at 4x the server spent about a quarter less CPU per workflow
        // task (6.5 -> 4.7 ms, 500 polling workflows) for about 200 MB more memory. An explicit GOGC wins.
        GOGC: process.env.GOGC ?? '400',
      }),
    );
  }
  const vcsimStarted = await want('vcsim', c.ports.vcsim, () =>
    startProcess(c.dataDir, 'vcsim', tools.vcsim, [
      '-l', `${c.host}:${c.ports.vcsim}`, '-dc', '1', '-cluster', '2', '-host', '2', '-ds', '3', '-vm', '0', '-standalone-host', '0',
      '-username', state.credentials.username, '-password', state.credentials.password,
      ...(c.vcsimMethodDelay ? ['-method-delay', c.vcsimMethodDelay] : []),
    ]),
  );
  if (vcsimStarted || !previous) seedInventory(tools, state);

  const haproxyCfg = path.join(c.dataDir, 'haproxy.cfg');
  writeFileSync(haproxyCfg, haproxyConfig(c));
  const check = spawnSync(tools.haproxy, ['-c', '-q', '-f', haproxyCfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy rejects ${haproxyCfg}: ${check.stderr || check.stdout}`);
  await want('haproxy', c.ports.vip, () => startProcess(c.dataDir, 'haproxy', tools.haproxy, ['-db', '-f', haproxyCfg]));

  if (c.withPrometheus) {
    const promCfg = path.join(c.dataDir, 'prometheus.yml');
    writeFileSync(promCfg, prometheusConfig(c));
    await want('prometheus', c.ports.prometheus, () =>
      startProcess(c.dataDir, 'prometheus', tools.prometheus, [
        `--config.file=${promCfg}`, `--storage.tsdb.path=${path.join(c.dataDir, 'prometheus')}`,
        `--web.listen-address=${c.host}:${c.ports.prometheus}`, '--storage.tsdb.retention.time=2d', '--log.level=warn',
      ]),
    );
  }
  save();
  await want('guestsim', undefined, () =>
    startProcess(c.dataDir, 'guestsim', process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'lab', 'guest-sim.js'), c.dataDir]),
  );
  if (openstack) await openstack;
  for (let i = 1; i <= c.workers; i++) {
    const port = c.ports.metrics + i - 1;
    await want(`worker-${i}`, port, () => startProcess(c.dataDir, `worker-${i}`, process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'worker', 'main.js')], labWorkerEnv(state, port)));
  }
  save();
  return state;
}

/** The environment of a worker on this lab: its Temporal, credentials, and /metrics on `metricsPort`. */
export function labWorkerEnv(state: LabState, metricsPort: number): NodeJS.ProcessEnv {
  const e = endpoints(state);
  return { TEMPORAL_ADDRESS: e.temporalAddress, TEMPORAL_NAMESPACE: e.temporalNamespace, POOLPILOT_CREDENTIALS_FILE: e.credentialsFile, POOLPILOT_METRICS_PORT: String(metricsPort), POOLPILOT_LOG_LEVEL: process.env.POOLPILOT_LOG_LEVEL ?? 'info' };
}

async function stopPid(pid: number, timeoutMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

/** Stops every process the lab started; keeps Temporal's database unless `purge`. */
export async function labDown(dataDir: string, opts: { purge?: boolean; log?: (msg: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((m: string) => console.log(`[lab] ${m}`));
  const state = readLabState(dataDir);
  if (!state) {
    log(`no lab state in ${dataDir}; nothing to stop`);
  } else {
    // Workers and the guest simulator first, then in reverse order of start.
    for (const name of componentsOf({ ...state.config, profile: 'production', workers: Object.keys(state.pids).filter((k) => k.startsWith('worker-')).length }).reverse()) {
      const pid = state.pids[name];
      if (!pidAlive(pid)) continue;
      // PostgreSQL's SIGTERM waits for clients to leave; SIGINT is its fast shutdown.
      await stopPid(pid!, 30_000, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
      log(`${name} stopped (pid ${pid})`);
    }
    rmSync(statePath(dataDir), { force: true });
  }
  await openstackDown(dataDir, { log: (m) => log(`openstack: ${m}`) });
  if (opts.purge) rmSync(dataDir, { recursive: true, force: true });
}

export interface ComponentStatus {
  name: Component | `openstack:${string}`;
  pid?: number;
  running: boolean;
}

export function labStatus(dataDir: string): { state?: LabState; components: ComponentStatus[]; endpoints?: LabEndpoints } {
  const state = readLabState(dataDir);
  if (!state) return { components: componentsOf(labConfigSchema.parse({ dataDir })).map((name) => ({ name, running: false })) };
  const components = componentsOf({ ...state.config, profile: state.config.profile ?? 'dev', workers: state.config.workers ?? 0 }).map((name) => ({
    name,
    pid: state.pids[name],
    running: pidAlive(state.pids[name]),
  }));
  return { state, components: [...components, ...(state.config.openstack ? openstackStatus(dataDir) : [])], endpoints: endpoints(state) };
}

