// A small vSphere Web Services (vim25 SOAP) client: session, property reads, tasks. vCenter and vcsim both speak it.
import type { LoginGate } from '../login-gate';
import type http from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { cancellationSignal, sleepCancellable, throwIfCancelled } from '../cancellation';
import { endpoint, request, type Endpoint } from '../http';

export interface Moref {
  type: string;
  value: string;
}

export interface VimOptions {
  url: string;
  username: string;
  password: string;
  insecure?: boolean;
  caFile?: string;
  thumbprint?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** How SOAP requests go out: HTTPS to `url` by default, recorded replies in tests. */
  transport?: SoapTransport;
  /** Sees each request as it goes out (tests read the bodies of what only vCenter, not vcsim, would act on). */
  observe?: (req: { method: string; body: string }) => void;
  /** Refused logins shared with the worker's other clients (none: each client tries on its own). */
  loginGate?: LoginGate;
  /**
   * How waits (tasks, guest state) learn of changes: `updates` (default), the property collector's WaitForUpdatesEx,
   * told at once; `polling`, reading again and again, for a proxy in front of vCenter that cuts long requests (and for
   * the benchmark that compares the two). The worker takes it from POOLPILOT_VSPHERE_WAIT.
   */
  waitBy?: 'updates' | 'polling';
}

export interface SoapRequest {
  method: string;
  body: string;
  cookie?: string;
  /** The activity's cancellation: the request is abandoned when it fires. */
  signal?: AbortSignal;
}

export interface SoapReply {
  status: number;
  text: string;
  setCookie?: string[];
}

export type SoapTransport = (req: SoapRequest) => Promise<SoapReply>;

/** A SOAP fault from vSphere; `faultType` is the vim25 fault name (InvalidLogin, NotAuthenticated, InvalidPowerState...). */
export class VimFault extends Error {
  constructor(
    readonly faultType: string,
    message: string,
    readonly method: string,
  ) {
    super(`${method}: ${faultType}: ${message}`);
    this.name = 'VimFault';
  }
}

/** A vSphere task that ended in error. */
export class VimTaskError extends Error {
  constructor(
    readonly faultType: string,
    message: string,
  ) {
    super(message);
    this.name = 'VimTaskError';
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function moref(ref: Moref, tag = '_this'): string {
  return `<${tag} type="${xmlEscape(ref.type)}">${xmlEscape(ref.value)}</${tag}>`;
}

export function el(tag: string, value: string | number | boolean): string {
  return `<${tag}>${xmlEscape(String(value))}</${tag}>`;
}

export function asArray<T>(x: T | T[] | undefined | null): T[] {
  if (x === undefined || x === null || x === '') return [];
  return Array.isArray(x) ? x : [x];
}

/** Parsed XML node as fast-xml-parser gives it. */
export type Node = Record<string, unknown> & { '#text'?: string; '@_type'?: string };

export function toMoref(node: unknown): Moref | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const n = node as Node;
  if (typeof n['#text'] !== 'string' || typeof n['@_type'] !== 'string') return undefined;
  return { type: n['@_type'], value: n['#text'] };
}

/** The references in an ArrayOfManagedObjectReference property (a host's datastores, a cluster's hosts). */
export function morefs(node: unknown): Moref[] {
  return asArray((node as Node | undefined)?.ManagedObjectReference as Node | Node[] | undefined).flatMap((n) => toMoref(n) ?? []);
}

export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object' && typeof (node as Node)['#text'] === 'string') return (node as Node)['#text'];
  return undefined;
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
  'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENVELOPE_CLOSE = '</soapenv:Body></soapenv:Envelope>';

export interface ServiceContent {
  rootFolder: Moref;
  propertyCollector: Moref;
  searchIndex: Moref;
  sessionManager: Moref;
  customizationSpecManager?: Moref;
  /** Absent on a bare ESXi host: custom attributes need vCenter (vcsim has them). */
  customFieldsManager?: Moref;
}

/** SOAP over HTTP(S) to the endpoint. */
function httpTransport(ep: Endpoint): SoapTransport {
  return async ({ method, body, cookie, signal }) => {
    const reply = await request(ep, {
      method: 'POST',
      what: method,
      signal,
      body,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:vim25/6.5"', ...(cookie ? { Cookie: cookie } : {}) },
    });
    return { status: reply.status, text: reply.text, setCookie: reply.headers['set-cookie'] };
  };
}

export class VimClient {
  private cookie: string | undefined;
  private serviceContent: Promise<ServiceContent> | undefined;
  private loginPromise: Promise<void> | undefined;
  private readonly agent: http.Agent | undefined;
  private readonly endpoint: URL;
  private readonly transport: SoapTransport;
  /** Count of SOAP round trips, for benchmarks. */
  calls = 0;
  /** Total milliseconds spent waiting on SOAP round trips. */
  callMs = 0;

  constructor(private readonly opts: VimOptions) {
    this.endpoint = new URL(opts.url);
    if (opts.transport) {
      this.transport = opts.transport;
      return;
    }
    const ep = endpoint(opts.url, opts, opts.timeoutMs ?? 60_000);
    this.agent = ep.agent;
    this.transport = httpTransport(ep);
  }

  close(): void {
    this.agent?.destroy();
  }

  private async post(method: string, body: string): Promise<SoapReply> {
    const started = Date.now();
    const signal = cancellationSignal();
    throwIfCancelled(signal);
    this.opts.observe?.({ method, body });
    const reply = await this.transport({ method, body, cookie: this.cookie, signal });
    this.calls++;
    this.callMs += Date.now() - started;
    return reply;
  }

  /** One SOAP call; returns the parsed `returnval` (or undefined). */
  async invoke(method: string, inner: string): Promise<unknown> {
    const { soapBody } = await this.exchange(method, inner);
    const response = soapBody[`${method}Response`] as Node | undefined;
    return response?.returnval;
  }

  /** One SOAP round trip: the reply and its parsed body; a fault is thrown as a VimFault. */
  private async exchange(method: string, inner: string): Promise<{ res: SoapReply; soapBody: Node }> {
    const body = `${ENVELOPE_OPEN}<${method} xmlns="urn:vim25">${inner}</${method}>${ENVELOPE_CLOSE}`;
    const res = await this.post(method, body);
    const doc = parser.parse(res.text) as Node;
    const envelope = doc.Envelope as Node | undefined;
    const soapBody = envelope?.Body as Node | undefined;
    if (!soapBody) throw new Error(`${method}: ${this.endpoint.host} answered HTTP ${res.status} without a SOAP body`);
    const fault = soapBody.Fault as Node | undefined;
    if (fault) {
      const detail = fault.detail as Node | undefined;
      let faultType = 'ServerFault';
      if (detail && typeof detail === 'object') {
        const [first] = Object.keys(detail).filter((k) => !k.startsWith('@_'));
        if (first) {
          const d = detail[first] as Node;
          faultType = (typeof d === 'object' && (d['@_type'] as string | undefined)) || first.replace(/Fault$/, '');
        }
      }
      throw new VimFault(faultType, text(fault.faultstring) ?? 'fault', method);
    }
    if (res.setCookie) {
      const session = res.setCookie.find((c) => c.startsWith('vmware_soap_session='));
      if (session) this.cookie = session.split(';')[0];
    }
    return { res, soapBody };
  }

  /** The service content, fetched once; concurrent first callers share one request, and a failed one is retried. */
  private ensureServiceContent(): Promise<ServiceContent> {
    this.serviceContent ??= (async () => {
      const sc = (await this.invoke('RetrieveServiceContent', moref({ type: 'ServiceInstance', value: 'ServiceInstance' }))) as Node;
      const need = (k: string): Moref => {
        const m = toMoref(sc[k]);
        if (!m) throw new Error(`RetrieveServiceContent: ${k} missing`);
        return m;
      };
      return {
        rootFolder: need('rootFolder'),
        propertyCollector: need('propertyCollector'),
        searchIndex: need('searchIndex'),
        sessionManager: need('sessionManager'),
        customizationSpecManager: toMoref(sc.customizationSpecManager),
        customFieldsManager: toMoref(sc.customFieldsManager),
      };
    })();
    this.serviceContent.catch(() => (this.serviceContent = undefined));
    return this.serviceContent;
  }

  async login(): Promise<void> {
    if (!this.loginPromise) {
      this.loginPromise = (async () => {
        const sc = await this.ensureServiceContent();
        this.cookie = undefined;
        const attempt = () => this.invoke('Login', moref(sc.sessionManager) + el('userName', this.opts.username) + el('password', this.opts.password));
        const refused = (err: unknown) => err instanceof VimFault && err.faultType === 'InvalidLogin';
        await (this.opts.loginGate ? this.opts.loginGate.login(this.opts.url, this.opts.username, attempt, refused) : attempt());
      })().finally(() => {
        this.loginPromise = undefined;
      });
    }
    return this.loginPromise;
  }

  async logout(): Promise<void> {
    if (!this.cookie || !this.serviceContent) return;
    const sc = await this.serviceContent.catch(() => undefined);
    if (sc) await this.invoke('Logout', moref(sc.sessionManager)).catch(() => undefined);
    this.cookie = undefined;
  }

  /** A call in the session: logs in first, and once more if the session expired. */
  async call(method: string, inner: (sc: ServiceContent) => string): Promise<unknown> {
    return this.inSession((sc) => this.invoke(method, inner(sc)));
  }

  /** Runs `fn` in the session: logs in first, and once more if the session expired (another client ended it). */
  private async inSession<T>(fn: (sc: ServiceContent) => Promise<T>): Promise<T> {
    const sc = await this.ensureServiceContent();
    if (!this.cookie) await this.login();
    try {
      return await fn(sc);
    } catch (err) {
      if (err instanceof VimFault && err.faultType === 'NotAuthenticated') {
        await this.login();
        return fn(sc);
      }
      throw err;
    }
  }

  async findByInventoryPath(path: string): Promise<Moref | undefined> {
    const r = await this.call('FindByInventoryPath', (sc) => moref(sc.searchIndex) + el('inventoryPath', path));
    return toMoref(r);
  }

  async findChild(parent: Moref, name: string): Promise<Moref | undefined> {
    const r = await this.call('FindChild', (sc) => moref(sc.searchIndex) + moref(parent, 'entity') + el('name', name));
    return toMoref(r);
  }

  /** Reads `paths` of each object; a missing object is left out of the result. */
  async retrieve(objects: Moref[], paths: string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (objects.length === 0) return out;
    const byType = new Map<string, Moref[]>();
    for (const o of objects) byType.set(o.type, [...(byType.get(o.type) ?? []), o]);
    const propSets = [...byType.keys()].map((t) => `<propSet>${el('type', t)}${paths.map((p) => el('pathSet', p)).join('')}</propSet>`).join('');
    const objectSets = objects.map((o) => `<objectSet>${moref(o, 'obj')}<skip>false</skip></objectSet>`).join('');
    let token: string | undefined;
    let first = true;
    while (first || token) {
      const r = (
        first
          ? await this.call('RetrievePropertiesEx', (sc) => moref(sc.propertyCollector) + `<specSet>${propSets}${objectSets}</specSet><options></options>`)
          : await this.call('ContinueRetrievePropertiesEx', (sc) => moref(sc.propertyCollector) + el('token', token!))
      ) as Node | undefined;
      first = false;
      token = r ? text(r.token) : undefined;
      for (const oc of asArray(r?.objects as Node | Node[] | undefined)) {
        const obj = toMoref(oc.obj);
        if (!obj) continue;
        const props: Record<string, unknown> = {};
        for (const p of asArray(oc.propSet as Node | Node[] | undefined)) props[text(p.name) ?? ''] = p.val;
        out.set(obj.value, props);
      }
    }
    return out;
  }

  async retrieveOne(obj: Moref, paths: string[]): Promise<Record<string, unknown> | undefined> {
    return (await this.retrieve([obj], paths)).get(obj.value);
  }

  /** Starts a `*_Task` method and returns the task. */
  async startTask(method: string, inner: (sc: ServiceContent) => string): Promise<Moref> {
    const task = toMoref(await this.call(method, inner));
    if (!task) throw new Error(`${method}: no task returned`);
    return task;
  }

  /**
   * Waits until `until` gives a value for `paths` of `obj`, told of each change by a property collector of its own
   * (CreateFilter + WaitForUpdatesEx): no polling, so a change is seen as soon as vSphere makes it. `until` sees the
   * properties after each update (undefined once the object is gone); `onUpdate` too, at least every `maxWaitSeconds`
   * (an activity heartbeats there). Undefined when `timeoutMs` passes. The activity's cancellation ends the wait at once
   * (the request is aborted). An expired session (NotAuthenticated) logs in again and starts the wait over.
   */
  async waitForProperties<T>(
    obj: Moref,
    paths: string[],
    until: (props: Record<string, unknown> | undefined) => T | undefined,
    opts: { timeoutMs: number; onUpdate?: (props: Record<string, unknown> | undefined) => void; maxWaitSeconds?: number },
  ): Promise<T | undefined> {
    const deadline = Date.now() + opts.timeoutMs;
    if (this.opts.waitBy === 'polling') return this.pollForProperties(obj, paths, until, opts.onUpdate, deadline);
    return this.inSession(async (sc) => {
      const collector = toMoref(await this.invoke('CreatePropertyCollector', moref(sc.propertyCollector)));
      if (!collector) throw new Error('CreatePropertyCollector: no collector returned');
      try {
        // PropertyFilterSpec, PropertySpec and ObjectSpec elements in the schema's order.
        const spec = `<spec><propSet>${el('type', obj.type)}${paths.map((p) => el('pathSet', p)).join('')}</propSet><objectSet>${moref(obj, 'obj')}${el('skip', false)}</objectSet></spec>`;
        await this.invoke('CreateFilter', moref(collector) + spec + el('partialUpdates', false));
        let props: Record<string, unknown> | undefined = {};
        let version = '';
        for (;;) {
          throwIfCancelled();
          const left = deadline - Date.now();
          if (left <= 0) return undefined;
          const wait = Math.max(1, Math.min(opts.maxWaitSeconds ?? 5, Math.ceil(left / 1000)));
          const r = (await this.invoke('WaitForUpdatesEx', moref(collector) + el('version', version) + `<options>${el('maxWaitSeconds', wait)}</options>`)) as Node | undefined;
          if (r) {
            version = text(r.version) ?? version;
            for (const fs of asArray(r.filterSet as Node | Node[] | undefined)) {
              for (const os of asArray(fs.objectSet as Node | Node[] | undefined)) {
                if (text(os.kind) === 'leave') {
                  props = undefined;
                  continue;
                }
                props ??= {};
                for (const c of asArray(os.changeSet as Node | Node[] | undefined)) {
                  const name = text(c.name) ?? '';
                  if (text(c.op) === 'assign') props[name] = c.val;
                  else delete props[name];
                }
              }
            }
          }
          const done = until(props);
          opts.onUpdate?.(props);
          if (done !== undefined) return done;
          if (!props) return undefined;
        }
      } finally {
        // Not waited for: the answer is already known, and a collector vCenter keeps is ended with the session anyway.
        void this.invoke('DestroyPropertyCollector', moref(collector)).catch(() => undefined);
      }
    });
  }

  /** waitForProperties by reading the properties again and again, 10 ms apart at first, at most 500 ms. */
  private async pollForProperties<T>(
    obj: Moref,
    paths: string[],
    until: (props: Record<string, unknown> | undefined) => T | undefined,
    onUpdate: ((props: Record<string, unknown> | undefined) => void) | undefined,
    deadline: number,
  ): Promise<T | undefined> {
    for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
      throwIfCancelled();
      const props = await this.retrieveOne(obj, paths);
      const done = until(props);
      onUpdate?.(props);
      if (done !== undefined) return done;
      if (!props || Date.now() >= deadline) return undefined;
      await sleepCancellable(Math.min(delay, Math.max(0, deadline - Date.now())));
    }
  }

  /** Waits for a task to finish; returns `info.result`, throws VimTaskError with the fault on error. */
  async waitForTask(task: Moref, timeoutMs = 600_000): Promise<unknown> {
    let state: string | undefined;
    const outcome = await this.waitForProperties(
      task,
      ['info.state', 'info.error', 'info.result'],
      (props): { result: unknown } | undefined => {
        if (!props) throw new VimTaskError('ManagedObjectNotFound', `task ${task.value} is gone`);
        state = text(props['info.state']);
        if (state === 'success') return { result: props['info.result'] };
        if (state === 'error') {
          const e = props['info.error'] as Node | undefined;
          const fault = e?.fault as Node | undefined;
          const faultType = (fault?.['@_type'] as string | undefined) ?? 'TaskError';
          throw new VimTaskError(faultType, text(e?.localizedMessage) ?? faultType);
        }
        return undefined;
      },
      { timeoutMs },
    );
    if (!outcome) throw new Error(`task ${task.value} still ${state ?? 'queued'} after ${timeoutMs} ms`);
    return outcome.result;
  }

  async runTask(method: string, inner: (sc: ServiceContent) => string, timeoutMs?: number): Promise<unknown> {
    return this.waitForTask(await this.startTask(method, inner), timeoutMs);
  }

  /**
   * The key of the VirtualMachine custom attribute `name`, made if `create` and missing; undefined if missing (or the
   * endpoint has no custom attributes). Two workers making it at once: the loser reads the winner's.
   */
  async customFieldKey(name: string, create: boolean): Promise<number | undefined> {
    const sc = await this.ensureServiceContent();
    const manager = sc.customFieldsManager;
    if (!manager) {
      if (create) throw new VimFault('NotSupported', `${this.endpoint.host} has no custom attributes (a vCenter is needed)`, 'AddCustomFieldDef');
      return undefined;
    }
    const find = async () => {
      const props = await this.retrieveOne(manager, ['field']);
      const defs = asArray((props?.field as Node | undefined)?.CustomFieldDef as Node | Node[] | undefined);
      const def = defs.find((d) => text(d.name) === name && [undefined, 'VirtualMachine'].includes(text(d.managedObjectType)));
      return def ? Number(text(def.key)) : undefined;
    };
    const found = await find();
    if (found !== undefined || !create) return found;
    try {
      const def = (await this.call('AddCustomFieldDef', () => moref(manager) + el('name', name) + el('moType', 'VirtualMachine'))) as Node;
      return Number(text(def.key));
    } catch (err) {
      if (err instanceof VimFault && err.faultType === 'DuplicateName') return find();
      throw err;
    }
  }

  /** Sets a custom attribute's value on an entity. */
  async setCustomField(entity: Moref, key: number, value: string): Promise<void> {
    await this.call('SetField', (sc) => moref(sc.customFieldsManager!) + moref(entity, 'entity') + el('key', key) + el('value', value));
  }

  /**
   * The raw `<spec>` XML of a customization spec, to embed in a clone spec; undefined only when vSphere says there is
   * no such spec (NotFound). An expired session logs in again like any call; other faults are thrown.
   */
  async customizationSpecXml(name: string): Promise<string | undefined> {
    return this.inSession(async (sc) => {
      if (!sc.customizationSpecManager) return undefined;
      let res: SoapReply;
      try {
        ({ res } = await this.exchange('GetCustomizationSpec', moref(sc.customizationSpecManager) + el('name', name)));
      } catch (err) {
        if (err instanceof VimFault && err.faultType === 'NotFound') return undefined;
        throw err;
      }
      // Keep the spec's XML as the server wrote it (xsi:type attributes and all) rather than rebuild it.
      const m = /<spec(\s[^>]*)?>([\s\S]*)<\/spec>/.exec(res.text);
      return m ? m[2] : undefined;
    });
  }
}
