// Which balancer a spec names (pure, no zod: workflows import it, and the schema module is costly to load per workflow).
import type { AviBalancerSpec, HaproxyBalancerSpec, LoadBalancerSpec, OctaviaBalancerSpec } from './spec';

/** A legacy-shaped balancer spec, as autoscalers started by an older poolpilot keep it in their state. */
export type LegacyBalancerSpec = { socket: string; backend: string };

export type Balancer = { kind: 'haproxy'; spec: HaproxyBalancerSpec } | { kind: 'avi'; spec: AviBalancerSpec } | { kind: 'octavia'; spec: OctaviaBalancerSpec };

/** Which balancer a spec names, and its settings; also reads the legacy shape. */
export function balancerOf(lb: LoadBalancerSpec | LegacyBalancerSpec): Balancer {
  const b = lb as Partial<LoadBalancerSpec> & Partial<LegacyBalancerSpec>;
  if (b.avi) return { kind: 'avi', spec: b.avi };
  if (b.octavia) return { kind: 'octavia', spec: b.octavia };
  if (b.haproxy) return { kind: 'haproxy', spec: b.haproxy };
  return { kind: 'haproxy', spec: { socket: b.socket ?? '', backend: b.backend ?? '' } };
}

/** The pool's name as its balancer calls it: HAProxy's backend, Avi's or Octavia's pool. */
export function poolName(lb: LoadBalancerSpec | LegacyBalancerSpec): string {
  const b = balancerOf(lb);
  return b.kind === 'haproxy' ? b.spec.backend : b.spec.pool;
}

/** "backend web" (HAProxy) or "pool web-pool" (Avi, Octavia), for messages. */
export function poolLabel(lb: LoadBalancerSpec | LegacyBalancerSpec): string {
  return `${balancerOf(lb).kind === 'haproxy' ? 'backend' : 'pool'} ${poolName(lb)}`;
}


/** What a balancer is told of a member's health check: the spec's, in the providers' units. */
export function healthCheckOf(lb: LoadBalancerSpec): { intervalMs: number; rise: number; fall: number } {
  const h = lb.healthCheck;
  return { intervalMs: h.interval, rise: h.rise, fall: h.fall };
}
