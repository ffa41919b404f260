// The HTTP API and alert receivers: the same requests as the CLI, for scripts, Alertmanager and Senlin-style webhooks.
// fastify routes with zod schemas for bodies, queries and replies; the OpenAPI document at /openapi.json is made from
// the same schemas. Named tokens with a role per cluster pattern (src/config/tokens.ts) guard every route but
// /healthz, /openapi.json and /metrics.
import fastifySwagger from '@fastify/swagger';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseClusterSpecText, parseClusterSpecValue } from '../config/load';
import { jsonNestingProblem, MAX_ALERTS_PER_WEBHOOK, SPEC_LIMITS } from '../config/limits';
import { loadSettings } from '../config/settings';
import { clusterName, SpecError } from '../config/spec';
import { loadTokens, TokenRegistry, type Principal, type Right } from '../config/tokens';
import type { TemporalTarget } from '../temporal/connection';
import { connectClient } from '../temporal/connection';
import type { AutoscalerStatus, RequestKind } from '../workflows/autoscaler-messages';
import { ApiMetrics, metricsHandler } from '../telemetry/metrics';
import { applyCluster, ClusterRequestError, clusterStatus, completeHook, deleteCluster, listClusters, requestScale, sendRequest, setPaused } from './clusters';

/** Bodies above this are refused with 413 before they are read in full. */
export const BODY_LIMIT = SPEC_LIMITS.bytes;

const errorReply = z.object({ error: z.string(), problems: z.array(z.string()).optional() }).describe('what is wrong, in one message');

/** A count in a JSON body: a JSON integer, never a string or a float. */
const jsonCount = (field: string, least: number) =>
  z
    .number({ error: (i) => `${field} must be a JSON integer, not ${JSON.stringify(i.input)}` })
    .int({ error: (i) => `${field} must be a whole number, not ${JSON.stringify(i.input)}` })
    .min(least, { error: (i) => `${field} must be at least ${least}, not ${JSON.stringify(i.input)}` });

/** A count in a query string or an alert's label: text by nature, so digits are accepted (and JSON integers). */
function textCount(field: string, least: number, v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ClusterRequestError(`${field} must be a whole number, not ${JSON.stringify(v)}`, 400);
  if (n < least) throw new ClusterRequestError(`${field} must be at least ${least}, not ${JSON.stringify(v)}`, 400);
  return n;
}

const scaleBody = z
  .strictObject({ out: jsonCount('out', 1).optional(), in: jsonCount('in', 1).optional(), desired: jsonCount('desired', 0).optional() })
  .refine((b) => [b.out, b.in, b.desired].filter((v) => v !== undefined).length === 1, { error: 'give exactly one of {"out": N}, {"in": N}, {"desired": N}' })
  .describe('exactly one of out, in, desired; JSON integers');

const requestResult = z
  .object({ accepted: z.boolean(), kind: z.string().optional(), n: z.number().optional(), projected: z.number().optional(), position: z.number().optional(), reason: z.string().optional(), code: z.string().optional() })
  .describe("the autoscaler's answer: queued (with members once queued work has run), or an alarm dropped with the reason");

const clusterStatusReply = z
  .looseObject({ cluster: z.string(), phase: z.string(), current: z.number(), desired: z.number(), min: z.number(), max: z.number() })
  .describe('the autoscaler status: phase, conditions, members, metrics, queue, runs, decisions (as `poolpilot cluster status --json`)');

const statusReply = (st: AutoscalerStatus) => st as unknown as z.infer<typeof clusterStatusReply>;

const clusterParams = z.object({ name: clusterName });

const alertSchema = z.looseObject({
  status: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const alertmanagerBody = z
  .looseObject({
    status: z.string().optional(),
    alerts: z.array(alertSchema, { error: 'not an Alertmanager webhook: "alerts" must be a list' }).max(MAX_ALERTS_PER_WEBHOOK, `at most ${MAX_ALERTS_PER_WEBHOOK} alerts in one call (Alertmanager's max_alerts)`),
  })
  .describe("Alertmanager's webhook payload (version 4)");

const senlinActions: Record<string, RequestKind> = { CLUSTER_SCALE_OUT: 'scale-out', CLUSTER_SCALE_IN: 'scale-in', CLUSTER_RESIZE: 'set-desired' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The right a route needs, on the cluster in its :name parameter (or on every cluster, for `global`). */
    right?: Right;
    global?: boolean;
  }
}

export interface ApiOptions {
  /** The accepted tokens; none: no authentication (only for a loopback API you alone can reach). */
  tokens?: TokenRegistry;
  metrics?: ApiMetrics;
}

function tokenOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return h && /^Bearer\s+/i.test(h) ? h.replace(/^Bearer\s+/i, '') : undefined;
}

/** The API: fastify with zod, not yet listening. `client` talks to Temporal. */
export async function buildApi(client: Client, o: ApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false, return503OnClosing: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON bodies are measured before they are parsed: one nested thousands deep is a 400 naming the limit, not a
  // stack overflow in a parser or serializer further on. The rest is fastify's own parser (prototype poisoning).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const problem = jsonNestingProblem(body as string);
    if (problem) return done(Object.assign(new Error(problem), { statusCode: 400 }), undefined);
    return jsonParser(req, body as string, done);
  });
  // Specs may be posted as YAML too.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'poolpilot API', version: '1', description: "Scale, pause and watch poolpilot clusters; receive Alertmanager and Senlin-style alarms." },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a named token from POOLPILOT_API_TOKENS_FILE' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const metrics = o.metrics;
  app.addHook('onResponse', async (req, reply) => {
    metrics?.request(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (!cfg.right || !o.tokens) return;
    const who = o.tokens.identify(tokenOf(req));
    if (!who) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or unknown bearer token (a token of POOLPILOT_API_TOKENS_FILE)' });
    req.principal = who;
    const cluster = (req.params as { name?: string }).name;
    if (cfg.global) return; // filtered per cluster by the handler
    if (cluster !== undefined && !who.may(cfg.right, cluster)) {
      const role = who.roleOn(cluster);
      return reply.code(403).send({ error: `token ${who.name} ${role ? `is only ${role} on` : 'has no role on'} cluster ${cluster}; ${cfg.right === 'read' ? 'viewer' : cfg.right === 'operate' ? 'operator' : 'admin'} is needed` });
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = (err as { validationContext?: string }).validationContext ?? 'body';
      const messages = err.validation.map((v) => {
        const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
        const msg = v.message ?? 'invalid';
        return path && !msg.startsWith(path.split('.').pop()!) ? `${where}.${path}: ${msg}` : msg;
      });
      return reply.code(400).send({ error: messages.join('; ') });
    }
    if (err instanceof ClusterRequestError) return reply.code(err.status).send({ error: err.message });
    if (err instanceof SpecError) return reply.code(400).send({ error: err.message, problems: err.problems });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: `request body over ${BODY_LIMIT} bytes` });
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return reply.code(400).send({ error: `the body is not valid JSON: ${err.message}` });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: `unsupported content-type ${JSON.stringify(req.headers['content-type'])}: send application/json` });
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.code(400).send({ error: 'the body is empty: send a JSON object' });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    // An internal error's text (a stack overflow, a library's message) is for the log, never for the caller.
    req.log.error(err);
    console.error(`poolpilot API: request ${req.id} (${req.method} ${req.url.split('?')[0]}) failed:`, err);
    return reply.code(500).send({ error: `internal error (request ${req.id}); the API's log has the details` });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route for ${req.method} ${req.url.split('?')[0]}` }));

  const r = app.withTypeProvider<ZodTypeProvider>();
  const by = (req: FastifyRequest) => req.principal?.name;

  r.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  r.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (metrics) r.get('/metrics', { schema: { hide: true } }, metricsHandler(metrics.registry));

  r.get('/clusters', { config: { right: 'read', global: true }, schema: { summary: 'the running clusters the token may read', response: { 200: z.array(clusterStatusReply), 401: errorReply } } }, async (req) => {
    const all = (await listClusters(client)).map(statusReply);
    return req.principal ? all.filter((c) => req.principal!.may('read', c.cluster)) : all;
  });

  r.post(
    '/clusters',
    {
      config: { right: 'admin', global: true },
      schema: {
        summary: "start a cluster's autoscaler, or apply the spec to the running one (admin on the spec's cluster)",
        body: z.union([z.string(), z.record(z.string(), z.unknown())]).describe('the cluster spec, as JSON or YAML (content-type application/yaml)'),
        response: { 200: z.object({ started: z.boolean(), changed: z.array(z.string()) }), 400: errorReply, 401: errorReply, 403: errorReply },
      },
    },
    async (req, reply) => {
      const loaded = typeof req.body === 'string' ? parseClusterSpecText(req.body, 'request body') : parseClusterSpecValue(req.body, 'request body');
      const who = req.principal;
      if (who && !who.may('admin', loaded.spec.name)) return reply.code(403).send({ error: `token ${who.name} is not admin on cluster ${loaded.spec.name}` });
      return applyCluster(client, loaded, by(req));
    },
  );

  r.get('/clusters/:name', { config: { right: 'read' }, schema: { summary: "a cluster's status", params: clusterParams, response: { 200: clusterStatusReply, 404: errorReply } } }, async (req) => statusReply(await clusterStatus(client, req.params.name)));

  r.get(
    '/clusters/:name/history',
    { config: { right: 'read' }, schema: { summary: 'scaling runs and the decision log', params: clusterParams, response: { 200: z.looseObject({ runs: z.array(z.unknown()), decisions: z.array(z.unknown()) }), 404: errorReply } } },
    async (req) => {
      const st = await clusterStatus(client, req.params.name);
      return { runs: st.runs, decisions: st.decisions };
    },
  );

  r.post(
    '/clusters/:name/scale',
    { config: { right: 'operate' }, schema: { summary: "queue an operator's request", params: clusterParams, body: scaleBody, response: { 202: requestResult, 400: errorReply, 404: errorReply, 409: errorReply, 422: errorReply } } },
    async (req, reply) => {
      const b = req.body;
      const [kind, n]: [RequestKind, number] = b.out !== undefined ? ['scale-out', b.out] : b.in !== undefined ? ['scale-in', b.in] : ['set-desired', b.desired!];
      reply.code(202);
      return requestScale(client, req.params.name, kind, n, 'api', by(req));
    },
  );

  for (const verb of ['pause', 'resume'] as const) {
    r.post(
      `/clusters/:name/${verb}`,
      { config: { right: 'operate' }, schema: { summary: `${verb} automatic decisions`, params: clusterParams, response: { 200: z.object({ paused: z.boolean() }), 404: errorReply } } },
      async (req) => setPaused(client, req.params.name, verb === 'pause', by(req)),
    );
  }

  r.post(
    '/clusters/:name/hooks',
    {
      config: { right: 'operate' },
      schema: {
        summary: 'complete a lifecycle hook a run waits for',
        params: clusterParams,
        body: z.strictObject({ member: z.string().min(1), hook: z.string().min(1), result: z.enum(['CONTINUE', 'ABANDON']), run: z.string().min(1).optional() }),
        response: { 200: z.object({ run: z.string() }), 404: errorReply, 409: errorReply, 422: errorReply },
      },
    },
    async (req) => completeHook(client, req.params.name, { member: req.body.member, hook: req.body.hook, result: req.body.result, ...(by(req) ? { by: by(req) } : {}) }, req.body.run),
  );

  r.delete(
    '/clusters/:name',
    {
      config: { right: 'admin' },
      schema: {
        summary: "end a cluster's autoscaler; members keep running unless scaleToZero=true",
        params: clusterParams,
        querystring: z.strictObject({ scaleToZero: z.enum(['true', 'false']).optional() }),
        response: { 202: z.object({ members: z.number() }), 404: errorReply },
      },
    },
    async (req, reply) => {
      reply.code(202);
      return deleteCluster(client, req.params.name, { scaleToZero: req.query.scaleToZero === 'true', ...(by(req) ? { by: by(req) } : {}) });
    },
  );

  /**
   * Alertmanager's webhook (version 4): each firing alert becomes one alarm request, which the autoscaler's policy
   * takes or drops (a run under way, a cooldown, a bound) — Alertmanager re-sends firing alerts, so they are never
   * queued. The action comes from the alert's `poolpilot_action` label (scale_out | scale_in), else the URL's ?action=;
   * the count from `poolpilot_count`, else ?count=, else 1. Resolved alerts are acknowledged and change nothing.
   */
  r.post(
    '/webhooks/alertmanager/:name',
    {
      config: { right: 'operate' },
      schema: {
        summary: "Alertmanager's webhook: firing alerts become alarms",
        params: clusterParams,
        querystring: z.strictObject({ action: z.enum(['scale_out', 'scale_in', 'scale-out', 'scale-in']).optional(), count: z.string().optional() }),
        body: alertmanagerBody,
        response: { 202: z.object({ cluster: z.string(), results: z.array(z.looseObject({ alert: z.string() })) }), 400: errorReply },
      },
    },
    async (req, reply) => {
      const cluster = req.params.name;
      const results = [];
      for (const alert of req.body.alerts) {
        const name = alert.labels?.alertname ?? '(unnamed)';
        if ((alert.status ?? req.body.status) !== 'firing') {
          results.push({ alert: name, ignored: 'resolved' });
          continue;
        }
        const action = (alert.labels?.poolpilot_action ?? req.query.action ?? '').replace('_', '-');
        if (action !== 'scale-out' && action !== 'scale-in') throw new ClusterRequestError(`alert ${name}: set label poolpilot_action to scale_out or scale_in (or ?action= on the URL)`, 400);
        const n = textCount(`alert ${name}: poolpilot_count`, 1, alert.labels?.poolpilot_count ?? req.query.count ?? '1');
        results.push({ alert: name, ...(await sendRequest(client, cluster, action, n, name, 'alarm', by(req))) });
      }
      reply.code(202);
      return { cluster, results };
    },
  );

  /** Senlin-style receiver: POST /v1/webhooks/<cluster>/trigger?action=CLUSTER_SCALE_OUT&count=2; an alarm, as in Senlin. */
  r.post(
    '/v1/webhooks/:name/trigger',
    {
      config: { right: 'operate' },
      schema: {
        summary: 'Senlin-style receiver: an alarm',
        params: clusterParams,
        querystring: z.strictObject({ action: z.string().optional(), count: z.string().optional(), capacity: z.string().optional() }),
        body: z.looseObject({ action: z.string().optional(), params: z.looseObject({ count: z.unknown().optional(), capacity: z.unknown().optional() }).optional() }).optional(),
        response: { 202: requestResult, 400: errorReply },
      },
    },
    async (req, reply) => {
      const action = req.query.action ?? req.body?.action;
      const kind = action ? senlinActions[action] : undefined;
      if (!kind) throw new ClusterRequestError(`action must be one of ${Object.keys(senlinActions).join(', ')}, not ${JSON.stringify(action)}`, 400);
      const p = req.body?.params ?? {};
      const raw = req.query.count ?? p.count ?? (kind === 'set-desired' ? (req.query.capacity ?? p.capacity) : 1);
      const n = textCount(kind === 'set-desired' ? 'capacity' : 'count', kind === 'set-desired' ? 0 : 1, raw);
      reply.code(202);
      return sendRequest(client, req.params.name, kind, n, `webhook:${action}`, 'alarm', by(req));
    },
  );

  return app;
}

/** The tokens the API accepts: the file's, else the single POOLPILOT_API_TOKEN as an admin token, else none. */
export function apiTokens(settings = loadSettings()): TokenRegistry | undefined {
  if (settings.POOLPILOT_API_TOKENS_FILE) return loadTokens(settings.POOLPILOT_API_TOKENS_FILE);
  if (settings.POOLPILOT_API_TOKEN) return TokenRegistry.single(settings.POOLPILOT_API_TOKEN);
  return undefined;
}

export async function runApi(o: { port?: number; host?: string; target?: TemporalTarget } = {}): Promise<number> {
  const settings = loadSettings();
  const port = o.port ?? settings.POOLPILOT_API_PORT;
  const host = o.host ?? settings.POOLPILOT_API_HOST;
  const tokens = apiTokens(settings);
  const client = await connectClient(o.target);
  const app = await buildApi(client, { tokens, metrics: new ApiMetrics() });
  await app.listen({ port, host });
  if (!tokens) console.warn('poolpilot API: no POOLPILOT_API_TOKENS_FILE: every request is allowed; keep it on loopback');
  else console.log(`poolpilot API: ${tokens.size} token(s) from ${settings.POOLPILOT_API_TOKENS_FILE ?? 'POOLPILOT_API_TOKEN'}`);
  console.log(`poolpilot API on http://${host}:${port} (OpenAPI at /openapi.json, metrics at /metrics)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  return 0;
}
