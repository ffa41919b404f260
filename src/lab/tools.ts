// Installs the lab's tools, idempotently: Go tools built into .tools/bin, Debian packages through apt-get.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { PROJECT_ROOT } from '../config/settings';

export { PROJECT_ROOT };
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');

interface GoTool {
  name: 'temporal' | 'vcsim' | 'govc';
  env: string;
  module: string;
  note: string;
}

// Later tags of both carry `replace` directives that `go install pkg@version` refuses.
const GO_TOOLS: GoTool[] = [
  { name: 'temporal', env: 'POOLPILOT_TEMPORAL_BIN', module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1', note: 'the Temporal CLI (dev server + Web UI); this compiles several hundred modules and takes several minutes on two cores' },
  { name: 'vcsim', env: 'POOLPILOT_VCSIM_BIN', module: 'github.com/vmware/govmomi/vcsim@v0.46.3', note: "govmomi's vCenter simulator; about a minute" },
  { name: 'govc', env: 'POOLPILOT_GOVC_BIN', module: 'github.com/vmware/govmomi/govc@v0.46.3', note: 'the vSphere CLI; about a minute' },
];

const APT_TOOLS = [
  { name: 'haproxy', pkg: 'haproxy' },
  { name: 'prometheus', pkg: 'prometheus' },
  { name: 'socat', pkg: 'socat' },
  { name: 'locust', pkg: 'python3-locust' },
  { name: 'wrk', pkg: 'wrk' },
] as const;

export type ToolName = GoTool['name'] | (typeof APT_TOOLS)[number]['name'];
export type Tools = Record<ToolName, string>;

function onPath(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found ? found : undefined;
}

export function findTool(name: ToolName): string | undefined {
  const go = GO_TOOLS.find((t) => t.name === name);
  if (go) {
    const fromEnv = process.env[go.env];
    if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
    const local = path.join(TOOLS_BIN, name);
    if (existsSync(local)) return local;
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

/** Finds or installs every lab tool; prints what it does. */
export function ensureTools(log: (msg: string) => void = (m) => console.log(`[tools] ${m}`)): Tools {
  const found: Partial<Tools> = {};
  const missingApt = APT_TOOLS.filter((t) => !findTool(t.name));
  if (missingApt.length) aptInstall(missingApt.map((t) => t.pkg), log);
  for (const t of APT_TOOLS) {
    const p = findTool(t.name);
    if (!p) throw new Error(`${t.name} is still missing after installing ${t.pkg}`);
    found[t.name] = p;
  }
  for (const t of GO_TOOLS) {
    let p = findTool(t.name);
    if (!p) {
      if (process.env[t.env]) throw new Error(`${t.env} names ${process.env[t.env]}, which does not exist`);
      mkdirSync(TOOLS_BIN, { recursive: true });
      log(`building ${t.name} (${t.note}): go install ${t.module}`);
      const started = Date.now();
      const r = spawnSync('go', ['install', t.module], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: TOOLS_BIN } });
      if (r.error) throw new Error(`cannot run go to build ${t.name}: ${r.error.message} (is Go installed and on PATH?)`);
      if (r.status !== 0) throw new Error(`go install ${t.module} failed (exit ${r.status}); see the messages above`);
      log(`built ${t.name} in ${Math.round((Date.now() - started) / 1000)} s`);
      p = findTool(t.name);
      if (!p) throw new Error(`go install ${t.module} succeeded but ${t.name} is not in ${TOOLS_BIN}`);
    }
    found[t.name] = p;
  }
  return found as Tools;
}
