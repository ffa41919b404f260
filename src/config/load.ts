// Reads cluster spec files (YAML or JSON) for the CLI and the worker; workflows never import this.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseClusterSpec, SpecError, type ClusterSpec } from './spec';

/** Parses YAML or JSON text (JSON is YAML) into a validated spec. */
export function parseClusterSpecText(text: string, source = 'spec'): ClusterSpec {
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (err) {
    throw new SpecError(source, [`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseClusterSpec(data, source);
}

export function loadClusterSpec(file: string): ClusterSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseClusterSpecText(text, file);
}

