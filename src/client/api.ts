// The HTTP API and alert receivers: the same requests as the CLI, for scripts, Alertmanager and Senlin-style webhooks.
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { parseClusterSpecText } from '../config/load';
import { SpecError } from '../config/spec';
import { loadSettings } from '../config/settings';
import type { RequestKind } from '../workflows/autoscaler-messages';
import type { TemporalTarget } from '../temporal/connection';
import { applyCluster, ClusterRequestError, clusterStatus, listClusters, requestScale, sendRequest, setPaused } from './clusters';
import { connectClient } from '../temporal/connection';

type Reply = { status: number; body: unknown };

const MAX_BODY = 1 << 20;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new ClusterRequestError('request body over 1 MiB', 400));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new ClusterRequestError('the body must be a JSON object', 400);
}

function count(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ClusterRequestError(`${what} must be a whole number, not ${JSON.stringify(v)}`, 400);
  return n;
}

interface AlertmanagerAlert {
  status?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Alertmanager's webhook (version 4): each firing alert becomes one alarm request, which the autoscaler's policy takes
 * or drops (a run under way, a cooldown, a bound) — Alertmanager re-sends firing alerts, so they are never queued.
 * The action comes from the alert's `poolpilot_action` label (scale_out | scale_in), else the URL's ?action=; the
 * count from `poolpilot_count`, else ?count=, else 1. Resolved alerts are acknowledged and change nothing.
 */
async function alertmanager(client: Client, cluster: string, body: Record<string, unknown>, q: URLSearchParams): Promise<Reply> {
  if (!Array.isArray(body.alerts)) throw new ClusterRequestError('not an Alertmanager webhook: "alerts" must be a list', 400);
  const results = [];
  for (const alert of body.alerts as AlertmanagerAlert[]) {
    const name = alert.labels?.alertname ?? '(unnamed)';
    if ((alert.status ?? body.status) !== 'firing') {
      results.push({ alert: name, ignored: 'resolved' });
      continue;
    }
    const action = (alert.labels?.poolpilot_action ?? q.get('action') ?? '').replace('_', '-');
    if (action !== 'scale-out' && action !== 'scale-in') throw new ClusterRequestError(`alert ${name}: set label poolpilot_action to scale_out or scale_in (or ?action= on the URL)`, 400);
    const n = count(alert.labels?.poolpilot_count ?? q.get('count') ?? 1, `alert ${name}: poolpilot_count`);
    results.push({ alert: name, ...(await sendRequest(client, cluster, action, n, name, 'alarm')) });
  }
  return { status: 202, body: { cluster, results } };
}

/** Senlin-style receiver: POST /v1/webhooks/<cluster>/trigger?action=CLUSTER_SCALE_OUT&count=2; an alarm, as in Senlin. */
async function senlin(client: Client, cluster: string, q: URLSearchParams, body: Record<string, unknown>): Promise<Reply> {
  const params = (body.params as Record<string, unknown> | undefined) ?? {};
  const action = q.get('action') ?? (body.action as string | undefined);
  const kinds: Record<string, RequestKind> = { CLUSTER_SCALE_OUT: 'scale-out', CLUSTER_SCALE_IN: 'scale-in', CLUSTER_RESIZE: 'set-desired' };
  const kind = action ? kinds[action] : undefined;
  if (!kind) throw new ClusterRequestError(`action must be one of ${Object.keys(kinds).join(', ')}, not ${JSON.stringify(action)}`, 400);
  const n = count(q.get('count') ?? params.count ?? (kind === 'set-desired' ? q.get('capacity') ?? params.capacity : 1), 'count');
  return { status: 202, body: await sendRequest(client, cluster, kind, n, `webhook:${action}`, 'alarm') };
}

export async function route(client: Client, method: string, url: URL, body: string): Promise<Reply> {
  const parts = url.pathname.split('/').filter(Boolean);
  const q = url.searchParams;
  if (method === 'GET' && url.pathname === '/healthz') return { status: 200, body: { ok: true } };
  if (parts[0] === 'clusters') {
    if (parts.length === 1 && method === 'GET') return { status: 200, body: await listClusters(client) };
    if (parts.length === 1 && method === 'POST') {
      try {
        return { status: 200, body: await applyCluster(client, parseClusterSpecText(body, 'request body')) };
      } catch (err) {
        if (err instanceof SpecError) return { status: 400, body: { error: err.message, problems: err.problems } };
        throw err;
      }
    }
    const cluster = parts[1]!;
    if (parts.length === 2 && method === 'GET') return { status: 200, body: await clusterStatus(client, cluster) };
    if (parts.length === 3 && method === 'POST' && parts[2] === 'scale') {
      const b = json(body);
      const given = (['out', 'in', 'desired'] as const).filter((k) => b[k] !== undefined);
      if (given.length !== 1) throw new ClusterRequestError('give exactly one of {"out": N}, {"in": N}, {"desired": N}', 400);
      const key = given[0]!;
      const kind: RequestKind = key === 'out' ? 'scale-out' : key === 'in' ? 'scale-in' : 'set-desired';
      return { status: 202, body: await requestScale(client, cluster, kind, count(b[key], key), 'api') };
    }
    if (parts.length === 3 && method === 'POST' && (parts[2] === 'pause' || parts[2] === 'resume')) {
      return { status: 200, body: await setPaused(client, cluster, parts[2] === 'pause') };
    }
  }
  if (parts[0] === 'webhooks' && parts[1] === 'alertmanager' && parts[2] && method === 'POST') return alertmanager(client, parts[2], json(body), q);
  if (parts[0] === 'v1' && parts[1] === 'webhooks' && parts[2] && parts[3] === 'trigger' && method === 'POST') return senlin(client, parts[2], q, json(body));
  return { status: 404, body: { error: `no route for ${method} ${url.pathname}` } };
}

function authorized(req: http.IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function createApiServer(client: Client, token: string | undefined): http.Server {
  return http.createServer((req, res) => {
    const send = (r: Reply) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(`${JSON.stringify(r.body, null, 2)}\n`);
    if (!authorized(req, token)) return send({ status: 401, body: { error: 'missing or wrong bearer token (POOLPILOT_API_TOKEN)' } });
    readBody(req)
      .then((body) => route(client, req.method ?? 'GET', new URL(req.url ?? '/', 'http://api'), body))
      .then(send, (err: Error) => {
        if (err instanceof ClusterRequestError) send({ status: err.status, body: { error: err.message } });
        else send({ status: 500, body: { error: err.message } });
      });
  });
}

export async function runApi(o: { port?: number; host?: string; target?: TemporalTarget } = {}): Promise<number> {
  const settings = loadSettings();
  const port = o.port ?? settings.POOLPILOT_API_PORT;
  const host = o.host ?? settings.POOLPILOT_API_HOST;
  const client = await connectClient(o.target);
  const server = createApiServer(client, settings.POOLPILOT_API_TOKEN);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  console.log(`poolpilot API on http://${host}:${port} (GET /clusters, POST /clusters/NAME/scale, /webhooks/alertmanager/NAME, /v1/webhooks/NAME/trigger)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  server.close();
  return 0;
}
