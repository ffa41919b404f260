// The activities' requests, and the kit every group of them is built from.
import type { Logger } from 'pino';
import type { CloudRef } from '../config/compute';
import type { ClusterSpec, LoadBalancerSpec } from '../config/spec';
import type { ComputeProvider } from './compute/provider';
import type { LoadBalancer } from './loadbalancer/provider';

/** A member's server: the cloud (`compute`, or a bare `vsphere` from workflows started before clouds were pluggable). */
export interface VmRequest extends CloudRef {
  cluster: string;
  name: string;
  /** destroyVm: the VM may lack the mark (a member from before marks, found serving in the pool). */
  unmarkedMember?: boolean;
}

export interface ListRequest extends CloudRef {
  cluster: string;
}

/** What a metric read needs of a spec. */
export type MetricsRequest = Pick<ClusterSpec, 'name' | 'metrics' | 'prometheus' | 'loadBalancer'>;

export interface ForecastRequest {
  prometheusUrl: string;
  /** The pool's total demand, in the metric's unit. */
  query: string;
  historyMs: number;
  stepMs: number;
  horizonMs: number;
}

export interface HookCall {
  url: string;
  timeoutMs: number;
  payload: { cluster: string; member: string; hook: string; transition: 'launch' | 'terminate'; ip?: string; op: number };
}

export interface MemberRequest {
  loadBalancer: LoadBalancerSpec;
  cluster: string;
  name: string;
}

/** What every group of activities is built from: the worker's clouds, balancers and logger. */
export interface ActivityKit {
  compute: (req: VmRequest | ListRequest) => ComputeProvider;
  balancer: (spec: LoadBalancerSpec) => LoadBalancer;
  log: (cluster: string, vm?: string) => Logger;
}
