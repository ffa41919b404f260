// Connects to Temporal from the standard client settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS,
// profiles); used by both the client and the worker. It never looks for a lab: a lab's address is passed in explicitly.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

export interface TemporalTarget {
  address: string;
  /** Where the address came from, for messages: "TEMPORAL_ADDRESS is …", "the lab's", the default. */
  source?: string;
  namespace: string;
  options: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

/** The target from the environment (envconfig), with `address` / `namespace` given explicitly winning. */
export function temporalTarget(over: { address?: string; namespace?: string; source?: string } = {}, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const cfg = loadClientConnectConfig({ overrideEnvVars: vars });
  const address = over.address ?? cfg.connectionOptions.address ?? 'localhost:7233';
  // Where the address came from, so that a failure to reach it says what to change.
  const source = over.address
    ? (over.source ?? 'given')
    : env.TEMPORAL_ADDRESS
      ? `TEMPORAL_ADDRESS is ${env.TEMPORAL_ADDRESS}`
      : cfg.connectionOptions.address
        ? `from the Temporal config file's ${env.TEMPORAL_PROFILE ?? 'default'} profile`
        : 'the default; set TEMPORAL_ADDRESS, or pass --lab to use the local lab';
  return { address, namespace: over.namespace ?? cfg.namespace ?? 'default', options: { ...cfg.connectionOptions, address }, source };
}

/** Why a connection to Temporal failed, in words, and whether trying again can help. */
export interface ConnectProblem {
  reason: string;
  /** Bad TLS or an unknown namespace: no retry mends it. */
  permanent: boolean;
}

/** Reads the SDK's (Rust) connection errors: the kind of fault, never the debug structure. */
export function connectProblem(err: unknown, target: Pick<TemporalTarget, 'address' | 'namespace'>): ConnectProblem {
  const text = err instanceof Error ? err.message : String(err);
  const host = target.address.replace(/:\d+$/, '');
  if (/Namespace \S+ (is not found|was not found)/i.test(text)) return { reason: `namespace "${target.namespace}" does not exist on ${target.address} (TEMPORAL_NAMESPACE)`, permanent: true };
  if (/InvalidContentType|InvalidCertificate|UnknownIssuer|certificate|handshake|tls/i.test(text))
    return { reason: `TLS with ${target.address} failed: the server does not speak TLS, or its certificate is not trusted (TEMPORAL_TLS*, TEMPORAL_API_KEY)`, permanent: true };
  if (/Connection refused/i.test(text)) return { reason: 'connection refused: nothing listens there yet', permanent: false };
  if (/dns error|failed to lookup address|Name or service not known/i.test(text)) return { reason: `the name ${host} does not resolve`, permanent: false };
  if (/timed out|deadline/i.test(text)) return { reason: 'no answer: the connection timed out', permanent: false };
  // Anything else: the innermost quoted message of the structure, or its first line.
  const quoted = [...text.matchAll(/(?:message|error): "([^"]+)"/g)].map((m) => m[1]!);
  return { reason: quoted[quoted.length - 1] ?? text.split('\n')[0]!, permanent: false };
}

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


/**
 * Connects the worker, and keeps trying with backoff (1 s doubling to 30 s) while Temporal is unreachable: a fleet's
 * workers often start before their server. A permanent problem (bad TLS, an unknown namespace) is thrown at once.
 * `ready` runs once connected (creating the worker checks the namespace) and is retried the same way.
 */
export async function connectWorkerPatiently<T>(
  target: TemporalTarget,
  ready: (c: NativeConnection) => Promise<T>,
  onRetry: (p: ConnectProblem & { attempt: number; retryInMs: number }) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<{ connection: NativeConnection; value: T }> {
  for (let attempt = 1; ; attempt++) {
    let connection: NativeConnection | undefined;
    try {
      connection = await NativeConnection.connect({ ...target.options, address: target.address });
      // The namespace first, so an unknown one is one clear line rather than the worker's own warnings.
      await connection.workflowService.describeNamespace({ namespace: target.namespace });
      return { connection, value: await ready(connection) };
    } catch (err) {
      await connection?.close().catch(() => undefined);
      const p = connectProblem(err, target);
      if (p.permanent) throw new Error(`cannot use Temporal at ${target.address}: ${p.reason}`, { cause: err });
      const retryInMs = Math.min(30_000, 1000 * 2 ** Math.min(attempt - 1, 5));
      onRetry({ ...p, attempt, retryInMs });
      await sleep(retryInMs);
    }
  }
}
