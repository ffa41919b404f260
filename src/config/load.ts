// Reads cluster specs (YAML or JSON) for the CLI and the API; workflows never import this.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseClusterSpec, SpecError, type ClusterSpec } from './spec';

/**
 * The spec as written and as validated. The written form is what travels to a running autoscaler
 * (applySpec validates it there): parsing is not idempotent, as a bare number of seconds becomes milliseconds.
 */
export interface LoadedSpec {
  raw: unknown;
  spec: ClusterSpec;
}

export function parseClusterSpecText(text: string, source = 'spec'): LoadedSpec {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new SpecError(source, [`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`]);
  }
  return { raw, spec: parseClusterSpec(raw, source) };
}

export function loadClusterSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseClusterSpecText(text, file);
}

export function loadClusterSpec(file: string): ClusterSpec {
  return loadClusterSpecFile(file).spec;
}
