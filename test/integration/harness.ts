// The integration tests' harness: one test lab on its own ports, an in-process worker per file, and
// independent eyes on the world (socat on HAProxy's socket, govc on vSphere).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { endpoints, readLabState, type LabConfigInput, type LabEndpoints } from '../../src/lab/state';
import { PROJECT_ROOT } from '../../src/config/settings';
import type { ClusterSpec } from '../../src/config/spec';
import { findTool } from '../../src/lab/tools';
import type { Client } from '@temporalio/client';
import { ClusterRequestError, deleteCluster } from '../../src/client/clusters';
import { workflowIds } from '../../src/config/names';
import { labSpec, rawLabSpec, rawOpenstackLabSpec, startSessionWorker, type SessionWorker } from '../../src/lab/session';
import { openstackAccess, openstackAdminAccess, pgBin, readOpenstackState, type OpenstackAccess, type OpenstackLabState } from '../../src/lab/openstack';

/** POOLPILOT_TEST_PROFILE=production (npm run test:production): the same harness on a production-profile lab. */
export const PRODUCTION = process.env.POOLPILOT_TEST_PROFILE === 'production';

export const TEST_LAB: LabConfigInput = PRODUCTION
  ? {
      dataDir: path.join(PROJECT_ROOT, '.data', 'test-lab-production'),
      profile: 'production',
      ports: { temporal: 47233, temporalUi: 48233, vcsim: 48989, vip: 48080, haproxyStats: 48404, prometheus: 49090, metrics: 48710, api: 48700, postgres: 45432, temporalMembership: 16933 },
      backend: 'web',
      guestSubnet: '127.0.13',
      // Guests boot for 4 s: a worker can be killed while they do.
      guest: { bootDelayMs: 4000, serviceTimeMs: 40, concurrency: 4 },
      scrapeIntervalMs: 1000,
    }
  : {
      dataDir: path.join(PROJECT_ROOT, '.data', 'test-lab'),
      ports: { temporal: 17233, temporalUi: 18233, vcsim: 28989, vip: 28080, haproxyStats: 28404, prometheus: 29090, metrics: 28710, api: 28700, postgres: 25432 },
      backend: 'web',
      guestSubnet: '127.0.11',
      guest: { bootDelayMs: 800, serviceTimeMs: 40, concurrency: 4, neverIpPattern: '^noip-' },
      scrapeIntervalMs: 1000,
      // The OpenStack tests' cloud, started once per run beside the rest (about two minutes).
      openstack: { postgres: 25433, rabbit: 25672, epmd: 24369, keystone: 25000, placement: 28778, glance: 29292, neutron: 29696, nova: 28774, octavia: 29876, senlin: 28777 },
    };
export const BUNDLE_PATH = path.join(TEST_LAB.dataDir!, 'workflow-bundle.js');

export function lab(): LabEndpoints {
  const state = readLabState(TEST_LAB.dataDir!);
  if (!state) throw new Error('the test lab is not up (jest globalSetup starts it)');
  return endpoints(state);
}

/** A spec as written for the test lab, with `over` merged in. */
export const rawSpecFor = (name: string, over: Record<string, unknown> = {}) => rawLabSpec(lab(), name, over);
export const specFor = (name: string, over: Record<string, unknown> = {}): ClusterSpec => labSpec(lab(), name, over);
export type TestWorker = SessionWorker;
/** A spec for the test lab's OpenStack: Nova servers behind its Octavia pool web-pool. */
export const rawOpenstackSpecFor = (name: string, over: Record<string, unknown> = {}) => rawOpenstackLabSpec(lab(), name, over);

/** An in-process worker on its own task queue; POOLPILOT_TASK_QUEUE points the client helpers at it. */
export async function startWorker(taskQueue: string): Promise<TestWorker> {
  process.env.POOLPILOT_LAB_DIR = TEST_LAB.dataDir;
  const w = await startSessionWorker(lab(), taskQueue, BUNDLE_PATH);
  return {
    ...w,
    // An autoscaler left running when its file's worker stops has no worker ever again: it would stay in every later
    // listing. Named (so the file that left it can be found) and ended, before the worker goes.
    async stop() {
      const left: string[] = [];
      for await (const wf of w.client.workflow.list({ query: `WorkflowType = 'autoscaler' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'` })) left.push(wf.workflowId);
      for (const id of left) {
        console.warn(`[harness] ${id} still running as task queue ${taskQueue}'s worker stops: terminated`);
        await w.client.workflow.getHandle(id).terminate('test file over: its worker stops');
      }
      await w.stop();
    },
  };
}

/**
 * Ends a test's cluster as an operator would: deleted with scale-to-zero, waited for until its autoscaler has drained
 * and destroyed every member and ended (bounded), so no member stays in the shared backend for later files.
 */
export async function endCluster(client: Client, cluster: string, timeoutMs = 180_000): Promise<void> {
  const deleted = await deleteCluster(client, cluster, { scaleToZero: true }).catch((err: unknown) => {
    if (err instanceof ClusterRequestError && err.status === 404) return undefined;
    throw err;
  });
  if (deleted) await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(workflowIds.autoscaler(cluster)).result());
}

/** A worker in a process of its own on `taskQueue` (to be killed by a test); logs to the test lab's logs/<log>.log. */
export function spawnWorkerProcess(taskQueue: string, log: string, spawned: Set<ChildProcess>, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const e = lab();
  const logFd = openSync(path.join(e.credentialsFile, '..', 'logs', `${log}.log`), 'a');
  const p = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'worker', 'main.js')], {
    env: { ...process.env, TEMPORAL_ADDRESS: e.temporalAddress, POOLPILOT_TASK_QUEUE: taskQueue, POOLPILOT_CREDENTIALS_FILE: e.credentialsFile, POOLPILOT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', logFd, logFd],
  });
  spawned.add(p);
  return p;
}

/** Asks HAProxy through its socket with socat, not through poolpilot's own client. */
export function haproxy(command: string): string {
  // Bounded like every look at the lab: a stuck socket fails the test with its command instead of hanging it.
  return execFileSync(findTool('socat')!, ['stdio', `unix-connect:${lab().haproxySocket}`], { input: `${command}\n`, encoding: 'utf8', timeout: 60_000 });
}

/** Server names HAProxy has in the backend, per `show servers state`. */
export function backendServers(prefix: string): string[] {
  const out = haproxy(`show servers state ${lab().haproxyBackend}`);
  return out
    .split('\n')
    .filter((l) => /^\d+ /.test(l))
    .map((l) => l.split(' ')[3] ?? '')
    .filter((n) => n.startsWith(prefix))
    .sort();
}

/** Server name → HAProxy status column of `show stat`. */
export function backendStatus(): Record<string, string> {
  const rows = haproxy(`show stat ${lab().haproxyBackend} 4 -1`).trim().split('\n');
  const head = rows.shift()!.slice(2).split(',');
  const iName = head.indexOf('svname');
  const iStatus = head.indexOf('status');
  return Object.fromEntries(rows.map((r) => r.split(',')).map((c) => [c[iName]!, c[iStatus]!]));
}

/** Runs govc against the lab's vcsim (the vSphere API, not poolpilot) and returns its standard output. */
export function govc(...args: string[]): string {
  const e = lab();
  return execFileSync(findTool('govc')!, args, {
    encoding: 'utf8',
    // Above the longest freeze a test gives vcsim (SIGSTOP), below a test's own timeout: a hung call names itself.
    timeout: 120_000,
    env: { ...process.env, GOVC_URL: e.vsphereUrl, GOVC_USERNAME: e.vsphereUsername, GOVC_PASSWORD: e.vspherePassword, GOVC_INSECURE: '1' },
  });
}

/** VM names in the pool folder, per govc. */
export function vsphereVms(prefix: string): string[] {
  return govc('ls', lab().folder)
    .split('\n')
    .map((l) => path.basename(l.trim()))
    .filter((n) => n.startsWith(prefix))
    .sort();
}

export function govcPowerState(name: string): string {
  return govc('object.collect', '-s', `${lab().folder}/${name}`, 'runtime.powerState').trim();
}

/** A VM's custom attributes by name, per govc (fields.info). */
export function govcFields(name: string): Record<string, string> {
  const out = govc('fields.info', `${lab().folder}/${name}`);
  return Object.fromEntries(
    out
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/))
      .filter((c) => c.length === 3)
      .map((c) => [c[1]!, c[2]!]),
  );
}

export { eventually } from '../eventually';

/** The test lab's OpenStack: its state (pids, ports, secrets) and the operator's and admin's access. */
export function openstackLab(): { state: OpenstackLabState; user: OpenstackAccess; admin: OpenstackAccess } {
  const state = readOpenstackState(TEST_LAB.dataDir!);
  if (!state?.ready) throw new Error('the test lab has no OpenStack (jest globalSetup starts it)');
  return { state, user: openstackAccess(state), admin: openstackAdminAccess(state) };
}

/** Asks the lab's OpenStack as its admin with openstacksdk (test/openstack/look.py), not through poolpilot. */
export function openstackLook<T>(args: string[]): T {
  // Bounded: this blocks the test process, whose in-process worker may hold a connection to Octavia's API half-opened
  // (connected, its request not yet written); that API serves one connection at a time (wsgiref), so the look would
  // wait for it forever, and the worker for the look. Killed at 20 s, the look fails, the probe is asked again.
  const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'test', 'openstack', 'look.py'), ...args], { input: JSON.stringify(openstackLab().admin), encoding: 'utf8', timeout: 20_000 });
  return (args[0] === 'servers' || args[0] === 'members' ? JSON.parse(out) : out.trim()) as T;
}

export interface NovaServer {
  name: string;
  id: string;
  status: string;
  project: string;
  metadata: Record<string, string>;
  addresses: Record<string, string[]>;
}
export interface OctaviaPoolMember {
  name: string;
  address: string;
  port: number;
  weight: number;
  provisioning_status: string;
  operating_status: string;
}
export const novaServers = (prefix: string) => openstackLook<NovaServer[]>(['servers', prefix]);
export const octaviaMembers = (pool: string) => openstackLook<OctaviaPoolMember[]>(['members', pool]);

/**
 * Writes a member's operating_status into Octavia's database, as its health manager does from amphora heartbeats
 * (noop amphorae send none): the API then serves it like any other state.
 */
export function octaviaHealthReport(member: string, status: 'ONLINE' | 'ERROR' | 'OFFLINE'): void {
  const { state } = openstackLab();
  execFileSync(pgBin('psql'), ['-h', state.host, '-p', String(state.ports.postgres), '-U', 'postgres', '-d', 'octavia', '-qc', `UPDATE member SET operating_status = '${status}' WHERE name = '${member.replace(/'/g, "''")}'`]);
}
