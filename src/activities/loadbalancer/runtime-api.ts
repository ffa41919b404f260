// HAProxy's Runtime API over a UNIX or TCP socket: one connection per command, as in non-interactive mode.
import net from 'node:net';
import { cancellationSignal, throwIfCancelled } from '../cancellation';

export class RuntimeApiError extends Error {
  constructor(
    readonly command: string,
    readonly answer: string,
  ) {
    super(`HAProxy refused "${command}": ${answer.trim() || '(empty answer)'}`);
    this.name = 'RuntimeApiError';
  }
}

/** `socket` is a UNIX socket path or tcp://host:port. */
export function connectOptions(socket: string): net.NetConnectOpts {
  const m = /^tcp:\/\/([^:]+|\[[^\]]+\]):(\d+)$/.exec(socket);
  if (m) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  return { path: socket };
}

/**
 * HAProxy serves at most 10 connections on a stats socket unless `stats maxconn` says otherwise, and a UNIX socket
 * whose backlog is full refuses at once (EAGAIN). Many clusters share one balancer, so this process keeps at most
 * this many commands in flight per socket and queues the rest.
 */
export const MAX_IN_FLIGHT_PER_SOCKET = 8;

class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const gates = new Map<string, Gate>();
const gateFor = (socket: string) => gates.get(socket) ?? gates.set(socket, new Gate(MAX_IN_FLIGHT_PER_SOCKET)).get(socket)!;

/** Refusals that mean "busy, try again" rather than "not there": another process may hold the socket's slots. */
const BUSY = new Set(['EAGAIN', 'EWOULDBLOCK']);

function once(socket: string, command: string, timeoutMs: number): Promise<string> {
  const signal = cancellationSignal();
  throwIfCancelled(signal);
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(connectOptions(socket));
    const onAbort = () => conn.destroy(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    conn.on('close', () => signal?.removeEventListener('abort', onAbort));
    const chunks: Buffer[] = [];
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error(`HAProxy runtime API at ${socket}: no answer to "${command}" within ${timeoutMs} ms`)));
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      const e = err.code ? Object.assign(new Error(`HAProxy runtime API at ${socket}: ${err.code} (${err.message})`), { code: err.code }) : err;
      reject(e);
    });
    conn.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** How the HAProxy adapter talks to a runtime socket: `shared` reads may join an identical one in flight. */
export type RuntimeTransport = (socket: string, command: string, opts: { shared?: boolean }) => Promise<string>;

export const socketTransport: RuntimeTransport = (socket, command, opts) => (opts.shared ? sharedRead(socket, command) : runtimeCommand(socket, command));

export async function runtimeCommand(socket: string, command: string, timeoutMs = 10_000): Promise<string> {
  return gateFor(socket).run(async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(socket, command, timeoutMs);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!code || !BUSY.has(code) || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  });
}

const inFlightReads = new Map<string, Promise<string>>();

/**
 * A read-only command (`show stat`, ...): callers that ask while the same command is already on its way to the
 * same socket share its answer, which is at most one round trip older than their own would be. With many clusters
 * on one balancer this turns a burst of identical reads into one.
 */
export function sharedRead(socket: string, command: string, timeoutMs = 10_000): Promise<string> {
  const key = `${socket}\n${command}`;
  const pending = inFlightReads.get(key);
  if (pending) return pending;
  const p = runtimeCommand(socket, command, timeoutMs).finally(() => inFlightReads.delete(key));
  inFlightReads.set(key, p);
  return p;
}

/** Parses `show stat` CSV into rows keyed by column name. */
export function parseStatCsv(csv: string): Record<string, string>[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header?.startsWith('# ')) return [];
  const cols = header.slice(2).split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const row: Record<string, string> = {};
    cols.forEach((c, i) => {
      if (c) row[c] = cells[i] ?? '';
    });
    return row;
  });
}
