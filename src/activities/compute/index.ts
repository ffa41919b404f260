// Picks the cloud a spec names. A new cloud is one provider file, its spec schema, and one case here.
import type { Compute } from '../../config/compute';
import type { CredentialResolver } from '../credentials';
import type { KeystoneSessions } from '../keystone';
import type { LoginGate } from '../login-gate';
import { NovaCompute } from './nova';
import type { ComputeProvider } from './provider';
import { VimClient } from './vim';
import { VsphereCompute } from './vsphere';

export interface ComputeFactory {
  /** The adapter for a cluster's cloud; it marks the cluster's VMs and honours the marks. */
  (compute: Compute, cluster: string): ComputeProvider;
  /** Logs out of every vCenter session (a short-lived client, `poolpilot members`). */
  close(): Promise<void>;
}

/** One vSphere session per endpoint and user, one Keystone session per cloud identity, one adapter per spec and cluster. */
export function computes(credentials: CredentialResolver, keystone: KeystoneSessions, loginGate?: LoginGate, waitBy?: 'updates' | 'polling'): ComputeFactory {
  const vimClients = new Map<string, VimClient>();
  const adapters = new Map<string, ComputeProvider>();
  const factory = ((c: Compute, cluster: string) => {
    const key = JSON.stringify([c, cluster]);
    let a = adapters.get(key);
    if (a) return a;
    switch (c.kind) {
      case 'vsphere': {
        const spec = c.spec;
        const clientKey = JSON.stringify([spec.url, spec.credentialRef, spec.insecure, spec.caFile, spec.thumbprint]);
        let client = vimClients.get(clientKey);
        if (!client) {
          client = new VimClient({ url: spec.url, ...credentials(spec.credentialRef), insecure: spec.insecure, caFile: spec.caFile, thumbprint: spec.thumbprint, loginGate, waitBy });
          vimClients.set(clientKey, client);
        }
        a = new VsphereCompute(client, spec, cluster);
        break;
      }
      case 'openstack':
        a = new NovaCompute(keystone.get(c.spec), c.spec, cluster);
        break;
    }
    adapters.set(key, a);
    return a;
  }) as ComputeFactory;
  factory.close = async () => {
    for (const client of vimClients.values()) {
      await client.logout().catch(() => undefined);
      client.close();
    }
    keystone.close();
  };
  return factory;
}
