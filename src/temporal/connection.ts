// Connects to Temporal from the standard client settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS,
// profiles); used by both the client and the worker. It never looks for a lab: a lab's address is passed in explicitly.
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

export interface TemporalTarget {
  address: string;
  namespace: string;
  options: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

/** The target from the environment (envconfig), with `address` / `namespace` given explicitly winning. */
export function temporalTarget(over: { address?: string; namespace?: string } = {}, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const cfg = loadClientConnectConfig({ overrideEnvVars: vars });
  const address = over.address ?? cfg.connectionOptions.address ?? 'localhost:7233';
  return { address, namespace: over.namespace ?? cfg.namespace ?? 'default', options: { ...cfg.connectionOptions, address } };
}

const unreachable = (target: TemporalTarget) => (err: Error) => {
  throw new Error(`cannot reach Temporal at ${target.address}: ${err.message} (set TEMPORAL_ADDRESS, or pass --lab to use the local lab)`);
};

export async function connectClient(target: TemporalTarget = temporalTarget()): Promise<Client> {
  const connection = await Connection.connect({ ...target.options, address: target.address } as Parameters<typeof Connection.connect>[0]).catch(unreachable(target));
  return new Client({ connection, namespace: target.namespace });
}

export async function connectWorker(target: TemporalTarget = temporalTarget()): Promise<NativeConnection> {
  return NativeConnection.connect({ ...target.options, address: target.address }).catch(unreachable(target));
}
