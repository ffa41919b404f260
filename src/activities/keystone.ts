// OpenStack's identity for the Nova and Octavia adapters: one Keystone v3 token per worker, endpoint, user and
// project, reused until shortly before it expires and taken again once on a 401 (a revoked or expired token); the
// token's catalog gives each service's URL for the region and interface. JSON over HTTP(S) with the shared transport.
import { ApplicationFailure } from '@temporalio/common';
import type { OpenstackCloudSpec } from '../config/spec';
import { cancellationSignal, throwIfCancelled } from './cancellation';
import type { Credential } from './credentials';
import { permanent } from './errors';
import { endpoint, request, type Endpoint } from './http';
import type { LoginGate } from './login-gate';

/** A token is taken again this long before Keystone says it expires: a call must not start on a dying token. */
const TOKEN_MARGIN_MS = 120_000;

export type ServiceType = 'compute' | 'network' | 'image' | 'load-balancer' | 'clustering';

/** An OpenStack API's answer other than 2xx, with the service's own message. */
export class OpenstackHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly what: string,
  ) {
    super(`${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'OpenstackHttpError';
  }
}

/** The message inside an OpenStack error body: {"itemNotFound": {"message"}}, {"NeutronError": {"message"}}, {"faultstring"}, {"error": {"message"}}… */
export function errorDetail(text: string): string {
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    if (typeof j.faultstring === 'string') return j.faultstring;
    if (typeof j.description === 'string') return j.description;
    for (const v of Object.values(j)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
    }
    return text.slice(0, 300);
  } catch {
    return text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
  }
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region_id?: string; region?: string; url: string }[];
}

interface Token {
  id: string;
  expiresAt: number;
  catalog: CatalogEntry[];
  projectId?: string;
}

export interface CallOptions {
  /** Extra headers (a microversion). */
  headers?: Record<string, string>;
  /** Statuses answered as data rather than thrown (404 for a lookup, 409 for a busy pool). */
  accept?: number[];
}

export interface Reply<T> {
  status: number;
  /** The parsed body of a 2xx answer. */
  body: T;
  /** The service's message, for an accepted non-2xx answer. */
  detail?: string;
}

/** One Keystone identity: a user in a project (or an application credential) at one auth URL. */
export class KeystoneSession {
  private readonly auth: Endpoint;
  private token: Token | undefined;
  private authenticating: Promise<Token> | undefined;
  private readonly services = new Map<string, Endpoint>();
  /** Tokens taken, for tests and benchmarks. */
  tokensIssued = 0;

  constructor(
    readonly cloud: OpenstackCloudSpec,
    private readonly credential: Credential,
    private readonly loginGate?: LoginGate,
    private readonly timeoutMs = 30_000,
  ) {
    this.auth = endpoint(cloud.authUrl.replace(/\/+$/, '') + '/', cloud, timeoutMs);
  }

  get host(): string {
    return this.auth.url.host;
  }

  /** The project the token is scoped to (Keystone's id), for filters and messages. */
  async projectId(): Promise<string | undefined> {
    return (await this.currentToken()).projectId;
  }

  close(): void {
    this.auth.agent.destroy();
    for (const ep of this.services.values()) ep.agent.destroy();
  }

  private body(): unknown {
    const c = this.cloud;
    if (c.auth === 'applicationCredential') {
      return { auth: { identity: { methods: ['application_credential'], application_credential: { id: this.credential.username, secret: this.credential.password } } } };
    }
    return {
      auth: {
        identity: { methods: ['password'], password: { user: { name: this.credential.username, domain: { name: c.userDomainName }, password: this.credential.password } } },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
      },
    };
  }

  private authenticate(): Promise<Token> {
    const attempt = async (): Promise<Token> => {
      const signal = cancellationSignal();
      throwIfCancelled(signal);
      const reply = await request(this.auth, { method: 'POST', path: 'auth/tokens', what: 'Keystone authentication', signal, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(this.body()) });
      const detail = errorDetail(reply.text);
      if (reply.status === 401)
        throw permanent('BadCredentials', `Keystone at ${this.cloud.authUrl} refused credential "${this.cloud.credentialRef}" (HTTP 401: ${detail}); check the user, password and domain`);
      if (reply.status === 404 && /project/i.test(detail))
        throw permanent('TenantNotFound', `Keystone at ${this.cloud.authUrl} has no project "${this.cloud.projectName}" in domain "${this.cloud.projectDomainName}" for this user: ${detail}`);
      if (reply.status === 403)
        throw permanent('Forbidden', `Keystone at ${this.cloud.authUrl} refused a token for project "${this.cloud.projectName}" (HTTP 403: ${detail}); give the user a role in the project`);
      if (reply.status !== 201) throw new OpenstackHttpError(reply.status, detail, 'Keystone authentication');
      const id = reply.headers['x-subject-token'];
      if (typeof id !== 'string' || !id) throw new Error(`Keystone at ${this.cloud.authUrl} issued no X-Subject-Token`);
      const t = (JSON.parse(reply.text) as { token: { expires_at: string; catalog?: CatalogEntry[]; project?: { id: string } } }).token;
      this.tokensIssued++;
      return { id, expiresAt: Date.parse(t.expires_at), catalog: t.catalog ?? [], projectId: t.project?.id };
    };
    const refused = (err: unknown) => err instanceof ApplicationFailure && err.type === 'BadCredentials';
    this.authenticating ??= (this.loginGate ? this.loginGate.login(this.cloud.authUrl, this.credential.username, attempt, refused) : attempt())
      .then((t) => (this.token = t))
      .finally(() => (this.authenticating = undefined));
    return this.authenticating;
  }

  private async currentToken(): Promise<Token> {
    const t = this.token;
    if (t && t.expiresAt - TOKEN_MARGIN_MS > Date.now()) return t;
    return this.authenticate();
  }

  /** The service's URL from the token's catalog, for the spec's region and interface. */
  private async service(type: ServiceType): Promise<Endpoint> {
    const token = await this.currentToken();
    const entry = token.catalog.find((e) => e.type === type);
    const ep = entry?.endpoints.find((e) => e.interface === this.cloud.interface && (e.region_id ?? e.region) === this.cloud.region);
    if (!ep) {
      const regions = [...new Set(entry?.endpoints.map((e) => e.region_id ?? e.region) ?? [])].join(', ');
      throw permanent(
        'InventoryNotFound',
        entry
          ? `the Keystone catalog at ${this.cloud.authUrl} has no ${this.cloud.interface} ${type} endpoint in region "${this.cloud.region}" (regions: ${regions || 'none'}); fix region or interface`
          : `the Keystone catalog at ${this.cloud.authUrl} has no ${type} service for this project`,
      );
    }
    const base = ep.url.replace(/\/+$/, '') + '/';
    let e = this.services.get(base);
    if (!e) {
      e = endpoint(base, this.cloud, this.timeoutMs);
      this.services.set(base, e);
    }
    return e;
  }

  /**
   * One JSON call to a service, relative to its catalog URL. A 401 takes a new token and tries once more (a token
   * revoked or expired early); 403 is permanent; 5xx and network errors are thrown plainly, for Temporal to retry.
   */
  async call<T>(type: ServiceType, method: string, path: string, body?: unknown, o: CallOptions = {}): Promise<Reply<T>> {
    const what = `${type} ${method} /${path.split('?')[0]}`;
    const send = async () => {
      const token = await this.currentToken();
      const ep = await this.service(type);
      const signal = cancellationSignal();
      throwIfCancelled(signal);
      const headers: Record<string, string> = { Accept: 'application/json', 'X-Auth-Token': token.id, ...o.headers };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      return { token, reply: await request(ep, { method, path, what, signal, headers, body: body === undefined ? undefined : JSON.stringify(body) }) };
    };
    const first = await send();
    let reply = first.reply;
    if (reply.status === 401) {
      if (this.token === first.token) this.token = undefined;
      ({ reply } = await send());
    }
    const ok = reply.status >= 200 && reply.status < 300;
    if (ok) return { status: reply.status, body: (reply.text ? JSON.parse(reply.text) : undefined) as T };
    const detail = errorDetail(reply.text);
    if (o.accept?.includes(reply.status)) return { status: reply.status, body: undefined as T, detail };
    if (reply.status === 401) throw permanent('BadCredentials', `${what}: refused a fresh Keystone token (HTTP 401: ${detail})`);
    if (reply.status === 403) throw permanent('Forbidden', `${what}: refused for credential "${this.cloud.credentialRef}" (HTTP 403: ${detail}); give the user the role this needs`);
    throw new OpenstackHttpError(reply.status, detail, what);
  }
}

/** Sessions shared by every adapter of a worker: one per auth URL, credential and scope. */
export function keystoneSessions(credentials: (ref: string) => Credential, loginGate?: LoginGate) {
  const sessions = new Map<string, KeystoneSession>();
  return {
    get(cloud: OpenstackCloudSpec): KeystoneSession {
      const key = JSON.stringify([cloud.authUrl, cloud.credentialRef, cloud.auth, cloud.projectName, cloud.projectDomainName, cloud.userDomainName, cloud.region, cloud.interface, cloud.insecure, cloud.caFile]);
      let s = sessions.get(key);
      if (!s) {
        s = new KeystoneSession(cloud, credentials(cloud.credentialRef), loginGate);
        sessions.set(key, s);
      }
      return s;
    },
    close(): void {
      for (const s of sessions.values()) s.close();
    },
  };
}
export type KeystoneSessions = ReturnType<typeof keystoneSessions>;
