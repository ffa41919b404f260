// The running activity's cancellation signal, for the adapters' transports: an activity that Temporal cancels (its
// run was cancelled, or its heartbeat timed out on a worker that lives on) stops its SOAP, socket or HTTP call at once.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the cancellation signal of every adapter call it makes. */
export function withCancellation<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return current.run(signal, fn);
}

/** The signal of the activity this call runs in, if any. */
export function cancellationSignal(): AbortSignal | undefined {
  return current.getStore();
}

/** Throws the signal's reason if it has fired. */
export function throwIfCancelled(signal = cancellationSignal()): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}

/** A timeout signal joined with the activity's cancellation, for fetch-like calls. */
export function deadline(timeoutMs: number): AbortSignal {
  const own = cancellationSignal();
  const timeout = AbortSignal.timeout(timeoutMs);
  return own ? AbortSignal.any([own, timeout]) : timeout;
}

/** setTimeout as a promise that the activity's cancellation ends at once (adapters that poll a cloud between calls). */
export function sleepCancellable(ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const signal = cancellationSignal();
    const onAbort = () => (clearTimeout(t), reject(signal!.reason instanceof Error ? signal!.reason : new Error('cancelled')));
    // The listener goes with the timer: a poll that sleeps a thousand times must not pile them up on the signal.
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
