// Workflow tests' harness: a local Temporal dev server (the CLI the lab installs; nothing is downloaded), one bundle of
// the workflows, and activities mocked over a small in-memory world whose calls the tests inspect.
import { cloudOfRequest, sourceOf } from '../../src/config/compute';
import { WorkerMetrics } from '../../src/telemetry/metrics';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import path from 'node:path';
import type { Activities, MemberRequest, VmRequest } from '../../src/activities';
import type { MetricReading } from '../../src/activities/metrics/source';
import type { VmInfo } from '../../src/activities/compute/provider';
import type { PoolMember } from '../../src/activities/loadbalancer/provider';
import { PROJECT_ROOT } from '../../src/config/settings';
import { parseClusterSpec, type ClusterSpec } from '../../src/config/spec';
import type { ForecastResult } from '../../src/policy/forecast';
import { findTool } from '../../src/lab/tools';

let runtimeInstalled = false;
export const BUNDLE = path.join(PROJECT_ROOT, '.data', 'workflow-tests', 'bundle.js');

/** What the mocked vSphere and balancer hold, and switches to make them fail. */
export class World {
  vms = new Map<string, VmInfo>();
  pool = new Map<string, PoolMember>();
  /** Every activity call, as "name target". */
  calls: string[] = [];
  /** The metric's value (per member) or an error. */
  reading: MetricReading = { value: 1 };
  /** Computes the reading from the world when set (e.g. demand / members). */
  readingFrom?: (w: World) => MetricReading;
  cloneMs = 0;
  /** Members whose health check never passes. */
  unhealthy = new Set<string>();
  /** No member passes its health check while true (a fault a later attempt may not have). */
  healthFails = false;
  /** Clones fail (non-retryable) while true. */
  cloneFails = false;
  /** vSphere listing fails (non-retryable) while true. */
  listFails = false;
  /** How long a vSphere listing takes (ms). */
  listMs = 0;
  /** Open sessions a drained member keeps. */
  sessionsAfterDrain = 0;
  /** What forecastDemand answers (a forecast, or a reason), or an error it throws. */
  forecast: ForecastResult | Error = { ok: false, reason: 'no forecast scripted' };
  forecastCalls = 0;
  /** What an HTTP lifecycle hook answers. */
  hookAnswer: 'CONTINUE' | 'ABANDON' = 'CONTINUE';
  private ip = 10;
  /** One creation time for every VM, so age ties are broken by name (as for VMs cloned in the same second). */
  private readonly createdAt = new Date().toISOString();

  /** Member VMs (`<cluster>-<op>-<i>`), not warm ones. */
  members(cluster: string): string[] {
    return [...this.vms.keys()].filter((n) => new RegExp(`^${cluster}-\\d+-\\d+$`).test(n)).sort();
  }

  /** Warm VMs (`<cluster>-w<op>-<i>`) and their power state. */
  warm(cluster: string): string[] {
    return [...this.vms.values()].filter((v) => new RegExp(`^${cluster}-w\\d+-\\d+$`).test(v.name)).map((v) => `${v.name} ${v.powerState}`).sort();
  }

  activities(): Partial<Activities> {
    const note = (what: string) => this.calls.push(what);
    const fail = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
    return {
      cloneVm: async (r: VmRequest) => {
        note(`cloneVm ${r.name}`);
        if (this.cloneFails) throw fail('TemplateNotFound', `vsphere.template "${sourceOf(cloudOfRequest(r))}" was not found`);
        if (this.cloneMs) await new Promise((res) => setTimeout(res, this.cloneMs));
        const vm: VmInfo = { name: r.name, id: `vm-${r.name}`, powerState: 'poweredOn', toolsRunning: true, ip: `127.0.20.${this.ip++}`, createdAt: this.createdAt };
        const adopted = this.vms.has(r.name);
        if (!adopted) this.vms.set(r.name, vm);
        return { ...this.vms.get(r.name)!, adopted };
      },
      waitForGuestIp: async (r: VmRequest) => {
        note(`waitForGuestIp ${r.name}`);
        const vm = this.vms.get(r.name);
        if (!vm?.ip) throw fail('GuestTimeout', `VM ${r.name}: no IPv4`);
        return { ...vm, ip: vm.ip };
      },
      renameVm: async (r: VmRequest & { to: string }) => {
        note(`renameVm ${r.name} ${r.to}`);
        const vm = this.vms.get(r.name);
        if (!vm) {
          if (this.vms.has(r.to)) return 'done' as const;
          throw fail('InventoryNotFound', `VM ${r.name} does not exist`);
        }
        this.vms.delete(r.name);
        this.vms.set(r.to, { ...vm, name: r.to });
        return 'renamed' as const;
      },
      powerOnVm: async (r: VmRequest) => {
        note(`powerOnVm ${r.name}`);
        const vm = this.vms.get(r.name);
        if (!vm) throw fail('InventoryNotFound', `VM ${r.name} does not exist`);
        if (vm.powerState === 'poweredOn') return false;
        vm.powerState = 'poweredOn';
        return true;
      },
      powerOffVm: async (r: VmRequest) => {
        note(`powerOffVm ${r.name}`);
        const vm = this.vms.get(r.name);
        if (!vm || vm.powerState !== 'poweredOn') return false;
        vm.powerState = 'poweredOff';
        return true;
      },
      destroyVm: async (r: VmRequest) => {
        note(`destroyVm ${r.name}`);
        return this.vms.delete(r.name);
      },
      listVms: async (r: { cluster: string }) => {
        note('listVms');
        if (this.listMs) await new Promise((r) => setTimeout(r, this.listMs));
        if (this.listFails) throw fail('ServerFault', 'vSphere did not answer');
        return [...this.vms.values()].filter((v) => v.name.startsWith(`${r.cluster}-`));
      },
      addPoolMember: async (r: MemberRequest & { address: string }) => {
        note(`addPoolMember ${r.name}`);
        const had = this.pool.has(r.name);
        this.pool.set(r.name, { name: r.name, address: r.address, port: r.loadBalancer.memberPort, status: 'UP', checkPassed: true, sessions: 0, totalSessions: 0, rate: 0, queued: 0, check: 'L7OK' });
        return had ? 'exists' : 'added';
      },
      waitPoolMemberHealthy: async (r: MemberRequest) => {
        note(`waitPoolMemberHealthy ${r.name}`);
        if (this.healthFails || this.unhealthy.has(r.name)) throw fail('HealthTimeout', `pool member ${r.name} did not pass its health check`);
        return this.pool.get(r.name)!;
      },
      drainPoolMember: async (r: MemberRequest) => {
        note(`drainPoolMember ${r.name}`);
        const m = this.pool.get(r.name);
        if (!m) return false;
        m.status = 'DRAIN';
        m.sessions = this.sessionsAfterDrain;
        return true;
      },
      waitForDrain: async (r: MemberRequest & { graceMs: number }) => {
        note(`waitForDrain ${r.name}`);
        const sessions = this.pool.get(r.name)?.sessions ?? 0;
        return { drained: sessions === 0, sessions };
      },
      removePoolMember: async (r: MemberRequest) => {
        note(`removePoolMember ${r.name}`);
        return this.pool.delete(r.name);
      },
      listPoolMembers: async () => {
        note('listPoolMembers');
        return [...this.pool.values()];
      },
      callLifecycleHook: async (r) => {
        note(`callLifecycleHook ${r.payload.hook} ${r.payload.member} ${r.payload.transition}`);
        return this.hookAnswer;
      },
      forecastDemand: async () => {
        this.forecastCalls++;
        if (this.forecast instanceof Error) throw this.forecast;
        return this.forecast;
      },
      readMetrics: async (r) => Object.fromEntries(r.spec.metrics.map((m) => [m.name, this.readingFrom?.(this) ?? this.reading])),
    };
  }
}

/** A spec for the mocked world (its URLs are never called), with `over` merged at the top level. */
export function spec(name: string, over: Record<string, unknown> = {}): ClusterSpec {
  return parseClusterSpec({
    name,
    vsphere: { url: 'https://vcenter.invalid/sdk', credentialRef: 'test', datacenter: 'DC0', template: '/DC0/vm/t', folder: '/DC0/vm/pool', resourcePool: '/DC0/host/C0/Resources', network: 'VM Network' },
    loadBalancer: { socket: '/nonexistent.sock', backend: 'web', memberPort: 8080 },
    min: 1,
    max: 5,
    drainGracePeriod: '1s',
    ...over,
  });
}

export async function localEnv(): Promise<TestWorkflowEnvironment> {
  // The SDK's own logs (workflow log.info included) only when something is wrong.
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const temporal = findTool('temporal');
  if (!temporal) throw new Error('the Temporal CLI is missing: run "node bin/poolpilot.js tools install"');
  return TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: temporal }, ip: '127.0.0.1', log: { format: 'pretty', level: 'error' } } });
}

/** One local server for a test file: started before its tests, torn down after them. */
export function useLocalEnv(): { readonly env: TestWorkflowEnvironment } {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await localEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('the local Temporal server is not up (useLocalEnv starts it in beforeAll)');
      return env;
    },
  };
}

/** What the workflows under test report to /metrics (as a real worker's sinks would receive it). */
export const workerMetrics = new WorkerMetrics();

/** Runs `fn` with a worker on a fresh task queue whose activities are `world`'s. */
export async function withWorker<T>(env: TestWorkflowEnvironment, world: World, taskQueue: string, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: BUNDLE }, activities: world.activities(), sinks: workerMetrics.sinks() });
  return worker.runUntil(fn);
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
