// Where a CLI command points: Temporal, credentials and the Web UI from the environment — or from a lab, when asked.
//
// A lab is used only with --lab [DIR] or POOLPILOT_LAB_DIR set (and by the lab's own commands): a production CLI or
// worker started in a checkout where a lab happens to lie must never pick up its address or its credentials.
import path from 'node:path';
import { DEFAULT_LAB_DIR, loadSettings } from '../config/settings';
import { endpoints, readLabState, type LabEndpoints } from '../lab/state';
import { temporalTarget, type TemporalTarget } from '../temporal/target';
import { UsageError } from './errors';

export interface CommandContext {
  target: TemporalTarget;
  /** The credentials file for vSphere reads made by the CLI or the worker itself. */
  credentialsFile?: string;
  /** Base URL of the Temporal Web UI for links. */
  uiBase?: string;
  /** The lab in use, if any. */
  lab?: LabEndpoints;
}

/** `lab`: --lab (true: the lab folder from POOLPILOT_LAB_DIR or the default) or --lab-dir (that folder). */
export function commandContext(lab: boolean | string | undefined, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const settings = loadSettings(env);
  const given = typeof lab === 'string' ? lab : lab ? (settings.POOLPILOT_LAB_DIR ?? DEFAULT_LAB_DIR) : settings.POOLPILOT_LAB_DIR;
  // Absolute, as the lab's own commands take it (its processes run in folders of their own).
  const dir = given && path.resolve(given);
  if (!dir) return { target: temporalTarget({}, env), credentialsFile: settings.POOLPILOT_CREDENTIALS_FILE, uiBase: settings.POOLPILOT_TEMPORAL_UI };
  const state = readLabState(dir);
  if (!state) throw new UsageError(`no lab is up in ${dir} (start one with "poolpilot lab up", or drop --lab / POOLPILOT_LAB_DIR)`);
  const e = endpoints(state);
  // Explicit Temporal settings still win over the lab's address.
  const explicit = env.TEMPORAL_ADDRESS || env.TEMPORAL_PROFILE;
  return {
    target: temporalTarget(explicit ? {} : { address: e.temporalAddress, namespace: e.temporalNamespace, source: `the lab's, from ${dir}` }, env),
    credentialsFile: settings.POOLPILOT_CREDENTIALS_FILE ?? e.credentialsFile,
    uiBase: settings.POOLPILOT_TEMPORAL_UI ?? e.temporalUi,
    lab: e,
  };
}
