// Picks the balancer a spec names. A new balancer is one provider file, its spec schema, and one case here.
import { balancerOf, type LegacyBalancerSpec } from '../../config/balancer';
import type { LoadBalancerSpec } from '../../config/spec';
import type { CredentialResolver } from '../credentials';
import type { LoginGate } from '../login-gate';
import { AviLoadBalancer, AviSession } from './avi';
import { HaproxyLoadBalancer } from './haproxy';
import { OctaviaLoadBalancer } from './octavia';
import { keystoneSessions, type KeystoneSessions } from '../keystone';
import { OPENSTACK_CLOUD_KEYS, type OpenstackCloudSpec } from '../../config/spec';
import { permanent } from '../errors';
import type { LoadBalancer } from './provider';

export type BalancerFactory = (spec: LoadBalancerSpec | LegacyBalancerSpec) => LoadBalancer;

/**
 * A factory that keeps one controller session per controller, user, tenant and version, one Keystone session per
 * cloud identity (shared with the compute adapters when `keystone` is given), and one adapter per pool.
 */
export function balancers(credentials: CredentialResolver, loginGate?: LoginGate, keystone: KeystoneSessions = keystoneSessions(credentials, loginGate)): BalancerFactory {
  const sessions = new Map<string, AviSession>();
  const avi = new Map<string, AviLoadBalancer>();
  const octavia = new Map<string, OctaviaLoadBalancer>();
  return (spec) => {
    const b = balancerOf(spec);
    switch (b.kind) {
      case 'haproxy':
        return new HaproxyLoadBalancer(b.spec.socket, b.spec.backend);
      case 'avi': {
        const s = b.spec;
        const sessionKey = JSON.stringify([s.controller, s.credentialRef, s.tenant, s.version, s.insecure, s.caFile, s.thumbprint]);
        let session = sessions.get(sessionKey);
        if (!session) {
          session = new AviSession(s, credentials(s.credentialRef), undefined, loginGate);
          sessions.set(sessionKey, session);
        }
        const poolKey = JSON.stringify([sessionKey, s.pool, s.drainMetricStep]);
        let lb = avi.get(poolKey);
        if (!lb) {
          lb = new AviLoadBalancer(session, s);
          avi.set(poolKey, lb);
        }
        return lb;
      }
      case 'octavia': {
        const s = b.spec;
        // The spec's parser fills the connection from compute.openstack; a spec kept by an older run may lack it.
        if (!s.authUrl || !s.credentialRef) throw permanent('InvalidSpec', `loadBalancer.octavia for pool "${s.pool}" names no Keystone (authUrl, credentialRef) and the cluster has no compute.openstack`);
        const cloud = Object.fromEntries(OPENSTACK_CLOUD_KEYS.map((k) => [k, s[k]])) as OpenstackCloudSpec;
        const session = keystone.get(cloud);
        const poolKey = JSON.stringify([cloud, s.pool, s.subnet]);
        let lb = octavia.get(poolKey);
        if (!lb) {
          lb = new OctaviaLoadBalancer(session, s);
          octavia.set(poolKey, lb);
        }
        return lb;
      }
    }
  };
}
