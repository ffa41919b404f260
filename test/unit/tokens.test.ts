// Named API tokens: roles per cluster pattern, hashed storage, constant-time lookup, and the file's errors.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { createToken, hashToken, loadTokens, TokenRegistry, TokensFileError } from '../../src/config/tokens';

const sha = (t: string) => hashToken(t).toString('hex');
const registry = new TokenRegistry([
  { name: 'root', sha256: sha('root-token'), grants: [{ clusters: '*', role: 'admin' }] },
  { name: 'team-web', sha256: sha('web-token'), grants: [{ clusters: 'web-*', role: 'operator' }, { clusters: '*', role: 'viewer' }] },
  { name: 'web-admin', sha256: sha('webadm-token'), grants: [{ clusters: 'web-prod', role: 'admin' }, { clusters: 'web-?', role: 'viewer' }] },
]);

test.each([
  // token, right, cluster, allowed
  ['root-token', 'admin', 'anything', true],
  ['web-token', 'read', 'db-1', true],
  ['web-token', 'operate', 'db-1', false],
  ['web-token', 'operate', 'web-prod', true],
  ['web-token', 'admin', 'web-prod', false],
  ['webadm-token', 'admin', 'web-prod', true],
  ['webadm-token', 'operate', 'web-prod', true],
  ['webadm-token', 'read', 'web-a', true],
  ['webadm-token', 'read', 'web-ab', false],
  ['webadm-token', 'read', 'db-1', false],
] as const)('%s may %s on %s: %s', (token, right, cluster, allowed) => {
  expect(registry.identify(token)!.may(right, cluster)).toBe(allowed);
});

test('the highest matching grant is the role; unknown and missing tokens identify nobody', () => {
  expect(registry.identify('web-token')!.roleOn('web-x')).toBe('operator');
  expect(registry.identify('web-token')!.roleOn('db')).toBe('viewer');
  expect(registry.identify('webadm-token')!.roleOn('db')).toBeUndefined();
  expect(registry.identify('wrong')).toBeUndefined();
  expect(registry.identify('')).toBeUndefined();
  expect(registry.identify(undefined)).toBeUndefined();
  expect(registry.identify('root-token')!.name).toBe('root');
});

test('POOLPILOT_API_TOKEN of earlier versions is one admin token named api-token', () => {
  const r = TokenRegistry.single('old-single-token');
  expect(r.identify('old-single-token')!.name).toBe('api-token');
  expect(r.identify('old-single-token')!.may('admin', 'any')).toBe(true);
});

test('token create writes only the hash, mode 600, and the token it prints is accepted', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pp-tokens-'));
  const file = path.join(dir, 'tokens.yaml');
  const token = createToken(file, 'team-web', ['web-*=operator', '*=viewer']);
  expect(token).toMatch(/^pp_[A-Za-z0-9_-]{43}$/);
  const text = readFileSync(file, 'utf8');
  expect(text).not.toContain(token);
  expect(YAML.parse(text)).toEqual({ tokens: [{ name: 'team-web', sha256: sha(token), grants: [{ clusters: 'web-*', role: 'operator' }, { clusters: '*', role: 'viewer' }] }] });
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const loaded = loadTokens(file);
  expect(loaded.identify(token)!.may('operate', 'web-1')).toBe(true);
  expect(() => createToken(file, 'team-web', ['*=viewer'])).toThrow(/already has a token named "team-web"/);
  expect(() => createToken(file, 'x', ['web-*=owner'])).toThrow(/--grant must be PATTERN=ROLE/);
  // A failed create changes nothing.
  expect(readFileSync(file, 'utf8')).toBe(text);
});

test.each([
  ['not YAML', 'tokens: [', /tokens\.yaml: /],
  ['a plain-text token', 'tokens:\n  - name: a\n    token: secret\n    grants: [{clusters: "*", role: admin}]', /tokens\.0: .*token/],
  ['a bad hash', 'tokens:\n  - name: a\n    sha256: abc\n    grants: [{clusters: "*", role: admin}]', /tokens\.0\.sha256: the SHA-256 of the token/],
  ['an unknown role', `tokens:\n  - name: a\n    sha256: ${'a'.repeat(64)}\n    grants: [{clusters: "*", role: owner}]`, /tokens\.0\.grants\.0\.role/],
  ['no grants', `tokens:\n  - name: a\n    sha256: ${'a'.repeat(64)}\n    grants: []`, /tokens\.0\.grants: at least one grant/],
  ['two of one name', `tokens:\n  - {name: a, sha256: ${'a'.repeat(64)}, grants: [{clusters: "*", role: admin}]}\n  - {name: a, sha256: ${'b'.repeat(64)}, grants: [{clusters: "*", role: viewer}]}`, /tokens\.1\.name: two tokens are named "a"/],
])('a tokens file with %s is refused with one message naming the field', (_what, text, message) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pp-tokens-'));
  const file = path.join(dir, 'tokens.yaml');
  writeFileSync(file, text);
  expect(() => loadTokens(file)).toThrow(TokensFileError);
  expect(() => loadTokens(file)).toThrow(message);
});
