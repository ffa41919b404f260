// Connects the Temporal client to a target (target.ts), saying in one line why it cannot.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { connectProblem, temporalTarget, type TemporalTarget } from './target';

const unreachable = (target: TemporalTarget) => (err: Error) => {
  throw new Error(`cannot reach Temporal at ${target.address}: ${connectProblem(err, target).reason} (${target.source ?? 'given'})`, { cause: err });
};

/**
 * Whether the address's host name resolves: the SDK retries a name that does not until its connect timeout, and then
 * reports a timeout; a lookup first says what is wrong at once. Undefined when it resolves (or is an address).
 */
async function unresolvedName(address: string): Promise<string | undefined> {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return undefined;
  try {
    await lookup(host);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' ? host : undefined;
  }
}

export async function connectClient(target: TemporalTarget = temporalTarget()): Promise<Client> {
  const host = await unresolvedName(target.address);
  if (host) throw new Error(`cannot reach Temporal at ${target.address}: the name ${host} does not resolve (${target.source ?? 'given'})`);
  const connection = await Connection.connect({ ...target.options, address: target.address } as Parameters<typeof Connection.connect>[0]).catch(unreachable(target));
  return new Client({ connection, namespace: target.namespace });
}
