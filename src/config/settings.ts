// Every environment variable poolpilot's processes read, typed and defaulted in one place (listed in the README).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { duration } from './duration';

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
  /** The task queue the worker polls and the client starts workflows on. */
  POOLPILOT_TASK_QUEUE: z.string().min(1).default('poolpilot'),
  POOLPILOT_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** JSON file of credentials by reference: { "<ref>": { "username", "password" } }. */
  POOLPILOT_CREDENTIALS_FILE: z.string().min(1).optional(),
  /** Register PoolpilotCluster / PoolpilotOperation on runs; `off` for a server without those search attributes. */
  POOLPILOT_SEARCH_ATTRIBUTES: onOff.default('on'),
  /** Base URL of the Temporal Web UI, for links in the CLI's output. */
  POOLPILOT_TEMPORAL_UI: z.string().url().optional(),
  /** `poolpilot api`: where it listens, and the bearer token it requires (none: no authentication). */
  POOLPILOT_API_HOST: z.string().min(1).default('127.0.0.1'),
  POOLPILOT_API_PORT: z.coerce.number().int().min(1).max(65535).default(18700),
  /** Named tokens with roles per cluster pattern (see README "API access"); replaces POOLPILOT_API_TOKEN. */
  POOLPILOT_API_TOKENS_FILE: z.string().min(1).optional(),
  /** Earlier versions' single token: one admin token on every cluster, named "api-token". */
  POOLPILOT_API_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  /** The worker's /metrics endpoint (Prometheus): unset, none is served. 0 picks a free port. */
  POOLPILOT_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  POOLPILOT_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * A lab's state folder. Set, it makes the CLI, the API and the worker use that lab's Temporal, credentials and UI
   * (as --lab does); unset, nothing outside the lab's own commands ever reads a lab.
   */
  POOLPILOT_LAB_DIR: z.string().min(1).optional(),
  /**
   * After vCenter or a balancer's controller refuses a login, the worker signs in there as that user again only after
   * this long (a duration: "5m", "30s"); every cluster and run in the worker shares the refusal meanwhile.
   */
  POOLPILOT_FAILED_LOGIN_INTERVAL: duration.default(FAILED_LOGIN_INTERVAL_MS),
  /** Lab tools built elsewhere (else .tools/bin, then PATH). */
  POOLPILOT_TEMPORAL_BIN: z.string().min(1).optional(),
  POOLPILOT_VCSIM_BIN: z.string().min(1).optional(),
  POOLPILOT_GOVC_BIN: z.string().min(1).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;

/** The variables that carry a credential named `ref` in a spec's credentialRef. */
export const CREDENTIAL_ENV = (ref: string) => {
  const k = ref.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return { username: `POOLPILOT_CRED_${k}_USERNAME`, password: `POOLPILOT_CRED_${k}_PASSWORD` };
};

/** A wrong environment variable: one line per variable, naming it. */
export class SettingsError extends Error {
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
