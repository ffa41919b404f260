// The HTTP API and alert receivers: the same requests as the CLI, for scripts, Alertmanager and Senlin-style webhooks.
// fastify routes with zod schemas for bodies, queries and replies; the OpenAPI document at /openapi.json is made from
// the same schemas. Named tokens with a role per cluster pattern (src/config/tokens.ts) guard every route but
// /healthz, /openapi.json and /metrics.
import fastifySwagger from '@fastify/swagger';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { jsonNestingProblem, SPEC_LIMITS } from '../config/limits';
import { loadSettings } from '../config/settings';
import { SpecError } from '../config/spec';
import { loadTokens, TokenRegistry, type Principal, type Right } from '../config/tokens';
import type { TemporalTarget } from '../temporal/target';
import { connectClient } from '../temporal/connection';
import { ApiMetrics, metricsHandler } from '../telemetry/metrics';
import { clusterRoutes } from './api-clusters';
import { receiverRoutes } from './api-receivers';
import { ClusterNoAnswerError, ClusterRequestError } from './clusters';

/** Bodies above this are refused with 413 before they are read in full. */
export const BODY_LIMIT = SPEC_LIMITS.bytes;

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

/** Each route's right, by its config, from the bearer token's roles: 401 without a known token, 403 without the role. */
function authorize(app: FastifyInstance, tokens: TokenRegistry): void {
  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (!cfg.right) return;
    const who = tokens.identify(tokenOf(req));
    if (!who) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or unknown bearer token (a token of POOLPILOT_API_TOKENS_FILE)' });
    req.principal = who;
    const cluster = (req.params as { name?: string }).name;
    if (cfg.global) return; // filtered per cluster by the handler
    if (cluster !== undefined && !who.may(cfg.right, cluster)) {
      const role = who.roleOn(cluster);
      return reply.code(403).send({ error: `token ${who.name} ${role ? `is only ${role} on` : 'has no role on'} cluster ${cluster}; ${cfg.right === 'read' ? 'viewer' : cfg.right === 'operate' ? 'operator' : 'admin'} is needed` });
    }
  });
}

/** Every error as one message: validation (400), refusals (their status), limits, and internal errors (500, logged). */
function replyErrors(app: FastifyInstance): void {
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
    if (err instanceof ClusterNoAnswerError) return reply.code(503).send({ error: err.message });
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

  if (o.tokens) authorize(app, o.tokens);

  replyErrors(app);

  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  r.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (metrics) r.get('/metrics', { schema: { hide: true } }, metricsHandler(metrics.registry));

  clusterRoutes(r, client);
  receiverRoutes(r, client);

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
