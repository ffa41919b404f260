// The cluster spec (pure: workflows bundle it): one zod schema is the source of truth for fields, defaults and types.
import { specErrorMap } from './spec-messages';
import { z } from 'zod';
import { duration } from './duration';
import { predictionSchema } from './prediction-spec';
import { balancerOf } from './balancer';
import { computeSchema, OPENSTACK_CLOUD_KEYS, openstackCloudSchema, openstackSchema, vsphereSchema } from './compute-spec';
import { aviBalancerSchema, BALANCER_KINDS, haproxyBalancerSchema, loadBalancerSchema, octaviaBalancerSchema } from './balancer-spec';
import { DEMAND_WINDOW_MIN_READINGS, FAILURE_BACKOFF_DEFAULTS, SPEC_LIMITS, structureProblem } from './limits';
import { WrongRequestError } from './wrong-request';

/** A cluster's name, as the spec, the API's URLs and the tokens' patterns take it. */
export const clusterName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,30}$/, 'must be lower-case letters and digits, starting with a letter (VM names are <name>-<op>-<i>)');

const name = clusterName;

// The compute and loadBalancer blocks live in files of their own (each a provider family); their names are this module's.
export { computeSchema, OPENSTACK_CLOUD_KEYS, openstackCloudSchema, openstackSchema, vsphereSchema } from './compute-spec';
export { aviBalancerSchema, BALANCER_KINDS, type BalancerKind, haproxyBalancerSchema, healthCheckSchema, loadBalancerSchema, migrateLoadBalancer, octaviaBalancerSchema } from './balancer-spec';

const adjustmentSchema = z
  .object({
    type: z.enum(['CHANGE_IN_CAPACITY', 'EXACT_CAPACITY', 'CHANGE_IN_PERCENTAGE']).default('CHANGE_IN_CAPACITY'),
    value: z.number().positive(),
    /** With CHANGE_IN_PERCENTAGE: the smallest change in members (Senlin's min_step). */
    minStep: z.number().int().min(1).default(1),
  })
  .strict();

const prometheusSourceSchema = z.object({ prometheus: z.object({ query: z.string().min(1) }).strict() }).strict();
const haproxySourceSchema = z
  .object({
    haproxy: z
      .object({
        /** A per-server column of HAProxy's `show stat`: scur (open sessions), qcur (queued), rate (sessions/s). */
        field: z.enum(['scur', 'qcur', 'rate', 'stot']).default('scur'),
        aggregate: z.enum(['avg', 'sum', 'max']).default('avg'),
      })
      .strict(),
  })
  .strict();

const aviSourceSchema = z
  .object({
    avi: z
      .object({
        /** An Avi pool metric, e.g. l4_server.avg_open_conns (the reference deployment's), l7_server.avg_complete_responses. */
        metricId: z.string().regex(/^[a-z0-9_]+\.[a-z0-9_]+$/, 'must be an Avi metric id like l4_server.avg_open_conns'),
        /** Seconds between samples: 5 (real-time metrics on the pool) or 300. */
        step: z.number().int().min(5).default(300),
        /** How many of the latest samples are averaged. */
        limit: z.number().int().min(1).max(100).default(1),
      })
      .strict(),
  })
  .strict();

export const metricSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a short metric name'),
    source: z.union([prometheusSourceSchema, haproxySourceSchema, aviSourceSchema]),
    /** Target tracking (the Kubernetes HPA rule). */
    target: z
      .object({
        value: z.number().positive(),
        /** true: the metric is an average per member; false: it is a total for the pool. */
        perMember: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /** Step scaling on thresholds held for a duration (NSX ALB alerts, Aodh alarms, Senlin/Heat policies). */
    threshold: z
      .object({
        high: z.number().optional(),
        low: z.number().optional(),
        for: duration.default(60_000),
        scaleOut: adjustmentSchema.default(() => adjustmentSchema.parse({ value: 1 })),
        scaleIn: adjustmentSchema.default(() => adjustmentSchema.parse({ value: 1 })),
      })
      .strict()
      .refine((t) => t.high !== undefined || t.low !== undefined, { message: 'needs high, low or both' })
      .refine((t) => t.high === undefined || t.low === undefined || t.low < t.high, { message: 'low must be below high' })
      .optional(),
  })
  .strict()
  .refine((m) => (m.target === undefined) !== (m.threshold === undefined), {
    message: 'needs exactly one of target or threshold',
  });

export const failureBackoffSchema = z
  .object({
    initial: duration.default(FAILURE_BACKOFF_DEFAULTS.initial),
    max: duration.default(FAILURE_BACKOFF_DEFAULTS.max),
  })
  .strict()
  .refine((b) => b.initial >= 1000 && b.initial <= b.max, { message: 'initial must be at least 1s and at most max', path: ['initial'] });

export const autoscalingSchema = z
  .object({
    pollInterval: duration.default(10_000),
    /** Target tracking does nothing while |value/target - 1| is within this band. */
    tolerance: z.number().min(0).max(1).default(0.1),
    /** Largest change in members of one scale-out / scale-in action. */
    maxStepOut: z.number().int().min(1).optional(),
    /** Largest scale-out as a percentage of the current members (the HPA's Percent policy); with maxStepOut, the larger wins. */
    maxStepOutPercent: z.number().positive().optional(),
    maxStepIn: z.number().int().min(1).optional(),
    /** Counted from the end of the last scaling action. */
    scaleOutCooldown: duration.default(60_000),
    scaleInCooldown: duration.default(300_000),
    /** Scale in only to the highest recommendation of this window (HPA's default is 300 s). */
    scaleInStabilization: duration.default(300_000),
    /** After this many consecutive failed metric reads, go to `capacity` (KEDA's fallback). Off by default: hold. */
    fallback: z.object({ failureThreshold: z.number().int().min(1), capacity: z.number().int().min(0) }).strict().optional(),
    /** Re-read vSphere and HAProxy and repair differences at most this often. */
    reconcileInterval: duration.default(30_000),
    /** Continue-as-new after this many loop iterations, even if the server does not suggest it. */
    continueAsNewAfter: z.number().int().min(1).default(500),
    /** How many decisions the status keeps. */
    decisionLog: z.number().int().min(1).max(500).default(50),
    /**
     * Consecutive failed runs of a direction wait initial, 2×initial, … up to max before the next attempt; a fault no
     * retry mends (credentials, a missing template…) suspends that direction with one probe per max.
     */
    failureBackoff: failureBackoffSchema.default(() => failureBackoffSchema.parse({})),
  })
  .strict();

export const warmPoolSchema = z
  .object({
    /** Members cloned ahead of time, kept at this count; 0: no warm pool. */
    size: z.number().int().min(0).max(100).default(0),
    /** poweredOff: booted once, then off (a scale-out powers them on); running: ready to join at once. */
    state: z.enum(['poweredOff', 'running']).default('poweredOff'),
    /** A scale-in returns drained members to the warm pool (powered off) instead of destroying them, up to size. */
    reuseOnScaleIn: z.boolean().default(false),
  })
  .strict();

export const hookSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a short name'),
    /** launch: the VM has its IP, before it joins the pool. terminate: drained and out of the pool, before power-off. */
    on: z.enum(['launch', 'terminate']),
    /**
     * POST the member's details here and wait for the answer: 2xx is CONTINUE unless its JSON body says
     * {"result": "ABANDON"}. Without url, the hook waits for an operator: poolpilot hook complete.
     */
    url: z.string().url().optional(),
    /** How long to wait for the answer or the operator. */
    timeout: duration.default(600_000),
    /** The result when the hook times out or its URL cannot be reached. */
    default: z.enum(['CONTINUE', 'ABANDON']).default('ABANDON'),
  })
  .strict();

export const healthSchema = z
  .object({
    /**
     * Replace members that stay unhealthy — DOWN in the balancer, or a VM powered off or without Tools/IP — longer
     * than gracePeriod: a new member joins first, then the broken one is drained, removed and destroyed.
     */
    replace: z.boolean().default(true),
    gracePeriod: duration.default(60_000),
    /** A bad template or network cannot churn the pool: at most this many replacements in any hour. */
    maxReplacementsPerHour: z.number().int().min(0).default(3),
  })
  .strict();

const count = z.number().int().min(0).max(1000);

/** A 5-field cron expression and an IANA time zone, checked by the cron library itself. */
function cronProblem(cron: string, timezone: string): string | undefined {
  if (cron.trim().split(/\s+/).length !== 5) return `"${cron}" is not a 5-field cron expression (minute hour day-of-month month day-of-week)`;
  try {
    Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `"${timezone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Cron } = require('croner') as typeof import('croner');
    new Cron(cron, { timezone, legacyMode: true });
  } catch (err) {
    return `"${cron}": ${(err as Error).message}`;
  }
  return undefined;
}

export const scheduleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a short name'),
    /** When each window opens: standard 5-field cron. */
    cron: z.string().min(1),
    timezone: z.string().default('UTC'),
    min: count.optional(),
    max: count.optional(),
    /** A size asked for once, when the window opens. */
    desired: count.optional(),
    /** How long each window lasts; absent, until the cron fires again (the action stays in force). */
    until: duration.optional(),
  })
  .strict()
  .superRefine((sc, ctx) => {
    const problem = cronProblem(sc.cron, sc.timezone);
    if (problem) ctx.addIssue({ code: 'custom', path: [/timezone|time zone/.test(problem) ? 'timezone' : 'cron'], message: problem });
    if (sc.min === undefined && sc.max === undefined && sc.desired === undefined) ctx.addIssue({ code: 'custom', message: 'needs min, max or desired' });
    if (sc.min !== undefined && sc.max !== undefined && sc.min > sc.max) ctx.addIssue({ code: 'custom', path: ['min'], message: `min ${sc.min} is above max ${sc.max}` });
  });

// The prediction block lives in its own file (it is the largest block); its names are part of this module's.
export { DEFAULT_OBJECTIVE, objectiveOf, predictionSchema } from './prediction-spec';

export const clusterSpecSchema = z
  .object({
    name,
    /** The members' cloud: compute: { openstack: {...} } or { vsphere: {...} }. */
    compute: computeSchema.optional(),
    /** vSphere, as specs wrote it before clouds were pluggable: the same as compute: { vsphere }. */
    vsphere: vsphereSchema.optional(),
    loadBalancer: loadBalancerSchema,
    prometheus: z.object({ url: z.string().url() }).strict().optional(),
    min: z.number().int().min(0),
    max: z.number().int().min(1).max(1000),
    /** Members to bring up when the autoscaler starts; defaults to min. */
    initial: z.number().int().min(0).optional(),
    provisioningConcurrency: z.number().int().min(1).max(50).default(5),
    drainGracePeriod: duration.default(30_000),
    deletionPolicy: z.enum(['YOUNGEST_FIRST', 'OLDEST_FIRST']).default('YOUNGEST_FIRST'),
    /** false: a scale-in keeps each member's VM, powered off and given up (its mark cleared), as Senlin's option. */
    destroyAfterDeletion: z.boolean().default(true),
    metrics: z.array(metricSchema).max(SPEC_LIMITS.metrics, `at most ${SPEC_LIMITS.metrics} metrics`).default([]),
    autoscaling: autoscalingSchema.default(() => autoscalingSchema.parse({})),
    health: healthSchema.default(() => healthSchema.parse({})),
    warmPool: warmPoolSchema.default(() => warmPoolSchema.parse({})),
    /** Lifecycle hooks, as AWS lifecycle hooks: run in order at each member's launch or termination. */
    hooks: z.array(hookSchema).max(SPEC_LIMITS.hooks, `at most ${SPEC_LIMITS.hooks} hooks`).default([]),
    schedules: z.array(scheduleSchema).max(SPEC_LIMITS.schedules, `at most ${SPEC_LIMITS.schedules} schedules`).default([]),
    prediction: predictionSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.compute && !s.vsphere) ctx.addIssue({ code: 'custom', path: ['compute'], message: 'names no cloud: write compute: { openstack: {...} } or compute: { vsphere: {...} }' });
    if (s.compute && s.vsphere) ctx.addIssue({ code: 'custom', path: ['vsphere'], message: 'a cluster has one cloud: move vsphere under compute, or drop compute' });
    const oct = s.loadBalancer.octavia;
    if (oct && (s.compute || s.vsphere) && !s.compute?.openstack && (!oct.authUrl || !oct.credentialRef))
      ctx.addIssue({ code: 'custom', path: ['loadBalancer', 'octavia'], message: 'an Octavia pool beside a cloud other than OpenStack needs its own authUrl, credentialRef and projectName' });
    if (s.min > s.max) ctx.addIssue({ code: 'custom', path: ['min'], message: `min ${s.min} is above max ${s.max}` });
    if (s.initial !== undefined && (s.initial < s.min || s.initial > s.max))
      ctx.addIssue({ code: 'custom', path: ['initial'], message: `initial ${s.initial} is outside [min ${s.min}, max ${s.max}]` });
    s.metrics.forEach((m, i) => {
      if ('prometheus' in m.source && !s.prometheus)
        ctx.addIssue({ code: 'custom', path: ['metrics', i, 'source'], message: 'a prometheus source needs prometheus.url in the spec' });
      for (const kind of BALANCER_KINDS)
        if (kind in m.source && !s.loadBalancer[kind])
          ctx.addIssue({ code: 'custom', path: ['metrics', i, 'source', kind], message: `a ${kind} metric reads the cluster's balancer, and its balancer is ${balancerOf(s.loadBalancer).kind}` });
    });
    s.schedules.forEach((sc, i) => {
      const min = sc.min ?? s.min;
      const max = sc.max ?? s.max;
      if (min > max) ctx.addIssue({ code: 'custom', path: ['schedules', i, sc.min !== undefined ? 'min' : 'max'], message: `the window's min ${min} would be above its max ${max}` });
      if (sc.desired !== undefined && (sc.desired < min || sc.desired > max)) ctx.addIssue({ code: 'custom', path: ['schedules', i, 'desired'], message: `desired ${sc.desired} is outside the window's [${min}, ${max}]` });
    });
    if (new Set(s.hooks.map((h) => h.name)).size !== s.hooks.length) ctx.addIssue({ code: 'custom', path: ['hooks'], message: 'hook names must be unique' });
    if (new Set(s.schedules.map((sc) => sc.name)).size !== s.schedules.length) ctx.addIssue({ code: 'custom', path: ['schedules'], message: 'schedule names must be unique' });
    if (s.prediction) {
      const p = s.prediction;
      const m = p.metric ? s.metrics.find((x) => x.name === p.metric) : s.metrics.find((x) => x.target);
      if (!m) ctx.addIssue({ code: 'custom', path: ['prediction', 'metric'], message: p.metric ? `no metric "${p.metric}"` : 'prediction needs a metric with a target' });
      else if (!m.target) ctx.addIssue({ code: 'custom', path: ['prediction', 'metric'], message: `metric ${m.name} has no target: prediction turns demand into members by a target` });
      else if (!p.query && (m.target.perMember || !('prometheus' in m.source)))
        ctx.addIssue({ code: 'custom', path: ['prediction', 'query'], message: `metric ${m.name} is ${m.target.perMember ? 'a per-member average' : 'not a Prometheus metric'}: give prediction.query for the pool's total demand (e.g. sum(...))` });
      if (!s.prometheus) ctx.addIssue({ code: 'custom', path: ['prediction'], message: 'prediction reads history from Prometheus: the spec needs prometheus.url' });
      if (p.step > p.horizon) ctx.addIssue({ code: 'custom', path: ['prediction', 'step'], message: 'step is longer than horizon' });
      // A window must hold the readings of more polls than that, or the spread is never measured and the floor waits forever.
      const polls = DEMAND_WINDOW_MIN_READINGS + 1;
      if (p.window < polls * s.autoscaling.pollInterval)
        ctx.addIssue({ code: 'custom', path: ['prediction', 'window'], message: `window ${p.window / 1000} s holds fewer than ${polls} polls of ${s.autoscaling.pollInterval / 1000} s: the demand floor needs ${DEMAND_WINDOW_MIN_READINGS} readings in it before each new one; make it at least ${(polls * s.autoscaling.pollInterval) / 1000} s` });
    }
    const names = s.metrics.map((m) => m.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'name'], message: `metric name "${n}" is used twice` });
    });
  })
  .transform(withOctaviaCloud);

/**
 * An Octavia pool reaches the cloud as compute.openstack does, unless it names its own: the fields it leaves out are
 * taken from there (or from the defaults), so the balancer's activities get a whole connection.
 */
function withOctaviaCloud<S extends { compute?: { openstack?: z.infer<typeof openstackSchema> }; loadBalancer: { octavia?: Record<string, unknown> } }>(s: S): S {
  const oct = s.loadBalancer.octavia;
  if (!oct) return s;
  const own = Object.fromEntries(Object.entries(oct).filter(([k, v]) => v !== undefined && (OPENSTACK_CLOUD_KEYS as string[]).includes(k)));
  const base = oct.authUrl === undefined && s.compute?.openstack ? Object.fromEntries(OPENSTACK_CLOUD_KEYS.map((k) => [k, s.compute!.openstack![k]])) : {};
  const cloud = openstackCloudSchema.parse({ ...base, ...own });
  return { ...s, loadBalancer: { ...s.loadBalancer, octavia: { ...oct, ...cloud } } };
}

export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;
export type ClusterSpec = z.infer<typeof clusterSpecSchema>;
export type VsphereSpec = z.infer<typeof vsphereSchema>;
export type OpenstackSpec = z.infer<typeof openstackSchema>;
export type OpenstackCloudSpec = z.infer<typeof openstackCloudSchema>;
export type ComputeSpec = z.infer<typeof computeSchema>;
export type OctaviaBalancerSpec = z.infer<typeof octaviaBalancerSchema>;
export type LoadBalancerSpec = ClusterSpec['loadBalancer'];
export type HaproxyBalancerSpec = z.infer<typeof haproxyBalancerSchema>;
export type AviBalancerSpec = z.infer<typeof aviBalancerSchema>;
export type MetricSpec = ClusterSpec['metrics'][number];
export type AutoscalingSpec = ClusterSpec['autoscaling'];
export type HealthSpec = ClusterSpec['health'];
export type WarmPoolSpec = ClusterSpec['warmPool'];
export type HookSpec = ClusterSpec['hooks'][number];
export type ScheduleSpec = ClusterSpec['schedules'][number];
export type PredictionSpec = z.infer<typeof predictionSchema>;
export type Adjustment = z.infer<typeof adjustmentSchema>;

/** A spec that failed validation: one line per wrong field, each naming its path. */
export class SpecError extends WrongRequestError {
  constructor(
    readonly source: string,
    readonly problems: string[],
    heading = 'invalid cluster spec',
  ) {
    // One problem reads on one line; several, one per line under the heading.
    super(problems.length === 1 && heading !== 'invalid cluster spec' ? `${heading} ${source}: ${problems[0]}` : `${heading} ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SpecError';
  }
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    return `${path}: ${issue.message}`;
  });
}

export function parseClusterSpec(data: unknown, source = 'spec'): ClusterSpec {
  // Measured before zod walks it: a value nested thousands deep or with millions of entries is refused in one line.
  const shape = structureProblem(data);
  if (shape) throw new SpecError(source, [shape]);
  const result = clusterSpecSchema.safeParse(data, { error: specErrorMap });
  if (!result.success) throw new SpecError(source, formatIssues(result.error.issues));
  return result.data;
}
