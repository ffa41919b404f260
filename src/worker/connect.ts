// The worker's connection to Temporal: patient, since a fleet's workers often start before their server.
import { NativeConnection } from '@temporalio/worker';
import { connectProblem, type ConnectProblem, type TemporalTarget } from '../temporal/target';

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
