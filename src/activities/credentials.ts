// Resolves a spec's credentialRef in the worker: environment first, then a credentials file. Secrets never enter workflows.
import { readFileSync } from 'node:fs';
import { CREDENTIAL_ENV } from '../config/settings';
import { permanent } from './errors';

export interface Credential {
  username: string;
  password: string;
}

export type CredentialResolver = (ref: string) => Credential;

/**
 * POOLPILOT_CRED_<REF>_USERNAME and POOLPILOT_CRED_<REF>_PASSWORD, else `file` (JSON: { "<ref>": { "username", "password" } }).
 */
export function credentialResolver(env: NodeJS.ProcessEnv, file: string | undefined): CredentialResolver {
  return (ref) => {
    const vars = CREDENTIAL_ENV(ref);
    const username = env[vars.username];
    const password = env[vars.password];
    if (username && password) return { username, password };
    if (file) {
      let data: Record<string, Partial<Credential>> | undefined;
      try {
        data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Partial<Credential>>;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw permanent('CredentialMissing', `credentials file ${file} is not readable JSON: ${(err as Error).message}`);
      }
      const entry = data?.[ref];
      if (entry?.username && entry.password) return { username: entry.username, password: entry.password };
    }
    throw permanent(
      'CredentialMissing',
      `the worker has no credential "${ref}": set ${vars.username} and ${vars.password}, or add "${ref}" to ${file ?? 'the file named by POOLPILOT_CREDENTIALS_FILE'}`,
    );
  };
}
