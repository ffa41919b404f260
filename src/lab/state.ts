// The lab's state file: where each lab process listens. The lab writes it; only the lab's commands and --lab read it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_LAB_DIR } from '../config/settings';
import { OPENSTACK_LAB_NAMES, openstackAccess, readOpenstackState, type OpenstackAccess } from './openstack';

const port = z.number().int().min(1).max(65535);

export const labConfigSchema = z
  .object({
    dataDir: z.string().default(DEFAULT_LAB_DIR),
    host: z.string().regex(/^127\./, 'the lab listens on loopback only').default('127.0.0.1'),
    ports: z
      .object({
        temporal: port.default(7233),
        temporalUi: port.default(8233),
        vcsim: port.default(18989),
        vip: port.default(18080),
        haproxyStats: port.default(18404),
        prometheus: port.default(19090),
        /** The first worker's /metrics; worker N listens on metrics + N - 1. */
        metrics: port.default(18710),
        /** Where `poolpilot api` listens on the lab (its /metrics is scraped). */
        api: port.default(18700),
        /** The OpenStack demo's replayed demand (a gauge the lab's Prometheus scrapes; Nova's fake servers serve nothing). */
        demand: port.default(18720),
        /** production profile: PostgreSQL. */
        postgres: port.default(15432),
        /**
         * production profile: the Temporal services' membership ports (frontend, history +1, matching +2, worker +6).
         * The server keeps them in a smallint column of PostgreSQL: below 32768.
         */
        temporalMembership: port.max(32760, 'the Temporal server stores membership ports as a smallint: below 32761').default(6933),
      })
      .default(() => ({ temporal: 7233, temporalUi: 8233, vcsim: 18989, vip: 18080, haproxyStats: 18404, prometheus: 19090, metrics: 18710, api: 18700, demand: 18720, postgres: 15432, temporalMembership: 6933 })),
    /**
     * dev: the Temporal CLI's dev server (SQLite, built-in UI). production: PostgreSQL, the Temporal server
     * (frontend, history, matching, worker services) with SQL visibility, and the Temporal Web UI server.
     */
    profile: z.enum(['dev', 'production']).default('dev'),
    /** poolpilot workers the lab runs on the task queue (the demo runs its own when 0). */
    workers: z.number().int().min(0).max(8).default(0),
    backend: z.string().default('web'),
    /** Guests take addresses <guestSubnet>.2 .. .254 and serve on memberPort. */
    guestSubnet: z.string().regex(/^127\.\d{1,3}\.\d{1,3}$/).default('127.0.10'),
    memberPort: port.default(8080),
    guest: z
      .object({
        bootDelayMs: z.number().int().min(0).default(1500),
        serviceTimeMs: z.number().int().min(0).default(40),
        concurrency: z.number().int().min(1).default(3),
        /** VMs whose name matches never get an IP (to exercise compensation). */
        neverIpPattern: z.string().optional(),
      })
      .default(() => ({ bootDelayMs: 1500, serviceTimeMs: 40, concurrency: 3 })),
    /**
     * vcsim's -method-delay, for realistic vCenter timings: a task name keeps the task running that long (e.g.
     * "CloneVm:20000,LockHandoff:0"; LockHandoff:0, or reads of the source VM block while a clone runs).
     */
    vcsimMethodDelay: z.string().regex(/^[A-Za-z_]+:\d+(,[A-Za-z_]+:\d+)*$/, 'must read like CloneVm:20000,LockHandoff:0').optional(),
    scrapeIntervalMs: z.number().int().min(1000).default(5000),
    withPrometheus: z.boolean().default(true),
    /**
     * With `lab up --cloud openstack`: the lab also runs an OpenStack (Keystone, Nova with its fake driver, Neutron,
     * Glance, Placement, Octavia with noop drivers, and Senlin when its port is given) on these ports. The vSphere
     * simulator runs either way.
     */
    openstack: z
      .object({
        postgres: port, rabbit: port, epmd: port, keystone: port, placement: port, glance: port, neutron: port, nova: port, octavia: port, senlin: port.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type LabConfig = z.infer<typeof labConfigSchema>;
export type LabConfigInput = z.input<typeof labConfigSchema>;

export const COMPONENTS = ['postgres', 'temporal', 'temporal-ui', 'vcsim', 'haproxy', 'prometheus', 'guestsim'] as const;
export type Component = (typeof COMPONENTS)[number] | `worker-${number}`;

/** The lab's processes for its config, in start order. */
export function componentsOf(c: LabConfig): Component[] {
  const prod = c.profile === 'production';
  const fixed = COMPONENTS.filter((n) => (n !== 'postgres' && n !== 'temporal-ui') || prod).filter((n) => n !== 'prometheus' || c.withPrometheus);
  return [...fixed, ...Array.from({ length: c.workers }, (_, i) => `worker-${i + 1}` as const)];
}

export interface LabState {
  config: LabConfig;
  pids: Partial<Record<Component, number>>;
  credentials: { username: string; password: string };
  /** production profile: PostgreSQL's temporal user. */
  database?: { user: string; password: string };
  startedAt: string;
}

export interface LabEndpoints {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUi: string;
  vsphereUrl: string;
  vsphereUsername: string;
  vspherePassword: string;
  vsphereCredentialRef: string;
  credentialsFile: string;
  haproxySocket: string;
  haproxyBackend: string;
  vipUrl: string;
  haproxyMetrics: string;
  prometheusUrl: string | undefined;
  template: string;
  folder: string;
  profile: 'dev' | 'production';
  /** Every poolpilot /metrics the lab's Prometheus scrapes: its workers' (or the demo's), then the API's. */
  metricsUrls: string[];
  /** With the OpenStack lab: what an `openstack` CLI needs (OS_AUTH_URL, OS_PROJECT_NAME, …). */
  openstack?: OpenstackAccess;
  /** The credentialRef of that user in credentialsFile. */
  openstackCredentialRef?: string;
}

export const LAB_INVENTORY = {
  datacenter: 'DC0',
  template: '/DC0/vm/web-template',
  folder: '/DC0/vm/pool',
  resourcePool: '/DC0/host/DC0_C0/Resources',
  network: 'VM Network',
  /** The template's. The lab's vcsim has three (LocalDS_0..2) and two clusters of two hosts (DC0_C0, DC0_C1), for placement. */
  datastore: 'LocalDS_0',
};
export const LAB_CREDENTIAL_REF = 'lab';

export const statePath = (dataDir: string) => path.join(dataDir, 'state.json');
export const credentialsPath = (dataDir: string) => path.join(dataDir, 'credentials.json');

export function readLabState(dataDir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dataDir), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function endpoints(state: LabState): LabEndpoints {
  const { config: c } = state;
  return {
    temporalAddress: `${c.host}:${c.ports.temporal}`,
    temporalNamespace: 'default',
    temporalUi: `http://${c.host}:${c.ports.temporalUi}`,
    vsphereUrl: `https://${c.host}:${c.ports.vcsim}/sdk`,
    vsphereUsername: state.credentials.username,
    vspherePassword: state.credentials.password,
    vsphereCredentialRef: LAB_CREDENTIAL_REF,
    credentialsFile: credentialsPath(c.dataDir),
    haproxySocket: path.join(c.dataDir, 'haproxy.sock'),
    haproxyBackend: c.backend,
    vipUrl: `http://${c.host}:${c.ports.vip}/`,
    haproxyMetrics: `http://${c.host}:${c.ports.haproxyStats}/metrics`,
    prometheusUrl: c.withPrometheus ? `http://${c.host}:${c.ports.prometheus}` : undefined,
    template: LAB_INVENTORY.template,
    folder: LAB_INVENTORY.folder,
    profile: c.profile ?? 'dev',
    metricsUrls: metricsTargets(c).map((t) => `http://${t}/metrics`),
    ...openstackEndpoints(c.dataDir),
  };
}

function openstackEndpoints(dataDir: string): Pick<LabEndpoints, 'openstack' | 'openstackCredentialRef'> {
  const s = readOpenstackState(dataDir);
  return s?.ready ? { openstack: openstackAccess(s), openstackCredentialRef: OPENSTACK_LAB_NAMES.credentialRef } : {};
}


/** host:port of each poolpilot /metrics: one per lab worker (at least one, the demo's), and the API's. */
export function metricsTargets(c: LabConfig): string[] {
  const ports = c.ports ?? ({} as LabConfig['ports']);
  const first = ports.metrics ?? 18710;
  const workers = Array.from({ length: Math.max(1, c.workers ?? 0) }, (_, i) => `${c.host}:${first + i}`);
  return [...workers, `${c.host}:${ports.api ?? 18700}`];
}
