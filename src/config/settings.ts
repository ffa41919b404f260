// Every environment variable poolpilot's processes read, typed and defaulted in one place (listed in docs/production.md and in the services' --help).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { duration, formatDuration } from './duration';
import { WrongRequestError } from './wrong-request';

/** One refused login per endpoint and user every five minutes: three in a quarter hour, under common lockout thresholds. */
export const FAILED_LOGIN_INTERVAL_MS = 300_000;

/** The checkout poolpilot runs from: the nearest folder above this file with package.json (from src/ or dist/src/). */
export const PROJECT_ROOT = ((): string => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
})();

/** Where `poolpilot lab` keeps its state unless --data-dir or POOLPILOT_LAB_DIR says otherwise. */
export const DEFAULT_LAB_DIR = path.join(PROJECT_ROOT, '.data', 'lab');

const onOff = z.enum(['on', 'off']);

/**
 * poolpilot's own variables. Temporal's client settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE) are read by @temporalio/envconfig, and credentials by
 * reference as POOLPILOT_CRED_<REF>_USERNAME / _PASSWORD (see CREDENTIAL_ENV below).
 */
export const settingsSchema = z.object({
  // Each variable's description is what `poolpilot worker --help` and `api --help` list (settingsHelp below).
  POOLPILOT_TASK_QUEUE: z.string().min(1).default('poolpilot').describe('the task queue the worker polls and clients start runs on (default poolpilot)'),
  POOLPILOT_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('trace, debug, info (default), warn, error, fatal or silent'),
  POOLPILOT_CREDENTIALS_FILE: z.string().min(1).optional().describe('a JSON file of credentials by reference: { "<ref>": { "username", "password" } }'),
  POOLPILOT_SEARCH_ATTRIBUTES: onOff.default('on').describe('on (default): tag runs with PoolpilotCluster / PoolpilotOperation; off for a server without those search attributes'),
  POOLPILOT_TEMPORAL_UI: z.string().url().optional().describe("the Temporal Web UI's base URL, for links in the output"),
  POOLPILOT_API_HOST: z.string().min(1).default('127.0.0.1').describe('where `poolpilot api` listens (default 127.0.0.1)'),
  POOLPILOT_API_PORT: z.coerce.number().int().min(1).max(65535).default(18700).describe("the API's port (default 18700)"),
  POOLPILOT_API_TOKENS_FILE: z.string().min(1).optional().describe('named API tokens with roles per cluster pattern (`poolpilot api token-create`); replaces POOLPILOT_API_TOKEN'),
  POOLPILOT_API_TOKEN: z.string().min(8, 'must be at least 8 characters').optional().describe("earlier versions' single token: one admin token on every cluster"),
  POOLPILOT_METRICS_HOST: z.string().min(1).default('127.0.0.1').describe("where the worker's /metrics listens (default 127.0.0.1)"),
  POOLPILOT_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional().describe("the worker's /metrics port for Prometheus (unset: none is served; 0: a free port)"),
  // Set, it makes the CLI, the API and the worker use that lab (as --lab does); unset, only the lab's own commands read one.
  POOLPILOT_LAB_DIR: z.string().min(1).optional().describe("a lab's folder: use its Temporal, credentials and UI, as --lab-dir does"),
  // Every cluster and run in the worker shares the refusal meanwhile.
  // Long requests are what makes waits instant; a proxy in front of vCenter that cuts them needs polling.
  POOLPILOT_VSPHERE_WAIT: z.enum(['updates', 'polling']).default('updates').describe("how the worker waits for vSphere tasks and guests: updates (vCenter's WaitForUpdatesEx, default) or polling"),
  POOLPILOT_FAILED_LOGIN_INTERVAL: duration.default(FAILED_LOGIN_INTERVAL_MS).describe(`after vCenter or a controller refuses a login, wait this long before trying that user again (default ${formatDuration(FAILED_LOGIN_INTERVAL_MS)})`),
  /** Lab tools built elsewhere (else .tools/bin, then PATH). */
  POOLPILOT_TEMPORAL_BIN: z.string().min(1).optional().describe('the temporal CLI for the lab (else .tools/bin, then PATH)'),
  POOLPILOT_VCSIM_BIN: z.string().min(1).optional().describe('vcsim for the lab (else .tools/bin, then PATH)'),
  POOLPILOT_GOVC_BIN: z.string().min(1).optional().describe('govc for the lab (else .tools/bin, then PATH)'),
});

/** Temporal's client variables, read by @temporalio/envconfig (listed in --help beside poolpilot's own). */
const TEMPORAL_ENV: [string, string][] = [
  ['TEMPORAL_ADDRESS', "the Temporal frontend's host:port (default localhost:7233)"],
  ['TEMPORAL_NAMESPACE', 'the namespace (default "default")'],
  ['TEMPORAL_API_KEY', 'an API key (Temporal Cloud)'],
  ['TEMPORAL_TLS*', 'TLS: TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, …'],
  ['TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE', 'a profile of the Temporal config file, instead of the above'],
];

/** The environment a service reads, for its --help: Temporal's, then the named poolpilot variables. */
export function settingsHelp(names: (keyof Settings)[]): string {
  const own = names.map((k): [string, string] => [k, settingsSchema.shape[k].description ?? '']);
  const rows = [...TEMPORAL_ENV, ...own, ['POOLPILOT_CRED_<REF>_USERNAME / _PASSWORD', "a credential named by a spec's credentialRef (instead of the credentials file)"]];
  return `\nEnvironment:\n${rows.map(([k, d]) => `  ${k}\n      ${d}`).join('\n')}`;
}

export type Settings = z.infer<typeof settingsSchema>;

/** The variables that carry a credential named `ref` in a spec's credentialRef. */
export const CREDENTIAL_ENV = (ref: string) => {
  const k = ref.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return { username: `POOLPILOT_CRED_${k}_USERNAME`, password: `POOLPILOT_CRED_${k}_PASSWORD` };
};

/** A wrong environment variable: one line per variable, naming it. */
export class SettingsError extends WrongRequestError {
  override name = 'SettingsError';
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const r = settingsSchema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new SettingsError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}
