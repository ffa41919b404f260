// The API's named tokens and their roles, read from a file (POOLPILOT_API_TOKENS_FILE). Only a token's SHA-256 is
// stored: tokens are 32 random bytes made by `poolpilot api token create`, so a slow password hash buys nothing.
//
//   tokens:
//     - name: team-web            # shown in the cluster's history and decision log for every request it makes
//       sha256: 9f86d08188…       # 64 hex digits: the SHA-256 of the token
//       grants:
//         - { clusters: "web-*", role: operator }
//         - { clusters: "*", role: viewer }
//
// A token's role on a cluster is the highest of its grants whose pattern matches the cluster's name.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import picomatch from 'picomatch';
import YAML from 'yaml';
import { z } from 'zod';
import { WrongRequestError } from './wrong-request';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs: read (viewer), operate (scale, pause, resume, hooks, alarms: operator), admin (apply, delete). */
export type Right = 'read' | 'operate' | 'admin';
const NEEDS: Record<Right, Role> = { read: 'viewer', operate: 'operator', admin: 'admin' };

const grantSchema = z.strictObject({
  clusters: z.string().min(1, 'a cluster name or glob pattern such as "web-*"'),
  role: z.enum(ROLES),
});

const tokenSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the token, 64 lower-case hex digits (poolpilot api token create writes it)'),
  grants: z.array(grantSchema).min(1, 'at least one grant'),
});

export const tokensFileSchema = z.strictObject({ tokens: z.array(tokenSchema) }).superRefine((f, ctx) => {
  const seen = new Set<string>();
  f.tokens.forEach((t, i) => {
    if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `two tokens are named "${t.name}"` });
    seen.add(t.name);
  });
});

export type TokenEntry = z.infer<typeof tokenSchema>;

export class TokensFileError extends WrongRequestError {
  override name = 'TokensFileError';
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** A token's identity: its name and what it may do. */
export interface Principal {
  name: string;
  /** The role it has on `cluster`, or undefined. */
  roleOn(cluster: string): Role | undefined;
  /** True when the role on `cluster` is enough for `right`. */
  may(right: Right, cluster: string): boolean;
}

function principal(entry: Pick<TokenEntry, 'name' | 'grants'>): Principal {
  const grants = entry.grants.map((g) => ({ match: picomatch(g.clusters, { dot: true }), rank: ROLES.indexOf(g.role) }));
  const roleOn = (cluster: string): Role | undefined => {
    const best = Math.max(-1, ...grants.filter((g) => g.match(cluster)).map((g) => g.rank));
    return best < 0 ? undefined : ROLES[best];
  };
  return {
    name: entry.name,
    roleOn,
    may: (right, cluster) => {
      const r = roleOn(cluster);
      return r !== undefined && ROLES.indexOf(r) >= ROLES.indexOf(NEEDS[right]);
    },
  };
}

/** The tokens a server accepts. `identify` compares the given token's hash with every stored one in constant time. */
export class TokenRegistry {
  private readonly entries: { hash: Buffer; who: Principal }[];

  constructor(entries: Pick<TokenEntry, 'name' | 'sha256' | 'grants'>[]) {
    this.entries = entries.map((e) => ({ hash: Buffer.from(e.sha256, 'hex'), who: principal(e) }));
  }

  get size(): number {
    return this.entries.length;
  }

  identify(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    const h = hashToken(token);
    let found: Principal | undefined;
    // Every entry is compared, so the time taken does not tell which entry matched or how far the search went.
    for (const e of this.entries) if (timingSafeEqual(h, e.hash) && !found) found = e.who;
    return found;
  }

  /** One admin token on every cluster, named `name`: the single POOLPILOT_API_TOKEN of earlier versions. */
  static single(token: string, name = 'api-token'): TokenRegistry {
    return new TokenRegistry([{ name, sha256: hashToken(token).toString('hex'), grants: [{ clusters: '*', role: 'admin' }] }]);
  }
}

function readTokensFile(file: string): z.infer<typeof tokensFileSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TokensFileError(`cannot read the tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new TokensFileError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = tokensFileSchema.safeParse(raw ?? { tokens: [] });
  if (!r.success) throw new TokensFileError(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function loadTokens(file: string): TokenRegistry {
  return new TokenRegistry(readTokensFile(file).tokens);
}

/**
 * Makes a new token, adds its hash and grants to `file` (created if missing) and returns the token: the only time it
 * is ever shown. `grants` are "PATTERN=ROLE".
 */
export function createToken(file: string, name: string, grants: string[]): string {
  const current = existsSync(file) ? readTokensFile(file) : { tokens: [] };
  if (current.tokens.some((t) => t.name === name)) throw new TokensFileError(`${file} already has a token named "${name}"`);
  const token = `pp_${randomBytes(32).toString('base64url')}`;
  const parsed = grants.map((g) => {
    const m = /^(.+)=(viewer|operator|admin)$/.exec(g);
    if (!m) throw new TokensFileError(`--grant must be PATTERN=ROLE with ROLE one of ${ROLES.join(', ')}, not "${g}"`);
    return { clusters: m[1]!, role: m[2] as Role };
  });
  const entry = { name, sha256: hashToken(token).toString('hex'), grants: parsed };
  const r = tokensFileSchema.safeParse({ tokens: [...current.tokens, entry] });
  if (!r.success) throw new TokensFileError(r.error.issues.map((i) => `${i.path.slice(2).join('.') || 'token'}: ${i.message}`).join('; '));
  writeFileSync(file, YAML.stringify(r.data), { mode: 0o600 });
  return token;
}
