// A contract endpoint for the NSX ALB (Avi) Controller REST API, for the parts poolpilot uses. No controller can run
// here, so this behaves as the published API describes and FAILS THE TEST on anything the schema does not define.
//
// Source of every allowed path, parameter and field below: the Avi Controller API schemas, version 30.2.1 (Swagger 2.0,
// vmware/alb-sdk, folder swagger/: Pool.json and metrics.json), copied here as data so that tests never read them at
// run time. /login and /logout are not in those files: they are the session authentication of Avi's API guide
// (POST /login with username and password sets the csrftoken and avi-sessionid cookies; writes carry X-CSRFToken and
// Referer). What the schema leaves untyped — the rows of /pool/{uuid}/runtime/server/ — follows the SDK's
// SCServerStateInfo model (oper_status.state, server_ip, server_port).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const AVI_SCHEMA_VERSION = '30.2.1';

/** Properties of the Pool object (Pool.json, definitions.Pool). */
const POOL_FIELDS = new Set([
  '_last_modified', 'analytics_policy', 'analytics_profile_ref', 'append_port', 'application_persistence_profile_ref', 'autoscale_launch_config_ref',
  'autoscale_networks', 'autoscale_policy_ref', 'capacity_estimation', 'capacity_estimation_ttfb_thresh', 'cloud_config_cksum', 'cloud_ref',
  'configpb_attributes', 'conn_pool_properties', 'connection_ramp_duration', 'created_by', 'default_server_port', 'delete_server_on_dns_refresh',
  'description', 'domain_name', 'east_west', 'enable_http2', 'enabled', 'external_autoscale_groups', 'fail_action', 'fewest_tasks_feedback_delay',
  'graceful_disable_timeout', 'graceful_hm_down_disable_timeout', 'gslb_sp_enabled', 'health_monitor_refs', 'horizon_profile', 'host_check_enabled',
  'http2_properties', 'ignore_server_port', 'inline_health_monitor', 'ipaddrgroup_ref', 'lb_algo_rr_per_se', 'lb_algorithm',
  'lb_algorithm_consistent_hash_hdr', 'lb_algorithm_core_nonaffinity', 'lb_algorithm_hash', 'lookup_server_by_name', 'markers',
  'max_concurrent_connections_per_server', 'max_conn_rate_per_server', 'min_health_monitors_up', 'min_servers_up', 'name', 'networks',
  'nsx_securitygroup', 'pki_profile_ref', 'placement_networks', 'pool_type', 'request_queue_depth', 'request_queue_enabled', 'resolve_pool_by_dns',
  'rewrite_host_header_to_server_name', 'rewrite_host_header_to_sni', 'routing_pool', 'server_disable_type', 'server_name', 'server_reselect',
  'server_timeout', 'servers', 'service_metadata', 'sni_enabled', 'sp_gs_info', 'ssl_key_and_certificate_ref', 'ssl_profile_ref', 'tenant_ref',
  'tier1_lr', 'url', 'use_service_port', 'use_service_ssl_mode', 'uuid', 'vrf_ref',
]);

/** Properties of Server (Pool.json, definitions.Server); `ip` is required. */
const SERVER_FIELDS = new Set([
  'autoscaling_group_name', 'availability_zone', 'description', 'discovered_networks', 'enabled', 'external_orchestration_id', 'external_uuid',
  'hostname', 'ip', 'location', 'mac_address', 'nw_ref', 'port', 'preference_order', 'prst_hdr_val', 'ratio', 'resolve_server_by_dns',
  'rewrite_host_header', 'server_node', 'static', 'verify_network', 'vm_ref',
]);

/** Query parameters of GET /pool and GET /pool/{uuid} (Pool.json). */
const POOL_QUERY = new Set(['name', 'refers_to', 'referred_by', 'fields', 'include_name', 'skip_default', 'join_subresources']);
const POOL_UUID_QUERY = new Set(['name', 'fields', 'include_name', 'skip_default', 'join_subresources']);

/** Query parameters of GET /analytics/metrics/pool/{uuid} (metrics.json). */
const METRICS_QUERY = new Set([
  'include_name', 'skip_default', 'aggregate_entity', 'aggregate_obj_id', 'asn', 'attack', 'browser', 'client_insights', 'country', 'detailed_header',
  'devtype', 'dimension_aggregation', 'dimension_filter_op', 'dimension_limit', 'dimension_sampling', 'dimensions', 'entity_uuid', 'id', 'include_refs',
  'include_statistics', 'ipgroup', 'lang', 'limit', 'metric_entity', 'metric_id', 'microservice_levels', 'obj_id', 'order_by', 'os', 'pad_missing_data',
  'page', 'page_size', 'pool_uuid', 'prediction', 'result_format', 'sampling_level', 'server', 'serviceengine_uuid', 'start', 'step', 'stop',
  'tenant_uuid', 'url', 'validate_data',
]);
const INTEGER_QUERY = new Set(['limit', 'step', 'dimension_limit', 'dimension_sampling', 'microservice_levels', 'page', 'page_size']);

/** Request headers the operations define (X-Avi-Version required; tenant and CSRF optional), plus HTTP's own. */
const IP_TYPES = new Set(['V4', 'DNS', 'V6']);

export interface ContractServer {
  ip: { addr: string; type: string };
  port?: number;
  hostname?: string;
  enabled?: boolean;
  [field: string]: unknown;
}

interface Pool {
  uuid: string;
  name: string;
  tenant: string;
  servers: ContractServer[];
}

type Health = 'OPER_UP' | 'OPER_DOWN';

export interface ContractController {
  url: string;
  /** Requests that broke the contract; a test asserts it is empty. */
  violations: string[];
  /** Every request, as "METHOD path". */
  requests: string[];
  addPool(name: string, tenant?: string): string;
  pool(name: string): Pool | undefined;
  /** What the service engines would report: open connections per server (ip:port). */
  setOpenConns(server: string, n: number): void;
  /** Ends every session: the next call gets 401, as an expired session does. */
  expireSessions(): void;
  /** A user whose writes are refused with 403. */
  addReadOnlyUser(username: string, password: string): void;
  close(): Promise<void>;
}

const key = (s: { ip: { addr: string }; port?: number }) => `${s.ip.addr}:${s.port ?? 80}`;

/**
 * Starts the endpoint on loopback. Users: `users` (username → password). Tenants: `admin` and those of added pools.
 * Health: each enabled server is probed with GET /healthz every `probeMs` (an Avi HTTP health monitor): 2xx is OPER_UP.
 */
export async function startContractController(opts: { users: Record<string, string>; probeMs?: number; defaultPort?: number }): Promise<ContractController> {
  const users = new Map(Object.entries(opts.users));
  const readOnly = new Set<string>();
  const sessions = new Map<string, { user: string; csrf: string }>();
  const pools = new Map<string, Pool>();
  const tenants = new Set(['admin']);
  const health = new Map<string, Health>();
  const conns = new Map<string, number>();
  const violations: string[] = [];
  const requests: string[] = [];
  const defaultPort = opts.defaultPort ?? 80;

  const violation = (res: http.ServerResponse, what: string) => {
    violations.push(what);
    send(res, 400, { error: `contract ${AVI_SCHEMA_VERSION}: ${what}` });
  };
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const cookiesOf = (req: http.IncomingMessage) =>
    new Map(
      (req.headers.cookie ?? '')
        .split(';')
        .map((c) => c.trim().split('='))
        .filter((kv) => kv.length === 2)
        .map(([k, v]) => [k!, v!]),
    );

  function checkQuery(res: http.ServerResponse, u: URL, allowed: Set<string>, where: string): boolean {
    for (const [k, v] of u.searchParams) {
      if (!allowed.has(k)) return violation(res, `${where}: query parameter "${k}" is not in the schema`), false;
      if (INTEGER_QUERY.has(k) && !/^-?\d+$/.test(v)) return violation(res, `${where}: ${k}=${v} is not an integer`), false;
    }
    return true;
  }

  function checkServer(s: unknown, where: string): string | undefined {
    if (!s || typeof s !== 'object' || Array.isArray(s)) return `${where}: a server must be an object`;
    for (const f of Object.keys(s)) if (!SERVER_FIELDS.has(f)) return `${where}: server field "${f}" is not in Server`;
    const srv = s as ContractServer;
    if (!srv.ip || typeof srv.ip !== 'object') return `${where}: server.ip is required`;
    for (const f of Object.keys(srv.ip)) if (f !== 'addr' && f !== 'type') return `${where}: IpAddr field "${f}" is not in IpAddr`;
    if (typeof srv.ip.addr !== 'string' || typeof srv.ip.type !== 'string') return `${where}: IpAddr needs addr and type (strings)`;
    if (!IP_TYPES.has(srv.ip.type)) return `${where}: IpAddr.type "${srv.ip.type}" is not one of V4, DNS, V6`;
    if (srv.port !== undefined && (!Number.isInteger(srv.port) || srv.port < 1 || srv.port > 65535)) return `${where}: port ${String(srv.port)} is not an integer in 1-65535`;
    if (srv.enabled !== undefined && typeof srv.enabled !== 'boolean') return `${where}: enabled must be a boolean`;
    if (srv.hostname !== undefined && typeof srv.hostname !== 'string') return `${where}: hostname must be a string`;
    return undefined;
  }

  function patch(pool: Pool, body: unknown, where: string): string | undefined {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return `${where}: the body must be an object`;
    const ops = Object.keys(body);
    if (ops.length === 0) return `${where}: an empty PATCH`;
    for (const op of ops) {
      if (op !== 'add' && op !== 'replace' && op !== 'delete') return `${where}: PATCH operation "${op}" is not add, replace or delete`;
      const fields = (body as Record<string, Record<string, unknown>>)[op]!;
      for (const f of Object.keys(fields)) {
        if (!POOL_FIELDS.has(f)) return `${where}: ${op} of "${f}", not a Pool field`;
        if (f !== 'servers') return `${where}: ${op} of ${f}: this endpoint keeps only servers`;
        const list = fields[f];
        if (!Array.isArray(list)) return `${where}: ${op}.servers must be a list`;
        for (const s of list) {
          const bad = checkServer(s, `${where} ${op}.servers`);
          if (bad) return bad;
        }
      }
    }
    // Applied only once the whole body is valid: a rejected PATCH changes nothing.
    for (const op of ops) {
      const list = (body as Record<string, { servers: ContractServer[] }>)[op]!.servers;
      if (op === 'replace') pool.servers = list.map((s) => ({ ...s }));
      for (const s of list) {
        const i = pool.servers.findIndex((x) => key(x) === key(s));
        // add: a new entry, or an update of the entry with that ip and port (the list's key).
        if (op === 'add' && i >= 0) pool.servers[i] = { ...pool.servers[i]!, ...s };
        else if (op === 'add') pool.servers.push({ ...s });
        if (op === 'delete' && i >= 0) pool.servers.splice(i, 1);
      }
    }
    return undefined;
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://controller');
      const method = req.method ?? 'GET';
      requests.push(`${method} ${u.pathname}`);
      const text = await readBody(req);
      let body: unknown;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          return violation(res, `${method} ${u.pathname}: the body is not JSON`);
        }
      }

      if (u.pathname === '/login' && method === 'POST') {
        const b = body as { username?: string; password?: string } | undefined;
        if (!b || Object.keys(b).some((k) => k !== 'username' && k !== 'password')) return violation(res, 'POST /login: the body must be { username, password }');
        if (!b.username || users.get(b.username) !== b.password) return send(res, 401, { error: 'Invalid credentials' });
        const sid = randomBytes(12).toString('hex');
        const csrf = randomBytes(12).toString('hex');
        sessions.set(sid, { user: b.username, csrf });
        return send(res, 200, { user: { username: b.username } }, { 'Set-Cookie': [`csrftoken=${csrf}; Path=/`, `avi-sessionid=${sid}; Path=/; HttpOnly`] });
      }
      if (!u.pathname.startsWith('/api/')) return violation(res, `${method} ${u.pathname}: not a path of the API`);

      // Every call: X-Avi-Version (required by every operation of the schema) and a live session.
      const version = req.headers['x-avi-version'];
      if (!version) return violation(res, `${method} ${u.pathname}: no X-Avi-Version header`);
      const session = sessions.get(cookiesOf(req).get('avi-sessionid') ?? '');
      if (!session) return send(res, 401, { error: 'Authentication credentials were not provided.' });
      const tenant = String(req.headers['x-avi-tenant'] ?? 'admin');
      if (!tenants.has(tenant)) return send(res, 404, { error: `Tenant '${tenant}' not found` });
      const write = method !== 'GET';
      if (write) {
        if (req.headers['x-csrftoken'] !== session.csrf) return violation(res, `${method} ${u.pathname}: a write without the session's X-CSRFToken`);
        if (!req.headers.referer) return violation(res, `${method} ${u.pathname}: a write without Referer`);
        if (readOnly.has(session.user)) return send(res, 403, { error: `User '${session.user}' is not authorized to write on resource Pool in tenant ${tenant}` });
      }

      const path = u.pathname.slice('/api'.length);
      let m: RegExpMatchArray | null;
      if (path === '/pool' && method === 'GET') {
        if (!checkQuery(res, u, POOL_QUERY, 'GET /pool')) return;
        const name = u.searchParams.get('name');
        const results = [...pools.values()].filter((p) => p.tenant === tenant && (name === null || p.name === name)).map((p) => ({ uuid: p.uuid, name: p.name, url: `/api/pool/${p.uuid}`, servers: p.servers }));
        return send(res, 200, { count: results.length, results });
      }
      if ((m = path.match(/^\/pool\/([^/]+)$/)) && (method === 'GET' || method === 'PATCH')) {
        const pool = pools.get(m[1]!);
        if (!checkQuery(res, u, POOL_UUID_QUERY, `${method} /pool/{uuid}`)) return;
        if (!pool || pool.tenant !== tenant) return send(res, 404, { error: 'Pool object not found!' });
        if (method === 'PATCH') {
          const bad = patch(pool, body, 'PATCH /pool/{uuid}');
          if (bad) return violation(res, bad);
        }
        return send(res, 200, { uuid: pool.uuid, name: pool.name, url: `/api/pool/${pool.uuid}`, servers: pool.servers });
      }
      if ((m = path.match(/^\/pool\/([^/]+)\/runtime\/server\/$/)) && method === 'GET') {
        const pool = pools.get(m[1]!);
        if (!checkQuery(res, u, new Set(), 'GET /pool/{uuid}/runtime/server/')) return;
        if (!pool || pool.tenant !== tenant) return send(res, 404, { error: 'Pool object not found!' });
        return send(
          res,
          200,
          pool.servers.map((s) => ({
            server_ip: s.ip,
            server_port: s.port ?? defaultPort,
            hostname: s.hostname,
            oper_status: { state: s.enabled === false ? 'OPER_DISABLED' : (health.get(key(s)) ?? 'OPER_CREATING') },
          })),
        );
      }
      if ((m = path.match(/^\/analytics\/metrics\/pool\/([^/]+)$/)) && method === 'GET') {
        const pool = pools.get(m[1]!);
        if (!checkQuery(res, u, METRICS_QUERY, 'GET /analytics/metrics/pool/{uuid}')) return;
        if (!pool || pool.tenant !== tenant) return send(res, 404, { error: 'Pool object not found!' });
        const metricIds = (u.searchParams.get('metric_id') ?? '').split(',').filter(Boolean);
        const srv = u.searchParams.get('server');
        const limit = Number(u.searchParams.get('limit') ?? '1');
        const series = metricIds.map((id) => {
          if (id !== 'l4_server.avg_open_conns') return { header: { name: id, pool_uuid: pool.uuid }, data: [] };
          const value = srv ? (conns.get(srv) ?? 0) : pool.servers.reduce((a, s) => a + (conns.get(key(s)) ?? 0), 0);
          const now = Date.now();
          return { header: { name: id, pool_uuid: pool.uuid, ...(srv ? { server: srv } : {}) }, data: Array.from({ length: limit }, (_, i) => ({ timestamp: new Date(now - (limit - 1 - i) * 5000).toISOString(), value })) };
        });
        return send(res, 200, { entity_uuid: pool.uuid, metric_id: metricIds.join(','), step: Number(u.searchParams.get('step') ?? '300'), limit, series });
      }
      return violation(res, `${method} /api${path}: not a path and method of the schema this endpoint implements`);
    })().catch((err: Error) => {
      violations.push(`endpoint error: ${err.message}`);
      if (!res.headersSent) send(res, 500, { error: err.message });
    });
  });

  // The pool's HTTP health monitor.
  const probe = setInterval(() => {
    for (const p of pools.values())
      for (const s of p.servers) {
        if (s.enabled === false) continue;
        const k = key(s);
        const r = http.get({ host: s.ip.addr, port: s.port ?? defaultPort, path: '/healthz', timeout: 1000 }, (res) => {
          health.set(k, res.statusCode && res.statusCode < 300 ? 'OPER_UP' : 'OPER_DOWN');
          res.resume();
        });
        r.on('timeout', () => r.destroy(new Error('timeout')));
        r.on('error', () => health.set(k, 'OPER_DOWN'));
      }
  }, opts.probeMs ?? 200);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    violations,
    requests,
    addPool(name, tenant = 'admin') {
      const uuid = `pool-${randomBytes(8).toString('hex')}`;
      tenants.add(tenant);
      pools.set(uuid, { uuid, name, tenant, servers: [] });
      return uuid;
    },
    pool: (name) => [...pools.values()].find((p) => p.name === name),
    setOpenConns: (s, n) => void conns.set(s, n),
    expireSessions: () => sessions.clear(),
    addReadOnlyUser(username, password) {
      users.set(username, password);
      readOnly.add(username);
    },
    close: async () => {
      clearInterval(probe);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
