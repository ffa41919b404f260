// Picks the balancer a spec names. A new balancer is one provider file, its spec schema, and one case here.
import { balancerOf, type LegacyBalancerSpec } from '../../config/balancer';
import type { LoadBalancerSpec } from '../../config/spec';
import type { CredentialResolver } from '../credentials';
import type { LoginGate } from '../login-gate';
import { AviLoadBalancer, AviSession } from './avi';
import { HaproxyLoadBalancer } from './haproxy';
import type { LoadBalancer } from './provider';

export type BalancerFactory = (spec: LoadBalancerSpec | LegacyBalancerSpec) => LoadBalancer;

/** A factory that keeps one controller session per controller, user, tenant and version, and one adapter per pool. */
export function balancers(credentials: CredentialResolver, loginGate?: LoginGate): BalancerFactory {
  const sessions = new Map<string, AviSession>();
  const avi = new Map<string, AviLoadBalancer>();
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
    }
  };
}
