// TLS for the controllers poolpilot calls (vCenter, NSX ALB): one HTTPS helper trusts a pinned certificate thumbprint,
// a CA file, or (labs only) anything. Checked against vcsim's real self-signed certificate.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { endpoint, request } from '../../src/activities/http';
import { lab } from './harness';

let url: URL;
let der: Buffer;
const colons = (hex: string) => hex.match(/../g)!.join(':').toUpperCase();

beforeAll(async () => {
  url = new URL(lab().vsphereUrl);
  der = await new Promise<Buffer>((resolve, reject) => {
    const s = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().raw);
      s.end();
    });
    s.on('error', reject);
  });
});

const get = (opts: Parameters<typeof endpoint>[1]) => request(endpoint(url.href, opts, 5000), { method: 'GET', path: '/about', what: 'GET /about' });

test('a pinned SHA-256 or SHA-1 thumbprint of the certificate is trusted', async () => {
  await expect(get({ thumbprint: colons(createHash('sha256').update(der).digest('hex')) })).resolves.toMatchObject({ status: expect.any(Number) });
  await expect(get({ thumbprint: colons(createHash('sha1').update(der).digest('hex')) })).resolves.toMatchObject({ status: expect.any(Number) });
});

test('another thumbprint is refused, naming the one it saw', async () => {
  await expect(get({ thumbprint: colons('ab'.repeat(32)) })).rejects.toThrow(/certificate thumbprint [0-9a-f]{64} does not match the pinned one/);
});

test('without a pin or CA, a self-signed certificate is refused; with it as the CA file, or insecure, it is trusted', async () => {
  await expect(get({})).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const caFile = path.join(path.dirname(lab().credentialsFile), 'vcsim-ca.pem');
  writeFileSync(caFile, pem);
  // vcsim's certificate names 127.0.0.1, so with it as the CA both the chain and the name check pass.
  await expect(get({ caFile })).resolves.toMatchObject({ status: 200 });
  await expect(get({ insecure: true })).resolves.toMatchObject({ status: expect.any(Number) });
});
