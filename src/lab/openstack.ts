// The lab's OpenStack: Keystone, Placement, Glance, Neutron (server only), Nova with its fake driver and Octavia with
// its noop drivers, on one private PostgreSQL and RabbitMQ, all on loopback in <lab>/openstack. Debian's packages
// (OpenStack Zed) supply the code; how each part was made to run on a 2-core machine, and what failed first, is in
// docs/openstack.md. Nothing here sends traffic to the subnet: its addresses exist only in Neutron's database.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/settings';
import { OPENSTACK_PASTE_DIR } from './tools';
import { configs, OPENSTACK_DEV_PORTS, OPENSTACK_LAB_NAMES, plan, rabbitEnv, type OpenstackAccess, type OpenstackLabState, type OpenstackPorts } from './openstack-config';

export { OPENSTACK_DEV_PORTS, OPENSTACK_LAB_NAMES, plan, type OpenstackAccess, type OpenstackLabState, type OpenstackPorts } from './openstack-config';

/** Debian's interpreter: the OpenStack modules are installed for it, not for any other python3 on PATH. */
const PYTHON = '/usr/bin/python3';
const HELPERS = path.join(PROJECT_ROOT, 'src', 'lab', 'openstack');
const PG_BIN_GLOB = '/usr/lib/postgresql/*/bin';

const SERVICES = ['postgres', 'rabbitmq', 'keystone', 'placement', 'glance', 'neutron', 'nova-api', 'nova-conductor', 'nova-scheduler', 'nova-compute', 'octavia-api', 'octavia-worker'] as const;
/** Senlin's four services, run when the lab's ports name Senlin's API. */
const SENLIN_SERVICES = ['senlin-api', 'senlin-engine', 'senlin-conductor', 'senlin-health-manager'] as const;
export type OpenstackService = (typeof SERVICES)[number] | (typeof SENLIN_SERVICES)[number];
const servicesOf = (ports: OpenstackPorts): OpenstackService[] => [...SERVICES, ...(ports.senlin ? SENLIN_SERVICES : [])];

export const openstackDir = (dataDir: string) => path.join(dataDir, 'openstack');
const statePath = (dir: string) => path.join(dir, 'state.json');

export function readOpenstackState(dataDir: string): OpenstackLabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(openstackDir(dataDir)), 'utf8')) as OpenstackLabState;
  } catch {
    return undefined;
  }
}

export function openstackAccess(s: OpenstackLabState, projectName: string = OPENSTACK_LAB_NAMES.project): OpenstackAccess {
  return {
    authUrl: `http://${s.host}:${s.ports.keystone}/v3`,
    projectName,
    username: OPENSTACK_LAB_NAMES.username,
    password: s.secrets.user,
    userDomainName: 'Default',
    projectDomainName: 'Default',
    region: OPENSTACK_LAB_NAMES.region,
  };
}

/** The admin's access, for tests that look at the cloud through its own API and for lab maintenance. */
export function openstackAdminAccess(s: OpenstackLabState): OpenstackAccess {
  return { ...openstackAccess(s, 'admin'), username: 'admin', password: s.secrets.admin };
}

function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function openstackRunning(dataDir: string): boolean {
  const s = readOpenstackState(dataDir);
  return !!s?.ready && servicesOf(s.ports).every((n) => pidAlive(s.pids[n]));
}

// ---- processes ----

function logFile(dir: string, name: string): string {
  return path.join(dir, 'log', `${name}.log`);
}

function tail(file: string, n = 6): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n  ');
  } catch {
    return '(no log)';
  }
}

/** Runs a set-up step to its end; its output goes to log/<name>.log, whose last lines a failure quotes. */
function run(dir: string, name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, cwd: dir }, (err, stdout, stderr) => {
      writeFileSync(logFile(dir, `setup-${name}`), `$ ${cmd} ${args.join(' ')}\n${stdout}${stderr}`, { flag: 'a' });
      if (err) reject(new Error(`OpenStack lab: ${name} failed (${err.message.split('\n')[0]}):\n  ${`${stdout}${stderr}`.trim().split('\n').slice(-6).join('\n  ')}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const python = (dir: string, name: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string) => run(dir, name, PYTHON, args, env, input);
const pyrun = (target: string, prog: string, args: string[]) => [path.join(HELPERS, 'pyrun.py'), target, prog, ...args];

function startDaemon(dir: string, name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const out = openSync(logFile(dir, name), 'a');
  // Its own process group: lab down stops the service and every child it forked (gunicorn and eventlet workers).
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], cwd: dir, env: { ...process.env, ...env } });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`OpenStack lab: could not start ${name}`);
  return child.pid;
}

async function waitHttp(url: string, what: string, pid: () => number | undefined, dir: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pidAlive(pid())) throw new Error(`OpenStack lab: ${what} exited during start-up; last lines of ${logFile(dir, what)}:\n  ${tail(logFile(dir, what))}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`OpenStack lab: ${what} did not answer ${url} within ${timeoutMs / 1000} s; see ${logFile(dir, what)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function pgBin(name: string): string {
  const r = spawnSync('sh', ['-c', `ls -d ${PG_BIN_GLOB}/${name} 2>/dev/null | sort -V | tail -1`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (!found) throw new Error(`OpenStack lab: PostgreSQL's ${name} is missing: poolpilot tools install --openstack`);
  return found;
}

function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]] : [cmd, args];
}

function chownToPostgres(...dirs: string[]): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  for (const d of dirs) chownSync(d, uid, gid);
}

const DATABASES = ['keystone', 'placement', 'nova_api', 'nova', 'nova_cell0', 'glance', 'neutron', 'octavia'];
const databasesOf = (ports: OpenstackPorts) => [...DATABASES, ...(ports.senlin ? ['senlin'] : [])];

export interface OpenstackUpOptions {
  dataDir: string;
  host: string;
  ports: OpenstackPorts;
  log: (msg: string) => void;
}

/**
 * Starts the lab's OpenStack, or keeps it if it runs. A fresh start wipes its databases: the lab's OpenStack is a
 * fixture, made anew in about two minutes.
 */
export async function openstackUp(o: OpenstackUpOptions): Promise<OpenstackLabState> {
  const dir = openstackDir(o.dataDir);
  if (openstackRunning(o.dataDir)) {
    o.log('OpenStack already running');
    return readOpenstackState(o.dataDir)!;
  }
  await openstackDown(o.dataDir, { log: () => undefined });
  if (!existsSync(path.join(OPENSTACK_PASTE_DIR, 'nova-api-paste.ini')) || !existsSync('/usr/lib/python3/dist-packages/octavia') || (o.ports.senlin && (!existsSync(path.join(OPENSTACK_PASTE_DIR, 'senlin-api-paste.ini')) || !existsSync('/usr/lib/python3/dist-packages/senlin')))) {
    throw new Error('OpenStack lab: the OpenStack packages are not installed: run poolpilot tools install --openstack');
  }
  const started = Date.now();
  const at = () => `${Math.round((Date.now() - started) / 1000)} s`;
  for (const sub of ['pg', 'rabbit', 'data', 'log', 'etc']) rmSync(path.join(dir, sub), { recursive: true, force: true });
  for (const sub of ['log', 'rabbit', 'data/fernet-keys', 'data/credential-keys', 'data/glance/images', 'data/glance/staging', 'data/glance/tasks', 'data/nova', 'data/neutron', 'data/octavia', 'etc/keystone', 'etc/placement', 'etc/glance', 'etc/neutron', 'etc/nova', 'etc/octavia', 'etc/senlin', 'data/senlin', 'run']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  const secret = () => randomBytes(12).toString('hex');
  const s: OpenstackLabState = { ports: o.ports, host: o.host, pids: {}, secrets: { admin: secret(), services: secret(), user: secret(), caPassphrase: secret() } };
  const save = () => writeFileSync(statePath(dir), JSON.stringify(s, null, 2), { mode: 0o600 });
  save();
  for (const [file, text] of Object.entries(configs(dir, s))) writeFileSync(path.join(dir, 'etc', file), text, { mode: 0o600 });
  for (const [from, to] of [['nova-api-paste.ini', 'nova/api-paste.ini'], ['neutron-api-paste.ini', 'neutron/api-paste.ini'], ['glance-api-paste.ini', 'glance/glance-api-paste.ini'], ...(o.ports.senlin ? [['senlin-api-paste.ini', 'senlin/api-paste.ini'] as const] : [])] as const) {
    writeFileSync(path.join(dir, 'etc', to), readFileSync(path.join(OPENSTACK_PASTE_DIR, from)));
  }
  const conf = (f: string) => path.join(dir, 'etc', f);

  // PostgreSQL: Keystone's tokens and Nova's cells need a real database (SQLite locks under concurrent writers).
  const pg = path.join(dir, 'pg');
  const sock = path.join(dir, 'run');
  mkdirSync(pg, { mode: 0o700 });
  chownToPostgres(pg, sock);
  const [initCmd, initArgs] = asPostgresUser(pgBin('initdb'), ['-D', pg, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions']);
  await run(dir, 'initdb', initCmd, initArgs);
  // A fixture: no fsync; 300 connections for a dozen services with their pools.
  const [pgCmd, pgArgs] = asPostgresUser(pgBin('postgres'), ['-D', pg, '-p', String(o.ports.postgres), '-c', `listen_addresses=${o.host}`, '-c', `unix_socket_directories=${sock}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300']);
  s.pids.postgres = startDaemon(dir, 'postgres', pgCmd, pgArgs);
  save();
  const psql = (sql: string) => run(dir, 'psql', pgBin('psql'), ['-h', o.host, '-p', String(o.ports.postgres), '-U', 'postgres', '-qc', sql]);
  for (let i = 0; ; i++) {
    try {
      await psql('SELECT 1');
      break;
    } catch (err) {
      if (i > 120 || !pidAlive(s.pids.postgres)) throw new Error(`OpenStack lab: PostgreSQL did not start: ${(err as Error).message}\n  ${tail(logFile(dir, 'postgres'))}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const databases = databasesOf(o.ports);
  for (const db of databases) await psql(`CREATE DATABASE ${db}`);
  o.log(`[${at()}] PostgreSQL up, ${databases.length} databases`);

  // RabbitMQ: Nova's and Octavia's services talk over RPC (oslo.messaging's fake:// driver is per process).
  writeFileSync(path.join(dir, 'rabbit', 'enabled_plugins'), '[].\n');
  writeFileSync(path.join(dir, 'rabbit', 'rabbitmq.conf'), `listeners.tcp.default = ${o.host}:${o.ports.rabbit}\nloopback_users.guest = true\n`);
  s.pids.rabbitmq = startDaemon(dir, 'rabbitmq', '/usr/lib/rabbitmq/bin/rabbitmq-server', [], rabbitEnv(dir, s));
  save();

  // The Octavia worker's certificate authority, with an encrypted key (it refuses a plain one).
  const certs = path.join(dir, 'etc', 'octavia');
  const pass = `pass:${s.secrets.caPassphrase}`;
  const ssl = (name: string, args: string[]) => run(dir, `openssl-${name}`, 'openssl', args);
  const certsReady = (async () => {
    await ssl('ca-key', ['genrsa', '-aes256', '-passout', pass, '-out', path.join(certs, 'ca.key'), '2048']);
    await ssl('ca', ['req', '-x509', '-new', '-key', path.join(certs, 'ca.key'), '-passin', pass, '-days', '3650', '-subj', '/CN=poolpilot-lab-octavia-ca', '-out', path.join(certs, 'ca.pem')]);
    await ssl('client-key', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(certs, 'client.key'), '-subj', '/CN=poolpilot-lab-octavia-client', '-out', path.join(certs, 'client.csr')]);
    await ssl('client', ['x509', '-req', '-in', path.join(certs, 'client.csr'), '-CA', path.join(certs, 'ca.pem'), '-CAkey', path.join(certs, 'ca.key'), '-passin', pass, '-CAcreateserial', '-days', '3650', '-out', path.join(certs, 'client.crt')]);
    writeFileSync(path.join(certs, 'client.pem'), readFileSync(path.join(certs, 'client.crt'), 'utf8') + readFileSync(path.join(certs, 'client.key'), 'utf8'), { mode: 0o600 });
  })();

  // Keystone first (everything authenticates against it); the other schemas are built meanwhile.
  const km = (name: string, args: string[]) => run(dir, `keystone-${name}`, PYTHON, pyrun('keystone.cmd.manage:main', 'keystone-manage', ['--config-file', conf('keystone/keystone.conf'), ...args]));
  const keystoneReady = (async () => {
    await km('db-sync', ['db_sync']);
    await km('fernet', ['fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root']);
    await km('credential', ['credential_setup', '--keystone-user', 'root', '--keystone-group', 'root']);
    const url = `http://${o.host}:${o.ports.keystone}/v3/`;
    await km('bootstrap', ['bootstrap', '--bootstrap-password', s.secrets.admin, '--bootstrap-admin-url', url, '--bootstrap-internal-url', url, '--bootstrap-public-url', url, '--bootstrap-region-id', OPENSTACK_LAB_NAMES.region]);
    s.pids.keystone = startDaemon(dir, 'keystone', PYTHON, ['-m', 'gunicorn', '-b', `${o.host}:${o.ports.keystone}`, '-w', '2', '--timeout', '120', 'wsgi_app:application'], {
      POOLPILOT_WSGI: 'keystone', OS_KEYSTONE_CONFIG_FILES: conf('keystone/keystone.conf'), PYTHONPATH: HELPERS,
    });
    save();
    await waitHttp(`http://${o.host}:${o.ports.keystone}/v3`, 'keystone', () => s.pids.keystone, dir);
    o.log(`[${at()}] Keystone up`);
    await python(dir, 'catalog', [path.join(HELPERS, 'bootstrap.py'), 'catalog'], {}, JSON.stringify(plan(s)));
    o.log(`[${at()}] catalog, projects and users made`);
  })();
  const nm = (name: string, args: string[]) => run(dir, `nova-${name}`, PYTHON, pyrun('nova.cmd.manage:main', 'nova-manage', ['--config-file', conf('nova/nova.conf'), ...args]));
  const schemas = Promise.all([
    run(dir, 'placement-db', PYTHON, pyrun('placement.cmd.manage:main', 'placement-manage', ['--config-file', conf('placement/placement.conf'), 'db', 'sync'])),
    run(dir, 'glance-db', PYTHON, pyrun('glance.cmd.manage:main', 'glance-manage', ['--config-file', conf('glance/glance-api.conf'), 'db_sync'])),
    run(dir, 'neutron-db', PYTHON, pyrun('neutron.db.migration.cli:main', 'neutron-db-manage', ['--config-file', conf('neutron/neutron.conf'), '--config-file', conf('neutron/ml2_conf.ini'), 'upgrade', 'heads'])),
    (async () => {
      await nm('api-db', ['api_db', 'sync']);
      await nm('cell0', ['cell_v2', 'map_cell0', '--database_connection', `postgresql+psycopg2://postgres@${o.host}:${o.ports.postgres}/nova_cell0`]);
      await nm('cell1', ['cell_v2', 'create_cell', '--name=cell1']);
      await nm('db', ['db', 'sync']);
    })(),
    (async () => {
      // Octavia's migrations assume MySQL: the schema comes from its models, then alembic is stamped at head.
      await python(dir, 'octavia-db', [path.join(HELPERS, 'octavia_db_init.py'), conf('octavia/octavia.conf')]);
      await run(dir, 'octavia-db-stamp', PYTHON, pyrun('octavia.db.migration.cli:main', 'octavia-db-manage', ['--config-file', conf('octavia/octavia.conf'), 'stamp', 'head']));
    })(),
    o.ports.senlin ? python(dir, 'senlin-db', [path.join(HELPERS, 'senlin_db_init.py'), conf('senlin/senlin.conf')]) : undefined,
  ]);
  await Promise.all([keystoneReady, schemas, certsReady]);
  o.log(`[${at()}] every schema built`);
  await waitPort(o.host, o.ports.rabbit, 'rabbitmq', () => s.pids.rabbitmq, dir);

  const svc = (name: OpenstackService, args: string[], env: NodeJS.ProcessEnv = {}) => {
    s.pids[name] = startDaemon(dir, name, PYTHON, args, env);
    save();
  };
  svc('placement', ['-m', 'gunicorn', '-b', `${o.host}:${o.ports.placement}`, '-w', '1', '--threads', '8', 'wsgi_app:application'], { POOLPILOT_WSGI: 'placement', OS_PLACEMENT_CONFIG_DIR: path.join(dir, 'etc', 'placement'), PYTHONPATH: HELPERS });
  svc('glance', pyrun('glance.cmd.api:main', 'glance-api', ['--config-file', conf('glance/glance-api.conf')]));
  svc('neutron', pyrun('neutron.cmd.eventlet.server:main', 'neutron-server', ['--config-file', conf('neutron/neutron.conf'), '--config-file', conf('neutron/ml2_conf.ini'), '--log-file', logFile(dir, 'neutron-server')]), {
    PYTHONPATH: path.join(HELPERS, 'bindall'),
  });
  for (const n of ['api', 'conductor', 'scheduler', 'compute'] as const) {
    svc(`nova-${n}`, pyrun(`nova.cmd.${n}:main`, `nova-${n}`, ['--config-file', conf('nova/nova.conf'), '--log-file', logFile(dir, `nova-${n}-service`)]));
  }
  svc('octavia-api', pyrun('octavia.cmd.api:main', 'octavia-api', ['--config-file', conf('octavia/octavia.conf')]));
  svc('octavia-worker', pyrun('octavia.cmd.octavia_worker:main', 'octavia-worker', ['--config-file', conf('octavia/octavia.conf')]));
  if (o.ports.senlin) for (const n of SENLIN_SERVICES) svc(n, ...senlinCommand(dir, n));
  await Promise.all([
    waitHttp(`http://${o.host}:${o.ports.placement}/`, 'placement', () => s.pids.placement, dir),
    waitHttp(`http://${o.host}:${o.ports.glance}/`, 'glance', () => s.pids.glance, dir),
    waitHttp(`http://${o.host}:${o.ports.neutron}/`, 'neutron', () => s.pids.neutron, dir),
    waitHttp(`http://${o.host}:${o.ports.nova}/`, 'nova-api', () => s.pids['nova-api'], dir),
    waitHttp(`http://${o.host}:${o.ports.octavia}/`, 'octavia-api', () => s.pids['octavia-api'], dir),
    o.ports.senlin ? waitHttp(`http://${o.host}:${o.ports.senlin}/`, 'senlin-api', () => s.pids['senlin-api'], dir) : undefined,
  ]);
  o.log(`[${at()}] every API answers`);
  await python(dir, 'resources', [path.join(HELPERS, 'bootstrap.py'), 'resources'], {}, JSON.stringify(plan(s)));
  await python(dir, 'discover', [path.join(HELPERS, 'bootstrap.py'), 'discover'], {}, JSON.stringify(plan(s)));
  for (const n of servicesOf(o.ports)) if (!pidAlive(s.pids[n])) throw new Error(`OpenStack lab: ${n} exited; last lines of ${logFile(dir, n)}:\n  ${tail(logFile(dir, n))}`);
  s.ready = new Date().toISOString();
  save();
  o.log(`[${at()}] OpenStack ready: ${openstackAccess(s).authUrl}, project ${OPENSTACK_LAB_NAMES.project}, flavor ${OPENSTACK_LAB_NAMES.flavor}, image ${OPENSTACK_LAB_NAMES.image}, network ${OPENSTACK_LAB_NAMES.network}`);
  return s;
}

/** How a Senlin service is started: its entry point, config and log, and the environment pyrun.py reads. */
function senlinCommand(dir: string, n: (typeof SENLIN_SERVICES)[number]): [string[], NodeJS.ProcessEnv] {
  const mod = n.slice('senlin-'.length).replace('-', '_');
  return [pyrun(`senlin.cmd.${mod}:main`, n, ['--config-file', path.join(dir, 'etc', 'senlin', 'senlin.conf'), '--log-file', logFile(dir, `${n}-service`)]), { POOLPILOT_PY_PLAIN_PSYCOPG: '1', POOLPILOT_PY_NO_CHECKIN_YIELD: '1', POOLPILOT_PY_NULL_POOL: '1' }];
}

/**
 * Kills one Senlin service (SIGKILL, its whole process group: an engine lost with its host) and starts it again, as
 * an operator's service manager would; for the side-by-side benchmark. Resolves once the new process runs.
 */
export async function restartSenlinService(dataDir: string, n: (typeof SENLIN_SERVICES)[number], o: { killOnly?: boolean } = {}): Promise<number | undefined> {
  const dir = openstackDir(dataDir);
  const s = readOpenstackState(dataDir);
  if (!s?.ports.senlin) throw new Error('the lab runs no Senlin');
  const pid = s.pids[n];
  if (pid && pidAlive(pid)) await stopGroup(pid, 0, 'SIGKILL');
  if (o.killOnly) return undefined;
  s.pids[n] = startDaemon(dir, n, PYTHON, ...senlinCommand(dir, n));
  writeFileSync(statePath(dir), JSON.stringify(s, null, 2), { mode: 0o600 });
  return s.pids[n];
}

async function waitPort(host: string, port: number, what: string, pid: () => number | undefined, dir: string, timeoutMs = 120_000): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pidAlive(pid())) throw new Error(`OpenStack lab: ${what} exited during start-up:\n  ${tail(logFile(dir, what))}`);
    const open = await new Promise<boolean>((resolve) => {
      const c = net.createConnection({ host, port });
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => (c.destroy(), resolve(false)));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`OpenStack lab: ${what} did not open ${host}:${port} in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function stopGroup(pid: number, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  kill(signal);
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  kill('SIGKILL');
}

/** Stops the lab's OpenStack by pid (each service's whole process group), newest first; `purge` removes its folder. */
export async function openstackDown(dataDir: string, o: { purge?: boolean; log?: (m: string) => void } = {}): Promise<void> {
  const log = o.log ?? (() => undefined);
  const dir = openstackDir(dataDir);
  const s = readOpenstackState(dataDir);
  if (s) {
    const order = servicesOf(s.ports).reverse();
    // The API services and workers at once; then RabbitMQ and PostgreSQL, which the others use to the end.
    await Promise.all(order.filter((n) => n !== 'postgres' && n !== 'rabbitmq' && pidAlive(s.pids[n])).map(async (n) => {
      await stopGroup(s.pids[n]!, 20_000);
      log(`${n} stopped (pid ${s.pids[n]})`);
    }));
    if (pidAlive(s.pids.rabbitmq)) {
      await stopGroup(s.pids.rabbitmq!, 30_000);
      log(`rabbitmq stopped (pid ${s.pids.rabbitmq})`);
    }
    // epmd leaves the process group when it daemonizes.
    spawnSync('epmd', ['-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(s.ports.epmd) }, stdio: 'ignore' });
    if (pidAlive(s.pids.postgres)) {
      await stopGroup(s.pids.postgres!, 30_000, 'SIGINT');
      log(`postgres stopped (pid ${s.pids.postgres})`);
    }
    s.pids = {};
    delete s.ready;
    writeFileSync(statePath(dir), JSON.stringify(s, null, 2), { mode: 0o600 });
  }
  if (o.purge) rmSync(dir, { recursive: true, force: true });
}

export function openstackStatus(dataDir: string): { name: `openstack:${string}`; pid?: number; running: boolean }[] {
  const s = readOpenstackState(dataDir);
  return servicesOf(s?.ports ?? OPENSTACK_DEV_PORTS).map((name) => ({ name: `openstack:${name}` as const, pid: s?.pids[name], running: pidAlive(s?.pids[name]) }));
}
