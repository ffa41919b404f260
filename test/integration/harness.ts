// The integration tests' harness: one test lab on its own ports, an in-process worker per file, and
// independent eyes on the world (socat on HAProxy's socket, govc on vSphere).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { endpoints, readLabState, type LabConfigInput, type LabEndpoints } from '../../src/config/lab-state';
import { PROJECT_ROOT } from '../../src/config/settings';
import { parseClusterSpec, type ClusterSpec } from '../../src/config/spec';
import { findTool } from '../../src/lab/tools';
import { createWorker, installRuntime } from '../../src/worker/worker';

export const TEST_LAB: LabConfigInput = {
  dataDir: path.join(PROJECT_ROOT, '.data', 'test-lab'),
  ports: { temporal: 17233, temporalUi: 18233, vcsim: 28989, vip: 28080, haproxyStats: 28404, prometheus: 29090 },
  backend: 'web',
  guestSubnet: '127.0.11',
  guest: { bootDelayMs: 800, serviceTimeMs: 40, concurrency: 4, neverIpPattern: '^noip-' },
  scrapeIntervalMs: 1000,
};
export const BUNDLE_PATH = path.join(TEST_LAB.dataDir!, 'workflow-bundle.js');

export function lab(): LabEndpoints {
  const state = readLabState(TEST_LAB.dataDir!);
  if (!state) throw new Error('the test lab is not up (jest globalSetup starts it)');
  return endpoints(state);
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => !!v && typeof v === 'object' && !Array.isArray(v);

/** `over` merged into `base`, objects field by field, anything else replaced. */
export function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k] as Plain, v) : v;
  return out;
}

/** A spec as written for the test lab, with `over` merged in. */
export function rawSpecFor(name: string, over: Plain = {}): Plain {
  const e = lab();
  return merge({
    name,
    vsphere: {
      url: e.vsphereUrl,
      credentialRef: e.vsphereCredentialRef,
      insecure: true,
      datacenter: 'DC0',
      template: e.template,
      folder: e.folder,
      resourcePool: '/DC0/host/DC0_C0/Resources',
      network: 'VM Network',
      guestTimeout: '20s',
    },
    loadBalancer: { socket: e.haproxySocket, backend: e.haproxyBackend, memberPort: 8080, healthCheck: { interval: '300ms', rise: 1, fall: 2, timeout: '20s' } },
    prometheus: { url: e.prometheusUrl },
    min: 0,
    max: 6,
    drainGracePeriod: '5s',
  }, over);
}

export function specFor(name: string, over: Plain = {}): ClusterSpec {
  return parseClusterSpec(rawSpecFor(name, over));
}

export interface TestWorker {
  client: Client;
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/** An in-process worker on its own task queue; POOLPILOT_TASK_QUEUE points the client helpers at it. */
export async function startWorker(taskQueue: string): Promise<TestWorker> {
  const e = lab();
  process.env.POOLPILOT_TASK_QUEUE = taskQueue;
  process.env.TEMPORAL_ADDRESS = e.temporalAddress;
  process.env.POOLPILOT_LAB_DIR = TEST_LAB.dataDir;
  try {
    installRuntime(pino({ level: 'warn' }));
  } catch {
    // Installed by an earlier test file in this process.
  }
  const connection = await NativeConnection.connect({ address: e.temporalAddress });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    logger: pino({ level: 'warn' }),
    credentialsFile: e.credentialsFile,
    workflowBundle: { codePath: BUNDLE_PATH },
  });
  const running = worker.run();
  const clientConn = await Connection.connect({ address: e.temporalAddress });
  const client = new Client({ connection: clientConn, namespace: 'default' });
  return {
    client,
    taskQueue,
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await clientConn.close();
    },
  };
}

/** Asks HAProxy through its socket with socat, not through poolpilot's own client. */
export function haproxy(command: string): string {
  return execFileSync(findTool('socat')!, ['stdio', `unix-connect:${lab().haproxySocket}`], { input: `${command}\n`, encoding: 'utf8' });
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

/** VM names in the pool folder, per govc (the vSphere API, not poolpilot). */
export function vsphereVms(prefix: string): string[] {
  const e = lab();
  const out = execFileSync(findTool('govc')!, ['ls', e.folder], {
    encoding: 'utf8',
    env: { ...process.env, GOVC_URL: e.vsphereUrl, GOVC_USERNAME: e.vsphereUsername, GOVC_PASSWORD: e.vspherePassword, GOVC_INSECURE: '1' },
  });
  return out
    .split('\n')
    .map((l) => path.basename(l.trim()))
    .filter((n) => n.startsWith(prefix))
    .sort();
}

export function govcPowerState(name: string): string {
  const e = lab();
  return execFileSync(findTool('govc')!, ['object.collect', '-s', `${e.folder}/${name}`, 'runtime.powerState'], {
    encoding: 'utf8',
    env: { ...process.env, GOVC_URL: e.vsphereUrl, GOVC_USERNAME: e.vsphereUsername, GOVC_PASSWORD: e.vspherePassword, GOVC_INSECURE: '1' },
  }).trim();
}

export async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
