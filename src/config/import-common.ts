// What the importers of other tools' definitions (Heat templates, Tacker VNFDs) share: the result's shape, the error
// they refuse a file with, parameter resolution, and the OpenStack connection a template does not carry.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { fileProblem } from './file-problem';
import { WrongRequestError } from './wrong-request';

/** A file the importer cannot turn into a spec: one line naming what is wrong (exit 2, nothing written). */
export class ImportError extends WrongRequestError {
  override name = 'ImportError';
}

/** A spec as written (YAML-ready, before parsing), and one line for each thing of the source it could not map. */
export interface Imported {
  spec: Record<string, unknown>;
  unmapped: string[];
  /** What the operator should do next, one line each: where to point an alarm, a receiver URL. */
  notes: string[];
}

/** Where the members' OpenStack is: a template names none; the flags or the openstack CLI's OS_* variables do. */
export interface CloudOptions {
  authUrl?: string;
  credentialRef?: string;
  projectName?: string;
  region?: string;
  name?: string;
}

export function cloudOf(o: CloudOptions, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const authUrl = o.authUrl ?? env.OS_AUTH_URL;
  const projectName = o.projectName ?? env.OS_PROJECT_NAME;
  if (!authUrl) throw new ImportError('the template does not say where its cloud is: give --auth-url (or set OS_AUTH_URL)');
  if (!projectName) throw new ImportError('the template does not say which project: give --project (or set OS_PROJECT_NAME)');
  const region = o.region ?? env.OS_REGION_NAME;
  return { authUrl, credentialRef: o.credentialRef ?? 'openstack', projectName, ...(region ? { region } : {}) };
}

/** A YAML file's content, or one line naming the file and the fault. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImportError(`cannot read ${file}: ${fileProblem(err)}`);
  }
  try {
    return YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    const e = err as Error & { linePos?: { line: number }[] };
    throw new ImportError(`${file}: not valid YAML${e.linePos?.[0] ? ` at line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
}

/** `k=v` pairs from --parameter, refusing one without "=". */
export function parametersOf(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw new ImportError(`--parameter must be NAME=VALUE, not "${p}"`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Resolves an intrinsic function that reads an input (Heat's get_param, TOSCA's get_input) everywhere in `value`: from
 * `given` (--parameter), else the declared default; a parameter with neither is named as missing. Other functions
 * (get_resource, get_attr) are left for the importer to read.
 */
export function resolveInputs(value: unknown, fn: 'get_param' | 'get_input', given: Record<string, unknown>, declared: Record<string, unknown>, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveInputs(v, fn, given, declared, where));
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === fn) {
    const ref = value[fn];
    const name = Array.isArray(ref) ? String(ref[0]) : String(ref);
    if (name in given) return given[name];
    const decl = declared[name];
    if (isRecord(decl) && 'default' in decl) return decl.default;
    if (/^OS::/.test(name)) return value; // a pseudo parameter (OS::stack_id): the stack's own, nothing to map
    throw new ImportError(`${where}: parameter "${name}" has no default: give --parameter ${name}=VALUE`);
  }
  return Object.fromEntries(keys.map((k) => [k, resolveInputs(value[k], fn, given, declared, where)]));
}

/** A cluster name from a file or stack name: lower-case letters and digits, starting with a letter (the spec's rule). */
export function clusterNameFrom(raw: string): string {
  const s = raw.toLowerCase().replace(/[^a-z0-9]/g, '');
  const name = (/^[a-z]/.test(s) ? s : `c${s}`).slice(0, 31);
  return name.length > 1 ? name : 'imported';
}

/** A duration in seconds as the spec writes it. */
export const seconds = (v: unknown): string | undefined => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? `${Number(v)}s` : undefined);

/** The Senlin-style receiver's route (the API serves it; importers point alarms at it). */
export const SENLIN_RECEIVER_ROUTE = '/v1/webhooks/:name/trigger';

/** A receiver URL's path for one action, as Senlin's receivers carry it (`V=2`). */
export function receiverPath(cluster: string, action: 'CLUSTER_SCALE_OUT' | 'CLUSTER_SCALE_IN' | 'CLUSTER_RESIZE', n: number): string {
  return `${SENLIN_RECEIVER_ROUTE.replace(':name', cluster)}?V=2&action=${action}&${action === 'CLUSTER_RESIZE' ? 'capacity' : 'count'}=${n}`;
}

/** A property that should be a plain value after get_param: a string or number, else undefined. */
export const plain = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/** The Nova server's settings, from OS::Nova::Server properties or a Senlin os.nova.server profile's (the same names); what has no spec field is listed. */
export function novaServer(where: string, p: Record<string, unknown>, unmapped: string[]): Record<string, unknown> {
  const image = plain(p.image);
  const flavor = plain(p.flavor);
  if (!image) throw new ImportError(`${where}: the server's image is not a name or id`);
  if (!flavor) throw new ImportError(`${where}: the server's flavor is not a name or id`);
  const networks = (Array.isArray(p.networks) ? p.networks : [])
    .map((n) => (isRecord(n) ? plain(n.network) ?? plain(n.port) : undefined))
    .filter((n): n is string => !!n);
  if (!networks.length) throw new ImportError(`${where}: the server names no network (networks: [{network: …}])`);
  const groups = Array.isArray(p.security_groups) ? p.security_groups.map(plain).filter((g): g is string => !!g) : [];
  const hints = isRecord(p.scheduler_hints) ? plain(p.scheduler_hints.group) : undefined;
  const mapped = new Set(['image', 'flavor', 'networks', 'security_groups', 'key_name', 'availability_zone', 'user_data', 'user_data_format', 'scheduler_hints', 'name']);
  for (const k of Object.keys(p)) if (!mapped.has(k)) unmapped.push(`${where}: property ${k} (no spec field: set it on the image or in user data)`);
  if (p.name !== undefined) unmapped.push(`${where}: property name (members are named <cluster>-<op>-<i>)`);
  return {
    image,
    flavor,
    networks,
    ...(groups.length ? { securityGroups: groups } : {}),
    ...(plain(p.key_name) ? { keyName: plain(p.key_name) } : {}),
    ...(plain(p.availability_zone) ? { availabilityZone: plain(p.availability_zone) } : {}),
    ...(hints ? { serverGroup: hints } : {}),
    ...(typeof p.user_data === 'string' ? { userData: p.user_data } : {}),
  };
}
