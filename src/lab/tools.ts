// Installs the lab's tools, idempotently: Go tools built into .tools/bin, Debian packages through apt-get.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { PROJECT_ROOT } from '../config/settings';

export { PROJECT_ROOT };
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');
/** Versions shared with docker-compose.yml (a test checks they agree). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_UI_VERSION = 'v2.42.1';

interface GoTool {
  name: 'temporal' | 'vcsim' | 'govc' | 'temporal-server' | 'temporal-sql-tool' | 'temporal-ui-server';
  env: string;
  module: string;
  note: string;
  /** Built into .tools/<dir>/<bin> (the server and the UI server are both called "server"), else .tools/bin/<name>. */
  dir?: string;
  bin?: string;
  /** Only the production profile needs it. */
  production?: boolean;
}

// Later tags of both carry `replace` directives that `go install pkg@version` refuses.
const GO_TOOLS: GoTool[] = [
  { name: 'temporal', env: 'POOLPILOT_TEMPORAL_BIN', module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1', note: 'the Temporal CLI (dev server + Web UI); this compiles several hundred modules and takes several minutes on two cores' },
  { name: 'vcsim', env: 'POOLPILOT_VCSIM_BIN', module: 'github.com/vmware/govmomi/vcsim@v0.46.3', note: "govmomi's vCenter simulator; about a minute" },
  { name: 'govc', env: 'POOLPILOT_GOVC_BIN', module: 'github.com/vmware/govmomi/govc@v0.46.3', note: 'the vSphere CLI; about a minute' },
  // The production profile (and docker-compose.yml: the same versions).
  { name: 'temporal-server', env: 'POOLPILOT_TEMPORAL_SERVER_BIN', module: `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, note: 'the Temporal server; a few minutes', dir: 'temporal-server', bin: 'server', production: true },
  { name: 'temporal-sql-tool', env: 'POOLPILOT_TEMPORAL_SQL_TOOL_BIN', module: `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`, note: "the Temporal server's schema tool; under a minute", dir: 'temporal-sql', bin: 'sql', production: true },
  { name: 'temporal-ui-server', env: 'POOLPILOT_TEMPORAL_UI_BIN', module: `github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_VERSION}`, note: 'the Temporal Web UI server; under a minute', dir: 'temporal-ui', bin: 'server', production: true },
];

/** The module the server and its schemas come from: its schema/postgresql/v12 is applied by the sql tool. */
export const TEMPORAL_SERVER_MODULE = `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`;

const APT_TOOLS: { name: string; pkg: string; production?: boolean; paths?: string[] }[] = [
  { name: 'haproxy', pkg: 'haproxy' },
  { name: 'prometheus', pkg: 'prometheus' },
  // Backfills the lab's Prometheus with history (src/lab/backfill.ts); the same package.
  { name: 'promtool', pkg: 'prometheus' },
  { name: 'socat', pkg: 'socat' },
  { name: 'locust', pkg: 'python3-locust' },
  { name: 'wrk', pkg: 'wrk' },
  // Debian's server binaries are off PATH, under /usr/lib/postgresql/<major>/bin.
  { name: 'initdb', pkg: 'postgresql', production: true, paths: ['/usr/lib/postgresql/*/bin'] },
  { name: 'postgres', pkg: 'postgresql', production: true, paths: ['/usr/lib/postgresql/*/bin'] },
];

export type ToolName = GoTool['name'] | 'haproxy' | 'prometheus' | 'promtool' | 'socat' | 'locust' | 'wrk' | 'initdb' | 'postgres';
export type Tools = Record<ToolName, string>;

function onPath(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found ? found : undefined;
}

const goBinDir = (t: GoTool) => (t.dir ? path.join(PROJECT_ROOT, '.tools', t.dir) : TOOLS_BIN);

export function findTool(name: ToolName): string | undefined {
  const go = GO_TOOLS.find((t) => t.name === name);
  if (go) {
    const fromEnv = process.env[go.env];
    if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
    const local = path.join(goBinDir(go), go.bin ?? name);
    if (existsSync(local)) return local;
    if (go.dir) return undefined;
  }
  const apt = APT_TOOLS.find((t) => t.name === name);
  for (const pattern of apt?.paths ?? []) {
    const r = spawnSync('sh', ['-c', `ls -d ${pattern}/${name} 2>/dev/null | sort -V | tail -1`], { encoding: 'utf8' });
    if (r.stdout.trim()) return r.stdout.trim();
  }
  return onPath(name);
}

let aptUpdated = false;

function aptInstall(pkgs: string[], log: (msg: string) => void): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${pkgs.join(', ')}: install them with "sudo apt-get install -y ${pkgs.join(' ')}" and run again`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    aptUpdated = true;
  }
  log(`apt-get install ${pkgs.join(' ')}`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** Finds or installs every lab tool (with `production`, the production profile's too); prints what it does. */
export function ensureTools(log: (msg: string) => void = (m) => console.log(`[tools] ${m}`), o: { production?: boolean } = {}): Tools {
  const found: Partial<Tools> = {};
  const apts = APT_TOOLS.filter((t) => o.production || !t.production);
  const missingApt = apts.filter((t) => !findTool(t.name as ToolName));
  if (missingApt.length) aptInstall([...new Set(missingApt.map((t) => t.pkg))], log);
  for (const t of apts) {
    const p = findTool(t.name as ToolName);
    if (!p) throw new Error(`${t.name} is still missing after installing ${t.pkg}`);
    found[t.name as ToolName] = p;
  }
  for (const t of GO_TOOLS.filter((g) => o.production || !g.production)) {
    let p = findTool(t.name);
    if (!p) {
      if (process.env[t.env]) throw new Error(`${t.env} names ${process.env[t.env]}, which does not exist`);
      mkdirSync(goBinDir(t), { recursive: true });
      log(`building ${t.name} (${t.note}): go install ${t.module}`);
      const started = Date.now();
      const r = spawnSync('go', ['install', t.module], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: goBinDir(t) } });
      if (r.error) throw new Error(`cannot run go to build ${t.name}: ${r.error.message} (is Go installed and on PATH?)`);
      if (r.status !== 0) throw new Error(`go install ${t.module} failed (exit ${r.status}); see the messages above`);
      log(`built ${t.name} in ${Math.round((Date.now() - started) / 1000)} s`);
      p = findTool(t.name);
      if (!p) throw new Error(`go install ${t.module} succeeded but ${t.name} is not in ${goBinDir(t)}`);
    }
    found[t.name] = p;
  }
  return found as Tools;
}

/** The folder of a Go module in the module cache (downloaded if missing): the server's schema files live there. */
export function goModuleDir(module: string): string {
  const r = spawnSync('go', ['mod', 'download', '-json', module], { encoding: 'utf8', cwd: PROJECT_ROOT });
  if (r.status !== 0) throw new Error(`go mod download ${module} failed: ${r.stderr || r.stdout}`);
  const dir = (JSON.parse(r.stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${module} gave no folder`);
  return dir;
}

/**
 * The lab's OpenStack (Zed, from Debian): the services' Python packages only. The server packages (nova-api,
 * keystone…) would ask debconf questions and start system services; the lab runs each service itself.
 */
export const OPENSTACK_PACKAGES = [
  'python3-keystone', 'python3-placement', 'python3-glance', 'python3-neutron', 'python3-nova', 'python3-octavia',
  'python3-openstackclient', 'python3-octaviaclient', 'python3-senlin', 'python3-senlinclient', 'python3-gunicorn', 'rabbitmq-server', 'postgresql', 'openssl',
];
/** The API paste files live in the *-common packages, which pull dbconfig-common: only their .ini files are taken. */
export const OPENSTACK_PASTE_DIR = path.join(PROJECT_ROOT, '.tools', 'openstack');
const PASTE_FILES: { pkg: string; file: string; as: string }[] = [
  { pkg: 'nova-common', file: 'usr/share/nova-common/api-paste.ini', as: 'nova-api-paste.ini' },
  { pkg: 'neutron-common', file: 'usr/share/neutron-common/api-paste.ini', as: 'neutron-api-paste.ini' },
  { pkg: 'glance-common', file: 'usr/share/glance-common/glance-api-paste.ini', as: 'glance-api-paste.ini' },
  { pkg: 'senlin-common', file: 'usr/share/senlin-common/api-paste.ini', as: 'senlin-api-paste.ini' },
];

function debInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs the OpenStack lab's packages (idempotent; no service is started by them) and takes the paste files. */
export function ensureOpenstack(log: (msg: string) => void = (m) => console.log(`[tools] ${m}`)): void {
  const missing = OPENSTACK_PACKAGES.filter((p) => !debInstalled(p));
  if (missing.length) {
    // Debian's postinst scripts start services through invoke-rc.d; policy-rc.d answering 101 forbids it.
    if (process.getuid?.() === 0 && !existsSync('/usr/sbin/policy-rc.d')) {
      writeFileSync('/usr/sbin/policy-rc.d', '#!/bin/sh\n# poolpilot tools install --openstack: packages must not start services\nexit 101\n', { mode: 0o755 });
    }
    const started = Date.now();
    log(`installing OpenStack (${missing.length} packages and their dependencies; about 5 minutes on two cores)`);
    aptInstall(missing, log);
    log(`OpenStack packages installed in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  if (PASTE_FILES.every((f) => existsSync(path.join(OPENSTACK_PASTE_DIR, f.as)))) return;
  const debs = path.join(OPENSTACK_PASTE_DIR, 'debs');
  mkdirSync(debs, { recursive: true });
  log(`apt-get download ${PASTE_FILES.map((f) => f.pkg).join(' ')} (for their paste .ini files only)`);
  execFileSync('apt-get', ['download', ...PASTE_FILES.map((f) => f.pkg)], { cwd: debs, stdio: ['ignore', 'ignore', 'ignore'] });
  for (const f of PASTE_FILES) {
    const deb = readdirSync(debs).find((d) => d.startsWith(`${f.pkg}_`) && d.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${f.pkg} left no .deb in ${debs}`);
    const root = path.join(debs, f.pkg);
    execFileSync('dpkg-deb', ['-x', path.join(debs, deb), root]);
    copyFileSync(path.join(root, f.file), path.join(OPENSTACK_PASTE_DIR, f.as));
  }
  rmSync(debs, { recursive: true, force: true });
}
