// HAProxy's Runtime API over a UNIX or TCP socket: one connection per command, as in non-interactive mode.
import net from 'node:net';

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

export function runtimeCommand(socket: string, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(connectOptions(socket));
    const chunks: Buffer[] = [];
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error(`HAProxy runtime API at ${socket}: no answer to "${command}" within ${timeoutMs} ms`)));
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code ? new Error(`HAProxy runtime API at ${socket}: ${err.code} (${err.message})`) : err),
    );
    conn.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
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
