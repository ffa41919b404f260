// A working session on a lab, for tests and benchmarks: specs for its endpoints and an in-process worker.
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import type { LabEndpoints } from './state';
import { OPENSTACK_LAB_NAMES } from './openstack';
import { parseClusterSpec, type ClusterSpec } from '../config/spec';
import { createWorker, installRuntime } from '../worker/worker';

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => !!v && typeof v === 'object' && !Array.isArray(v);

/** `over` merged into `base`, objects field by field, anything else replaced. */
export function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k] as Plain, v) : v;
  return out;
}

/** A spec as written for this lab's endpoints, with `over` merged in. */
export function rawLabSpec(e: LabEndpoints, name: string, over: Plain = {}): Plain {
  return merge(
    {
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
      loadBalancer: { haproxy: { socket: e.haproxySocket, backend: e.haproxyBackend }, memberPort: 8080, healthCheck: { interval: '300ms', rise: 1, fall: 2, timeout: '20s' } },
      ...(e.prometheusUrl ? { prometheus: { url: e.prometheusUrl } } : {}),
      min: 0,
      max: 6,
      drainGracePeriod: '5s',
    },
    over,
  );
}

/** A spec for this lab's OpenStack (lab up --cloud openstack): Nova servers behind the lab's Octavia pool web-pool. */
export function rawOpenstackLabSpec(e: LabEndpoints, name: string, over: Plain = {}): Plain {
  const os = e.openstack;
  if (!os) throw new Error('this lab runs no OpenStack: poolpilot lab up --cloud openstack');
  return merge(
    {
      name,
      compute: {
        openstack: {
          authUrl: os.authUrl,
          credentialRef: e.openstackCredentialRef,
          projectName: os.projectName,
          region: os.region,
          image: OPENSTACK_LAB_NAMES.image,
          flavor: OPENSTACK_LAB_NAMES.flavor,
          networks: [OPENSTACK_LAB_NAMES.network],
          guestTimeout: '60s',
        },
      },
      loadBalancer: { octavia: { pool: OPENSTACK_LAB_NAMES.loadBalancers[0].pool }, memberPort: 8080, healthCheck: { timeout: '60s' } },
      ...(e.prometheusUrl ? { prometheus: { url: e.prometheusUrl } } : {}),
      min: 0,
      max: 6,
      drainGracePeriod: '2s',
    },
    over,
  );
}

export function labSpec(e: LabEndpoints, name: string, over: Plain = {}): ClusterSpec {
  return parseClusterSpec(rawLabSpec(e, name, over));
}

/** Bundles the workflows once to `file`, for workers that start often. */
export async function writeWorkflowBundle(file: string): Promise<void> {
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
  // index.ts under jest, index.js from dist.
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: silent as never });
  writeFileSync(file, code);
}

export interface SessionWorker {
  client: Client;
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/** An in-process worker and a client on `taskQueue`; POOLPILOT_TASK_QUEUE points the client helpers at it. */
export async function startSessionWorker(e: LabEndpoints, taskQueue: string, bundlePath: string, extra: Parameters<typeof createWorker>[0]['extra'] = {}): Promise<SessionWorker> {
  process.env.POOLPILOT_TASK_QUEUE = taskQueue;
  process.env.TEMPORAL_ADDRESS = e.temporalAddress;
  try {
    installRuntime(pino({ level: 'warn' }));
  } catch {
    // Installed already in this process.
  }
  const connection = await NativeConnection.connect({ address: e.temporalAddress });
  const worker = await createWorker({
    connection,
    namespace: e.temporalNamespace,
    taskQueue,
    logger: pino({ level: 'warn' }),
    credentialsFile: e.credentialsFile,
    workflowBundle: { codePath: bundlePath },
    extra,
  });
  const running = worker.run();
  const clientConn = await Connection.connect({ address: e.temporalAddress });
  const client = new Client({ connection: clientConn, namespace: e.temporalNamespace });
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
