// The API's cluster routes: the same requests as `poolpilot cluster …`, each guarded by the right its config names.
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { parseClusterSpecText, parseClusterSpecValue } from '../config/load';
import { clusterName } from '../config/spec';
import type { RequestKind } from '../workflows/autoscaler-messages';
import { by, clusterParams, clusterStatusReply, errorReply, requestResult, scaleBody, statusReply, unansweredClusterReply, type ZodApp } from './api-schemas';
import { answered, applyCluster, clusterStatus, completeHook, deleteCluster, listClusters, removeMembers, requestScale, setPaused } from './clusters';

export function clusterRoutes(r: ZodApp, client: Client): void {
  r.get(
    '/clusters',
    { config: { right: 'read', global: true }, schema: { summary: 'the running clusters the token may read', response: { 200: z.array(z.union([clusterStatusReply, unansweredClusterReply])), 401: errorReply } } },
    async (req) => {
      const all = (await listClusters(client)).map((c) => (answered(c) ? statusReply(c) : c));
      return req.principal ? all.filter((c) => req.principal!.may('read', c.cluster)) : all;
    },
  );

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
      return applyCluster(client, loaded.spec, by(req));
    },
  );

  r.get('/clusters/:name', { config: { right: 'read' }, schema: { summary: "a cluster's status", params: clusterParams, response: { 200: clusterStatusReply, 404: errorReply, 503: errorReply } } }, async (req) => statusReply(await clusterStatus(client, req.params.name)));

  r.get(
    '/clusters/:name/history',
    { config: { right: 'read' }, schema: { summary: 'scaling runs and the decision log', params: clusterParams, response: { 200: z.looseObject({ runs: z.array(z.unknown()), decisions: z.array(z.unknown()) }), 404: errorReply, 503: errorReply } } },
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

  r.delete(
    '/clusters/:name/members/:member',
    {
      config: { right: 'operate' },
      schema: {
        summary: 'drain and destroy one member through the scale-in workflow, queued; replace=true: a new member joins first',
        params: z.object({ name: clusterName, member: z.string().min(1).max(100) }),
        querystring: z.strictObject({ replace: z.enum(['true', 'false']).optional() }),
        response: { 202: requestResult, 404: errorReply, 409: errorReply, 422: errorReply },
      },
    },
    async (req, reply) => {
      reply.code(202);
      return removeMembers(client, req.params.name, [req.params.member], req.query.replace === 'true', 'api', by(req));
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
}
