// HTTP(S) for the adapters that speak to a controller (vSphere's SOAP, NSX ALB's REST): a keep-alive agent that trusts a
// CA file or a pinned certificate thumbprint, and one request function that honours timeouts and cancellation.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface TlsOptions {
  /** Accept any certificate. For labs only. */
  insecure?: boolean;
  /** PEM bundle of CAs to trust. */
  caFile?: string;
  /** SHA-1 or SHA-256 thumbprint of the endpoint's certificate (AA:BB:... or plain hex). */
  thumbprint?: string;
}

export interface Endpoint {
  url: URL;
  agent: http.Agent;
  /** Lower-case hex without colons, when pinned. */
  thumbprint?: string;
  timeoutMs: number;
}

export function endpoint(url: string, tls: TlsOptions, timeoutMs: number): Endpoint {
  const u = new URL(url);
  const thumbprint = tls.thumbprint?.replace(/:/g, '').toLowerCase();
  const agent =
    u.protocol === 'https:'
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 16,
          // A pinned thumbprint replaces CA verification: the certificate is checked against it on every connection.
          rejectUnauthorized: !tls.insecure && !thumbprint,
          ca: tls.caFile ? readFileSync(tls.caFile) : undefined,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
  return { url: u, agent, thumbprint, timeoutMs };
}

export interface HttpRequest {
  method: string;
  /** Path and query under the endpoint's origin; default the endpoint's own path. */
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Names the call in errors. */
  what: string;
}

export interface HttpReply {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

export function request(ep: Endpoint, req: HttpRequest): Promise<HttpReply> {
  const lib = ep.url.protocol === 'https:' ? https : http;
  const target = req.path ? new URL(req.path, ep.url) : ep.url;
  return new Promise((resolve, reject) => {
    const r = lib.request(target, { method: req.method, agent: ep.agent, timeout: ep.timeoutMs, signal: req.signal, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    const pinned = ep.thumbprint;
    if (pinned) {
      r.on('socket', (socket) => {
        socket.once('secureConnect', () => {
          const raw = (socket as TLSSocket).getPeerCertificate()?.raw;
          const got = raw ? createHash(pinned.length === 40 ? 'sha1' : 'sha256').update(raw).digest('hex') : '';
          if (got !== pinned) r.destroy(new Error(`${ep.url.host}: certificate thumbprint ${got || '(none)'} does not match the pinned one`));
        });
      });
    }
    r.on('timeout', () => r.destroy(new Error(`${req.what}: no answer from ${ep.url.host} within ${ep.timeoutMs} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}
