// Where Temporal is, from the standard client settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS,
// profiles), and what a failure to reach it means; used by the client, the worker and the CLI. It never looks for a
// lab: a lab's address is passed in explicitly. Apart from the connections themselves (connection.ts for the client,
// worker/connect.ts for the worker) so that reading a target loads neither SDK.
import { loadClientConnectConfig } from '@temporalio/envconfig';

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
