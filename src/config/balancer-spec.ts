// The cluster spec's loadBalancer block (pure: workflows bundle it): one balancer of HAProxy, NSX ALB (Avi) or Octavia,
// each driven by one provider file under src/activities/loadbalancer, and the legacy HAProxy shape it still reads.
// Its names are part of spec.ts's.
import { z } from 'zod';
import { duration } from './duration';
import { credentialRef, openstackCloudFields, thumbprint } from './compute-spec';

export const healthCheckSchema = z
  .object({
    interval: duration.default(1000),
    rise: z.number().int().min(1).default(1),
    fall: z.number().int().min(1).default(2),
    /** How long a new member may take to pass its health check. */
    timeout: duration.default(60_000),
  })
  .strict();


/** HAProxy: dynamic servers through the Runtime API. */
export const haproxyBalancerSchema = z
  .object({
    /** Runtime API socket: a UNIX socket path, or tcp://host:port. */
    socket: z.string().min(1),
    backend: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be an HAProxy backend name'),
  })
  .strict();

/** NSX ALB (Avi): pool servers through the Controller REST API. */
export const aviBalancerSchema = z
  .object({
    /** The controller's base URL, e.g. https://alb.example.com */
    controller: z.string().url(),
    /** Names a credential the worker resolves (a controller user); never the secret itself. */
    credentialRef,
    /** The pool, by name; poolpilot finds its uuid once and caches it. */
    pool: z.string().min(1),
    tenant: z.string().min(1).default('admin'),
    /** Sent as X-Avi-Version on every call: the controller answers in this version's data model. */
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a controller version like 30.2.1').default('30.2.1'),
    insecure: z.boolean().default(false),
    caFile: z.string().optional(),
    thumbprint: thumbprint.optional(),
    /** The analytics step (seconds) of the open-connection reads that follow a drain: 5 needs real-time metrics on the pool. */
    drainMetricStep: z.number().int().min(5).default(5),
  })
  .strict();

/**
 * OpenStack Octavia: pool members through the Octavia v2 API. The connection defaults to compute.openstack's (the
 * same Keystone, project and credential); give authUrl and credentialRef to use others.
 */
export const octaviaBalancerSchema = z
  .object({
    /** The pool, by name or id. */
    pool: z.string().min(1),
    /** The subnet members are reached on (name or id); default: the pool's load balancer's VIP subnet. */
    subnet: z.string().min(1).optional(),
    // Without their defaults: a field left out here is compute.openstack's, not the default's.
    ...Object.fromEntries(Object.entries(openstackCloudFields).map(([k, v]) => [k, (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodTypeAny) : (v as z.ZodTypeAny)).optional()])),
  } as { pool: z.ZodString; subnet: z.ZodOptional<z.ZodString> } & { [K in keyof typeof openstackCloudFields]: z.ZodOptional<z.ZodType<z.output<(typeof openstackCloudFields)[K]>>> })
  .strict();

/** Balancer kinds, each one provider file under src/activities/loadbalancer. */
export const BALANCER_KINDS = ['haproxy', 'avi', 'octavia'] as const;
export type BalancerKind = (typeof BALANCER_KINDS)[number];

const COMMON_BALANCER_KEYS = ['memberPort', 'healthCheck'];

/**
 * The shape before balancers were pluggable — { type?: haproxy, socket, backend, memberPort, healthCheck } — still
 * works: it is read as { haproxy: { socket, backend }, memberPort, healthCheck }. Running autoscalers keep such specs
 * in their state, so the activities read them through this too.
 */
export function migrateLoadBalancer(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const lb = input as Record<string, unknown>;
  if (!('socket' in lb) && !('backend' in lb) && !('type' in lb)) return input;
  const { type, socket, backend, ...rest } = lb;
  if (type !== undefined && type !== 'haproxy') return input;
  return { ...rest, haproxy: { socket, backend } };
}

export const loadBalancerSchema = z.preprocess(
  (input, ctx) => {
    const type = input && typeof input === 'object' ? (input as Record<string, unknown>).type : undefined;
    if (type !== undefined && type !== 'haproxy') {
      ctx.addIssue({ code: 'custom', input, message: `unknown balancer type ${JSON.stringify(type)}: write loadBalancer: { haproxy: {...} } or { avi: {...} }` });
      return z.NEVER;
    }
    const migrated = migrateLoadBalancer(input);
    if (migrated && typeof migrated === 'object' && !Array.isArray(migrated)) {
      const keys = Object.keys(migrated);
      const kinds = keys.filter((k) => !COMMON_BALANCER_KEYS.includes(k));
      const unknown = kinds.filter((k) => !(BALANCER_KINDS as readonly string[]).includes(k));
      const choose = `choose one of ${BALANCER_KINDS.join(', ')} (e.g. loadBalancer: { avi: { controller, credentialRef, pool }, memberPort })`;
      const problem = unknown.length
        ? `unknown balancer ${unknown.map((k) => `"${k}"`).join(', ')}: ${choose}`
        : kinds.length !== 1
          ? kinds.length
            ? `names ${kinds.join(' and ')}: a cluster has one balancer`
            : `names no balancer: ${choose}`
          : undefined;
      if (problem) {
        ctx.addIssue({ code: 'custom', input, message: problem });
        return z.NEVER;
      }
    }
    return migrated;
  },
  z
    .object({
      haproxy: haproxyBalancerSchema.optional(),
      avi: aviBalancerSchema.optional(),
      octavia: octaviaBalancerSchema.optional(),
      /** The port members serve on. */
      memberPort: z.number().int().min(1).max(65535),
      /** HAProxy runs these checks; an Avi pool's own health monitors decide, and only `timeout` applies. */
      healthCheck: healthCheckSchema.default(() => healthCheckSchema.parse({})),
    })
    .strict()
    // The JSON Schema's way of saying what the preprocess above checks: exactly one balancer.
    .meta({ oneOf: BALANCER_KINDS.map((k) => ({ required: [k] })) }),
);
