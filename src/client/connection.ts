// Connects to Temporal from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles), else the lab.
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { endpoints, readLabState } from '../config/lab-state';
import { loadSettings } from '../config/settings';

export interface TemporalTarget {
  address: string;
  namespace: string;
  options: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

/** Explicit settings win; without TEMPORAL_ADDRESS, a running lab's server is used. */
export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const cfg = loadClientConnectConfig();
  let address = cfg.connectionOptions.address;
  if (!env.TEMPORAL_ADDRESS && !env.TEMPORAL_PROFILE) {
    const lab = readLabState(loadSettings(env).POOLPILOT_LAB_DIR);
    if (lab) address = endpoints(lab).temporalAddress;
  }
  address ??= 'localhost:7233';
  return { address, namespace: cfg.namespace ?? 'default', options: { ...cfg.connectionOptions, address } };
}

export async function connectClient(target: TemporalTarget = temporalTarget()): Promise<Client> {
  const connection = await Connection.connect({ ...target.options, address: target.address } as Parameters<typeof Connection.connect>[0]).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${target.address}: ${err.message} (start the lab with "poolpilot lab up" or set TEMPORAL_ADDRESS)`);
  });
  return new Client({ connection, namespace: target.namespace });
}

export async function connectWorker(target: TemporalTarget = temporalTarget()): Promise<NativeConnection> {
  return NativeConnection.connect({ ...target.options, address: target.address }).catch((err: Error) => {
    throw new Error(`cannot reach Temporal at ${target.address}: ${err.message} (start the lab with "poolpilot lab up" or set TEMPORAL_ADDRESS)`);
  });
}
