// Reads cluster specs (YAML or JSON) for the CLI and the API; workflows never import this.
import { readFileSync, statSync } from 'node:fs';
import YAML, { type YAMLError } from 'yaml';
import { SPEC_LIMITS } from './limits';
import { fileProblem } from './file-problem';
import { parseClusterSpec, SpecError, type ClusterSpec } from './spec';

/**
 * The spec as written and as validated. Only the validated form travels (to the autoscaler, on start and on update);
 * the written one is kept for edits before validation (the demo's overrides), as parsing is not idempotent: a bare
 * number of seconds becomes milliseconds.
 */
export interface LoadedSpec {
  raw: unknown;
  spec: ClusterSpec;
}

/** A YAML error in one line: a duplicate key by its name, the others by the parser's first line (less its colon). */
function yamlProblem(err: Error & Partial<YAMLError>, text: string): string {
  const line = err.linePos?.[0]?.line;
  if (err.code === 'DUPLICATE_KEY' && err.pos) {
    const key = /^\s*(["']?)([^:\n]*?)\1\s*:/.exec(text.slice(err.pos[0]))?.[2];
    return `duplicate key${key ? ` "${key}"` : ''}${line ? ` at line ${line}` : ''}: a key may appear once in each map`;
  }
  return `not valid YAML or JSON: ${(err.message.split('\n')[0] ?? '').replace(/:\s*$/, '')}`;
}

const tooLarge = (bytes: number) => `${bytes} bytes, over the limit of ${SPEC_LIMITS.bytes} (a spec is a few kilobytes)`;

export function parseClusterSpecText(text: string, source = 'spec'): LoadedSpec {
  const bytes = Buffer.byteLength(text);
  if (bytes > SPEC_LIMITS.bytes) throw new SpecError(source, [tooLarge(bytes)]);
  let raw: unknown;
  try {
    // Aliases expand into copies: a few lines of anchors could otherwise make millions of values.
    raw = YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    // The parser recurses into flow collections: "[[[[…" thousands deep exhausts its stack, which says nothing useful.
    // (It wraps the RangeError in its own error, keeping the message.)
    if (err instanceof RangeError || /Maximum call stack size exceeded/.test((err as Error).message)) throw new SpecError(source, [`nested more than ${SPEC_LIMITS.depth} levels deep`]);
    throw new SpecError(source, [yamlProblem(err as Error & Partial<YAMLError>, text)]);
  }
  return { raw, spec: parseClusterSpec(raw, source) };
}

/** A spec already parsed from JSON (the API's body): the same checks as a spec's text, from the value. */
export function parseClusterSpecValue(raw: unknown, source = 'spec'): LoadedSpec {
  return { raw, spec: parseClusterSpec(raw, source) };
}

export function loadClusterSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    // The size first: a 10 GB file is refused without being read.
    const { size } = statSync(file);
    if (size > SPEC_LIMITS.bytes) throw new SpecError(file, [tooLarge(size)]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(file, [fileProblem(err)], 'cannot read the cluster spec');
  }
  return parseClusterSpecText(text, file);
}

export function loadClusterSpec(file: string): ClusterSpec {
  return loadClusterSpecFile(file).spec;
}
