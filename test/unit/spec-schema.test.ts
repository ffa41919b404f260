// The spec's JSON Schema (for editors) is generated from the zod schema: the committed copy is current, every example
// passes it, and it refuses what zod refuses, save the rules that tie fields together (zod's alone, named here).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../../src/config/settings';
import { parseClusterSpec } from '../../src/config/spec';
import { SPEC_JSON_SCHEMA_FILE, specJsonSchema, specJsonSchemaText } from '../../src/config/spec-json-schema';
import { hostileValues } from '../hostile-specs';
import { EXAMPLES_DIR, specExamples } from '../examples';

const ajv = new Ajv2020({ strict: false });
addFormats(ajv);
const validate = ajv.compile(specJsonSchema());
const examplesDir = EXAMPLES_DIR;
const examples = specExamples();

test(`the committed ${SPEC_JSON_SCHEMA_FILE} is the one the zod schema generates (poolpilot schema -o … writes it)`, () => {
  expect(readFileSync(path.join(PROJECT_ROOT, SPEC_JSON_SCHEMA_FILE), 'utf8')).toBe(specJsonSchemaText());
});

test.each(examples.map((f) => [f]))('examples/%s passes the JSON Schema and points editors at it', (f) => {
  const text = readFileSync(path.join(examplesDir, f), 'utf8');
  const valid = validate(YAML.parse(text));
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
  const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
  expect(line).not.toBeNull();
  expect(path.resolve(path.dirname(path.join(examplesDir, f)), line![1]!)).toBe(path.join(PROJECT_ROOT, SPEC_JSON_SCHEMA_FILE));
});

// Rules zod checks across fields or by size, which a JSON Schema cannot say (or an editor should not try to).
const ZOD_ONLY = new Set([
  'max below min',
  'a backoff above its cap',
  'placement by hosts and by cluster at once',
  'an address range backwards',
  'a stored spec and an address pool at once',
  'an empty customization',
  'customization in both spellings',
]);
const valid = YAML.parse(readFileSync(path.join(examplesDir, 'web.yaml'), 'utf8')) as Record<string, unknown>;
test.each(hostileValues(valid).filter(([n]) => !ZOD_ONLY.has(n)))('%s: refused by the JSON Schema as by zod', (_n, value) => {
  expect(() => parseClusterSpec(value)).toThrow();
  expect(validate(value)).toBe(false);
});

test.each(hostileValues(valid).filter(([n]) => ZOD_ONLY.has(n)))('%s: a rule zod alone checks (cluster validate)', (_n, value) => {
  expect(() => parseClusterSpec(value)).toThrow();
  expect(validate(value)).toBe(true);
});
