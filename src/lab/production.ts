// The lab's production profile: PostgreSQL (Debian's, on loopback, its own data folder), the Temporal server built
// from go.temporal.io/server with its PostgreSQL schemas applied by the same module's sql tool, SQL visibility with
// poolpilot's search attributes, and the Temporal Web UI server. docker-compose.yml runs the same versions and settings.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../config/search-attributes';
import type { LabConfig, LabState } from './state';
import { goModuleDir, PROJECT_ROOT, TEMPORAL_SERVER_MODULE, type Tools } from './tools';

/**
 * The services' ports, from the frontend's: history +1, matching +2, worker +6, HTTP +10, metrics +767; membership
 * from ports.temporalMembership at the same offsets.
 */
export function temporalPorts(c: LabConfig) {
  const f = c.ports.temporal;
  const m = c.ports.temporalMembership;
  return { frontend: f, history: f + 1, matching: f + 2, worker: f + 6, http: f + 10, metrics: f + 767, membership: (p: number) => m + (p - f) };
}

export const DATABASES = { main: 'temporal', visibility: 'temporal_visibility' } as const;

/** The Temporal server's config: as the module's config/development-postgres12.yaml, on this lab's ports. */
export function temporalServerConfig(c: LabConfig, db: { user: string; password: string }, dynamicConfigFile: string): string {
  const p = temporalPorts(c);
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${c.host}:${c.ports.postgres}"
        connectProtocol: tcp
        user: ${db.user}
        password: "${db.password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const svc = (name: string, grpc: number, http?: number) => `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${p.membership(grpc)}
      bindOnIP: ${c.host}${http ? `\n      httpPort: ${http}` : ''}`;
  return `# Written by poolpilot lab up --profile production.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store(DATABASES.main, 20)}
    postgres-visibility:
${store(DATABASES.visibility, 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${c.host}
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "${c.host}:${p.metrics}"
services:
${svc('frontend', p.frontend, p.http)}
${svc('matching', p.matching)}
${svc('history', p.history)}
${svc('worker', p.worker)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "${c.host}:${p.frontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${dynamicConfigFile}
  pollInterval: 10s
`;
}

/** The dynamic config file shared with docker-compose.yml. */
export const DYNAMIC_CONFIG_FILE = path.join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');

export function uiServerConfig(c: LabConfig): string {
  return `# Written by poolpilot lab up --profile production.
temporalGrpcAddress: ${c.host}:${c.ports.temporal}
host: ${c.host}
port: ${c.ports.temporalUi}
enableUi: true
defaultNamespace: default
cors:
  allowOrigins:
    - http://${c.host}:${c.ports.temporalUi}
`;
}

/** Runs `cmd` as the postgres user when we are root (PostgreSQL refuses to run as root). */
export function asPostgres(tools: Tools, cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]];
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('running as root, the production profile starts PostgreSQL as the "postgres" user, which Debian\'s postgresql package makes; it is missing');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export const pgDataDir = (c: LabConfig) => path.join(c.dataDir, 'postgres');
/** The database user's credentials live as long as its data folder (lab down keeps both; --purge removes both). */
const databaseCredentialsPath = (c: LabConfig) => path.join(c.dataDir, 'postgres-credentials.json');

export function readDatabaseCredentials(c: LabConfig): { user: string; password: string } | undefined {
  if (!existsSync(path.join(pgDataDir(c), 'PG_VERSION'))) return undefined;
  try {
    return JSON.parse(readFileSync(databaseCredentialsPath(c), 'utf8')) as { user: string; password: string };
  } catch {
    return undefined;
  }
}

/** initdb into the lab's own folder, once: the temporal user with a password, scram-sha-256 on loopback. */
export function initPostgres(c: LabConfig, state: LabState, tools: Tools, log: (m: string) => void): void {
  const dir = pgDataDir(c);
  if (existsSync(path.join(dir, 'PG_VERSION')) && readDatabaseCredentials(c)) return;
  const ids = postgresIds();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(c.dataDir, '.pg-initial-password');
  writeFileSync(pwfile, `${state.database!.password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(dir, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  log(`initdb ${dir}`);
  const [cmd, args] = asPostgres(tools, tools.initdb, ['-D', dir, '-U', state.database!.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-instructions']);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  rmSync(pwfile, { force: true });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
  writeFileSync(databaseCredentialsPath(c), JSON.stringify(state.database), { mode: 0o600 });
  rmSync(path.join(c.dataDir, 'temporal-schema.done'), { force: true });
}

/**
 * As the dev profile's SQLite (WAL, synchronous=normal): commits are not waited for on disk, so a crash of the
 * machine (not of PostgreSQL) may lose the last moments of writes; the database stays consistent. Operators choose
 * their own durability; on this 2-core lab the server's CPU per poll is what limits density.
 */
export const POSTGRES_TUNING = ['-c', 'synchronous_commit=off', '-c', 'shared_buffers=256MB'];

export function postgresCommand(c: LabConfig, tools: Tools): [string, string[]] {
  const dir = pgDataDir(c);
  return asPostgres(tools, tools.postgres, ['-D', dir, '-p', String(c.ports.postgres), '-c', `listen_addresses=${c.host}`, '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=200', ...POSTGRES_TUNING]);
}

/** Creates both databases and applies the module's schema/postgresql/v12 (setup, then every versioned update). */
export function applySchemas(c: LabConfig, state: LabState, tools: Tools, log: (m: string) => void): void {
  const marker = path.join(c.dataDir, 'temporal-schema.done');
  if (existsSync(marker)) return;
  const schemaRoot = path.join(goModuleDir(TEMPORAL_SERVER_MODULE), 'schema', 'postgresql', 'v12');
  const db = state.database!;
  for (const [database, folder] of [[DATABASES.main, 'temporal'], [DATABASES.visibility, 'visibility']] as const) {
    const base = ['--plugin', 'postgres12', '--ep', c.host, '-p', String(c.ports.postgres), '-u', db.user, '--db', database];
    const env = { ...process.env, SQL_PASSWORD: db.password };
    for (const args of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', path.join(schemaRoot, folder, 'versioned')]]) {
      log(`temporal-sql-tool ${database}: ${args[0]}`);
      const r = spawnSync(tools['temporal-sql-tool'], [...base, ...args], { encoding: 'utf8', env });
      const out = `${r.stdout}${r.stderr}`;
      if (r.status !== 0 && !(args[0] === 'create-database' && /already exists/.test(out))) throw new Error(`temporal-sql-tool ${args.join(' ')} on ${database} failed: ${out.trim().split('\n').slice(-3).join(' | ')}`);
    }
  }
  writeFileSync(marker, new Date().toISOString());
}

/** The default namespace and poolpilot's search attributes, registered with the Temporal CLI (idempotent). */
export function registerNamespace(c: LabConfig, tools: Tools, log: (m: string) => void, alive: () => boolean): void {
  const address = `${c.host}:${c.ports.temporal}`;
  const cli = (args: string[]) => spawnSync(tools.temporal, [...args, '--address', address], { encoding: 'utf8' });
  // The frontend's port opens before every service has joined: wait for the cluster to answer as healthy.
  for (let i = 0; ; i++) {
    if (!alive()) throw new Error(`the Temporal server exited during start-up; see ${path.join(c.dataDir, 'logs', 'temporal.log')}`);
    if (cli(['operator', 'cluster', 'health']).status === 0) break;
    if (i >= 120) throw new Error(`the Temporal server at ${address} is not healthy after 60 s; see ${path.join(c.dataDir, 'logs', 'temporal.log')}`);
    spawnSync('sleep', ['0.5']);
  }
  const ns = cli(['operator', 'namespace', 'describe', '--namespace', 'default']);
  if (ns.status !== 0) {
    log('registering namespace default');
    const r = cli(['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '72h']);
    if (r.status !== 0 && !/already|exists/i.test(r.stderr)) throw new Error(`temporal operator namespace create failed: ${r.stderr.trim()}`);
  }
  for (const name of [SEARCH_ATTRIBUTES.cluster, SEARCH_ATTRIBUTES.operation]) {
    // A namespace just made takes a moment to be known to every service: retried for up to 30 s.
    for (let i = 0; ; i++) {
      const r = cli(['operator', 'search-attribute', 'create', '--namespace', 'default', '--name', name, '--type', 'Keyword']);
      if (r.status === 0 || /already|exists/i.test(r.stderr)) break;
      if (i >= 30) throw new Error(`temporal operator search-attribute create ${name} failed: ${r.stderr.trim()}`);
      spawnSync('sleep', ['1']);
    }
  }
}
