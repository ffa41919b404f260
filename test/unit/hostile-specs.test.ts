// Hostile and broken spec files: `cluster apply -f` and `cluster validate -f` refuse each with one message naming what is wrong, exit 2, and
// contacts nothing (a Temporal address that counts connections must see none); the checks run before any parsing
// that a file's size or nesting could make expensive.
import { useCliHarness } from './cli-harness';
import { readFileSync, writeFileSync, mkdtempSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { main } from '../../src/cli/index';
import { PROJECT_ROOT } from '../../src/config/settings';
import { structureProblem } from '../../src/config/limits';
import { hostileTexts, hostileValues, nestedValue } from '../hostile-specs';

const cli = useCliHarness();
const out = cli.out;
const dir = mkdtempSync(path.join(tmpdir(), 'pp-hostile-'));
const valid = YAML.parse(readFileSync(path.join(PROJECT_ROOT, 'examples', 'web.yaml'), 'utf8')) as Record<string, unknown>;

let n = 0;
async function apply(text: string, verb: 'apply' | 'validate' = 'apply'): Promise<number> {
  const file = path.join(dir, `spec-${++n}.yaml`);
  writeFileSync(file, text);
  return main(['cluster', verb, '-f', file]);
}

const cases: [string, string, RegExp][] = [
  ...hostileTexts(valid),
  ...hostileValues(valid).map(([name, value, message]): [string, string, RegExp] => [name, JSON.stringify(value), message]),
];
const verbs = ['apply', 'validate'] as const;
test.each(cases.flatMap(([name, text, message]) => verbs.map((verb): [string, (typeof verbs)[number], string, RegExp] => [name, verb, text, message])))('%s: cluster %s refuses it in one message naming it, exit 2, nothing contacted', async (_name, verb, text, message) => {
  expect(await apply(text, verb)).toBe(2);
  const said = out.join('');
  expect(said).toMatch(/(invalid|cannot read the) cluster spec .*spec-\d+\.yaml/);
  expect(said).toMatch(message);
  expect(said).not.toMatch(/Maximum call stack|at .*\.js:\d+/);
  expect(cli.connections()).toBe(0);
});

test('a 10 MB file is refused by its size, without being read', async () => {
  const file = path.join(dir, 'huge.yaml');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, 10 << 20);
  closeSync(fd);
  expect(await main(['cluster', 'apply', '-f', file])).toBe(2);
  expect(out.join('')).toMatch(/huge\.yaml:\n\s+- 10485760 bytes, over the limit of 1048576 \(a spec is a few kilobytes\)/);
  expect(cli.connections()).toBe(0);
});

test('a missing file and a folder are named as such', async () => {
  expect(await main(['cluster', 'apply', '-f', path.join(dir, 'nope.yaml')])).toBe(2);
  expect(out.join('')).toMatch(/cannot read the cluster spec .*nope\.yaml: no such file/);
  out.length = 0;
  expect(await main(['cluster', 'apply', '-f', dir])).toBe(2);
  expect(out.join('')).toMatch(/is a folder, not a file/);
});

test('the structure check measures without recursion and names the place', () => {
  expect(structureProblem(nestedValue(1_000_000))).toBe(`${Array.from({ length: 32 }, () => 'a').join('.')}: nested more than 32 levels deep`);
  expect(structureProblem(valid)).toBeUndefined();
  expect(structureProblem({ a: [1, 2, 3] }, { depth: 1, nodes: 100, stringLength: 10 })).toBe('a: nested more than 1 levels deep');
  expect(structureProblem(Array.from({ length: 101 }, () => 0), { depth: 5, nodes: 100, stringLength: 10 })).toBe('more than 100 values in all: a spec is far smaller');
});
