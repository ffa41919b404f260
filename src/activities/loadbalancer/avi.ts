// The NSX ALB (Avi) adapter of the load-balancer port, from the Controller REST API (schemas of version 30.2.1):
// session login with the csrftoken cookie, pool servers added, disabled and deleted with PATCH add / delete (never a
// read-modify-write of the whole pool), health from the pool's runtime server status, open connections from analytics.
import { ApplicationFailure } from '@temporalio/common';
import type { LoginGate } from '../login-gate';
import type { AviBalancerSpec } from '../../config/spec';
import { cancellationSignal, throwIfCancelled } from '../cancellation';
import type { Credential } from '../credentials';
import { permanent } from '../errors';
import { endpoint, request, type Endpoint } from '../http';
import type { HealthCheck, LoadBalancer, MemberStatus, PoolMember } from './provider';

/** A server as Pool.servers holds it (Server in Pool.json); only the fields poolpilot reads or writes. */
export interface AviServer {
  ip: { addr: string; type: string };
  port?: number;
  hostname?: string;
  enabled?: boolean;
}

/** One row of GET /pool/{uuid}/runtime/server/ (the schema leaves it untyped; fields as the SDK's SCServerStateInfo). */
interface AviServerRuntime {
  server_ip?: { addr?: string };
  server_port?: number;
  port?: number;
  oper_status?: { state?: string };
}

/** A controller's answer other than 2xx. */
export class AviHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    what: string,
  ) {
    super(`${what}: the Avi controller answered HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'AviHttpError';
  }
}

/** Avi's oper_status.state → the states the workflows use. */
export function aviMemberStatus(state: string | undefined, enabled: boolean): MemberStatus {
  if (!enabled || state === 'OPER_DISABLED' || state === 'OPER_DISABLING') return 'DRAIN';
  switch (state) {
    case 'OPER_UP':
      return 'UP';
    case 'OPER_DOWN':
    case 'OPER_FAILED':
    case 'OPER_UNAVAIL':
    case 'OPER_ERROR_DISABLED':
    case 'OPER_AGGREGATE_DOWN':
      return 'DOWN';
    default:
      // OPER_CREATING, OPER_INITIALIZING, OPER_PROCESSING, OPER_UNKNOWN, or not in the runtime yet.
      return 'CHECKING';
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One controller session (per controller, user, tenant and version), shared by every pool on it. */
export class AviSession {
  private readonly ep: Endpoint;
  private cookies = new Map<string, string>();
  private loggingIn: Promise<void> | undefined;
  /** Count of HTTP round trips, for tests and benchmarks. */
  calls = 0;

  constructor(
    readonly spec: Pick<AviBalancerSpec, 'controller' | 'tenant' | 'version' | 'insecure' | 'caFile' | 'thumbprint'>,
    private readonly credential: Credential,
    timeoutMs = 30_000,
    /** Refused logins shared with the worker's other clients. */
    private readonly loginGate?: LoginGate,
  ) {
    this.ep = endpoint(spec.controller, spec, timeoutMs);
  }

  get host(): string {
    return this.ep.url.host;
  }

  close(): void {
    this.ep.agent.destroy();
  }

  private headers(method: string): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json', 'X-Avi-Version': this.spec.version, 'X-Avi-Tenant': this.spec.tenant };
    if (this.cookies.size) h.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (WRITES.has(method)) {
      h['Content-Type'] = 'application/json';
      h.Referer = `${this.ep.url.origin}/`;
      const csrf = this.cookies.get('csrftoken');
      if (csrf) h['X-CSRFToken'] = csrf;
    }
    return h;
  }

  private keepCookies(setCookie: string[] | undefined): void {
    for (const c of setCookie ?? []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  }

  private async send(method: string, path: string, body: unknown, what: string) {
    const signal = cancellationSignal();
    throwIfCancelled(signal);
    this.calls++;
    const reply = await request(this.ep, { method, path, what, signal, headers: this.headers(method), body: body === undefined ? undefined : JSON.stringify(body) });
    this.keepCookies(reply.headers['set-cookie']);
    return reply;
  }

  /** POST /login; concurrent callers share one login. */
  login(): Promise<void> {
    const attempt = async () => {
      this.cookies.clear();
      const reply = await this.send('POST', '/login', { username: this.credential.username, password: this.credential.password }, 'login');
      if (reply.status === 401 || reply.status === 403)
        throw permanent('BadCredentials', `the Avi controller ${this.host} refused the login of "${this.credential.username}" (HTTP ${reply.status}): check the credential named by loadBalancer.avi.credentialRef`);
      if (reply.status >= 300) throw new AviHttpError(reply.status, errorText(reply.text), 'login');
      if (!this.cookies.has('csrftoken')) throw new Error(`login: the Avi controller ${this.host} set no csrftoken cookie`);
    };
    const refused = (err: unknown) => err instanceof ApplicationFailure && err.type === 'BadCredentials';
    this.loggingIn ??= (this.loginGate ? this.loginGate.login(this.spec.controller, this.credential.username, attempt, refused) : attempt()).finally(() => (this.loggingIn = undefined));
    return this.loggingIn;
  }

  /**
   * One API call under /api, logged in first; an expired session (401) logs in again once. 403 and an unknown tenant
   * are permanent: retrying cannot help. 5xx and network errors are thrown as plain errors, for Temporal to retry.
   */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    if (!this.cookies.size) await this.login();
    let reply = await this.send(method, `/api${path}`, body, what);
    if (reply.status === 401) {
      await this.login();
      reply = await this.send(method, `/api${path}`, body, what);
    }
    if (reply.status >= 200 && reply.status < 300) return (reply.text ? JSON.parse(reply.text) : undefined) as T;
    const detail = errorText(reply.text);
    if (reply.status === 403)
      throw permanent('Forbidden', `${what}: the Avi controller ${this.host} refused it (HTTP 403: ${detail}); give the user of loadBalancer.avi.credentialRef write access to pools in tenant "${this.spec.tenant}"`);
    // The schema does not say how an unknown X-Avi-Tenant is answered; a 4xx that names the tenant is taken as that.
    if (reply.status >= 400 && reply.status < 500 && /tenant/i.test(detail))
      throw permanent('TenantNotFound', `${what}: the Avi controller ${this.host} does not accept tenant "${this.spec.tenant}" (HTTP ${reply.status}: ${detail}); fix loadBalancer.avi.tenant`);
    if (reply.status === 401)
      throw permanent('BadCredentials', `${what}: the Avi controller ${this.host} answered 401 right after a fresh login: ${detail}`);
    throw new AviHttpError(reply.status, detail, what);
  }
}

function errorText(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: string; detail?: string };
    return j.error ?? j.detail ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

const key = (addr: string, port: number | undefined) => `${addr}:${port ?? 0}`;

export class AviLoadBalancer implements LoadBalancer {
  /** A member read is three controller calls (servers, runtime, analytics): not more often than this. */
  readonly pollIntervalMs = 2000;
  private uuid: string | undefined;

  constructor(
    private readonly session: AviSession,
    readonly spec: Pick<AviBalancerSpec, 'pool' | 'drainMetricStep'>,
  ) {}

  /** The pool's uuid, found by name once. */
  async poolUuid(): Promise<string> {
    if (this.uuid) return this.uuid;
    const found = await this.session.call<{ count: number; results: { uuid: string; name: string }[] }>('GET', `/pool?name=${encodeURIComponent(this.spec.pool)}`);
    const pool = found.results.find((p) => p.name === this.spec.pool);
    if (!pool)
      throw permanent('BackendNotFound', `the Avi controller ${this.session.host} has no pool "${this.spec.pool}" in tenant "${this.session.spec.tenant}"; fix loadBalancer.avi.pool in the spec`);
    this.uuid = pool.uuid;
    return pool.uuid;
  }

  /** A call on this pool; a 404 (the pool was deleted, or recreated with a new uuid) finds it by name again, once. */
  private async onPool<T>(method: string, sub: (uuid: string) => string, body?: unknown): Promise<T> {
    try {
      return await this.session.call<T>(method, sub(await this.poolUuid()), body);
    } catch (err) {
      if (!(err instanceof AviHttpError) || err.status !== 404) throw err;
      this.uuid = undefined;
      return this.session.call<T>(method, sub(await this.poolUuid()), body);
    }
  }

  async servers(): Promise<AviServer[]> {
    const pool = await this.onPool<{ servers?: AviServer[] }>('GET', (u) => `/pool/${u}?fields=servers`);
    return pool.servers ?? [];
  }

  private async runtime(): Promise<Map<string, string | undefined>> {
    const rows = await this.onPool<AviServerRuntime[] | { results?: AviServerRuntime[] }>('GET', (u) => `/pool/${u}/runtime/server/`);
    const list = Array.isArray(rows) ? rows : (rows?.results ?? []);
    return new Map(list.map((r) => [key(r.server_ip?.addr ?? '', r.server_port ?? r.port), r.oper_status?.state]));
  }

  /** The pool analytics' latest samples of `metricId`, for the pool or for one server (ip:port). */
  async metric(metricId: string, step: number, limit: number, server?: string): Promise<number[]> {
    const q = new URLSearchParams({ metric_id: metricId, step: String(step), limit: String(limit) });
    if (server) q.set('server', server);
    const res = await this.onPool<{ series?: { header: { name: string }; data?: { value: number; is_null?: boolean }[] }[] }>('GET', (u) => `/analytics/metrics/pool/${u}?${q}`);
    const series = res.series?.find((s) => s.header.name === metricId) ?? res.series?.[0];
    return (series?.data ?? []).filter((d) => !d.is_null && Number.isFinite(d.value)).map((d) => d.value);
  }

  private async openConns(s: AviServer): Promise<number> {
    const values = await this.metric('l4_server.avg_open_conns', this.spec.drainMetricStep, 1, key(s.ip.addr, s.port));
    return values.length ? values[values.length - 1]! : 0;
  }

  private toMember(s: AviServer, state: string | undefined, sessions: number): PoolMember {
    const status = aviMemberStatus(state, s.enabled !== false);
    return {
      name: s.hostname || key(s.ip.addr, s.port),
      address: s.ip.addr,
      port: s.port ?? 0,
      status,
      checkPassed: status === 'UP',
      sessions,
      totalSessions: 0,
      rate: 0,
      queued: 0,
      check: state,
    };
  }

  async listMembers(): Promise<PoolMember[]> {
    const [servers, runtime] = await Promise.all([this.servers(), this.runtime()]);
    return Promise.all(servers.map(async (s) => this.toMember(s, runtime.get(key(s.ip.addr, s.port)), await this.openConns(s))));
  }

  async getMember(name: string): Promise<PoolMember | undefined> {
    const [servers, runtime] = await Promise.all([this.servers(), this.runtime()]);
    const s = servers.find((x) => x.hostname === name);
    return s && this.toMember(s, runtime.get(key(s.ip.addr, s.port)), await this.openConns(s));
  }

  private patch(op: 'add' | 'delete', servers: AviServer[]): Promise<unknown> {
    return this.onPool('PATCH', (u) => `/pool/${u}`, { [op]: { servers } });
  }

  /** Health checks are the pool's own health monitors in Avi; `check` is not used. */
  async addMember(name: string, address: string, port: number, _check: HealthCheck): Promise<'added' | 'exists' | 'replaced'> {
    const existing = (await this.servers()).find((s) => s.hostname === name);
    const server: AviServer = { ip: { addr: address, type: 'V4' }, port, hostname: name, enabled: true };
    if (existing && existing.ip.addr === address && existing.port === port) {
      // A member disabled by an interrupted drain is enabled again; PATCH add on an existing ip:port updates it.
      if (existing.enabled === false) await this.patch('add', [server]);
      return 'exists';
    }
    if (existing) await this.patch('delete', [{ ip: existing.ip, port: existing.port }]);
    await this.patch('add', [server]);
    return existing ? 'replaced' : 'added';
  }

  async drainMember(name: string): Promise<boolean> {
    const s = (await this.servers()).find((x) => x.hostname === name);
    if (!s) return false;
    if (s.enabled !== false) await this.patch('add', [{ ip: s.ip, port: s.port, hostname: name, enabled: false }]);
    return true;
  }

  async removeMember(name: string): Promise<boolean> {
    const s = (await this.servers()).find((x) => x.hostname === name);
    if (!s) return false;
    await this.patch('delete', [{ ip: s.ip, port: s.port }]);
    return true;
  }
}
