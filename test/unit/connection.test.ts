// The worker's connection errors in words: the SDK's Rust error structures (as recorded from its replies on this
// machine) become one reason each, and only bad TLS or an unknown namespace is final.
import { connectProblem } from '../../src/temporal/target';

const target = { address: 'temporal.internal:7233', namespace: 'prod' };
const recorded: [string, string, string, boolean][] = [
  [
    'nothing listens',
    'tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))',
    'connection refused: nothing listens there yet',
    false,
  ],
  [
    'a name that does not resolve',
    'tonic::transport::Error(Transport, ConnectError(ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to lookup address information: Name or service not known" })))',
    'the name temporal.internal does not resolve',
    false,
  ],
  [
    'TLS against a plain server',
    'tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidMessage(InvalidContentType) }))',
    'TLS with temporal.internal:7233 failed: the server does not speak TLS, or its certificate is not trusted (TEMPORAL_TLS*, TEMPORAL_API_KEY)',
    true,
  ],
  ['an unknown namespace', '5 NOT_FOUND: Namespace prod is not found.', 'namespace "prod" does not exist on temporal.internal:7233 (TEMPORAL_NAMESPACE)', true],
  ['no answer', 'tonic::transport::Error(Transport, ConnectError(Elapsed)) : operation timed out', 'no answer: the connection timed out', false],
  ['anything else: its innermost message', 'Status { code: Unavailable, message: "upstream connect error", source: None }', 'upstream connect error', false],
];
test.each(recorded)('%s', (_name, raw, reason, permanent) => {
  expect(connectProblem(new Error(raw), target)).toEqual({ reason, permanent });
});
