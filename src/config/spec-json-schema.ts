// The cluster spec as a JSON Schema, generated from the zod schema (the one source of truth), for editors: VS Code's
// YAML extension and others complete and check a spec as it is typed. It describes the spec as written (durations
// as text or seconds, shares as "2%"), not as parsed. Rules that tie two fields together (min ≤ max, one balancer
// kind, a backoff below its cap) are zod's alone: `poolpilot cluster validate` checks those.
import { z } from 'zod';
import { clusterSpecSchema } from './spec';

/** The committed copy, beside the package's examples (their `# yaml-language-server: $schema=` lines point at it). */
export const SPEC_JSON_SCHEMA_FILE = 'schema/cluster-spec.schema.json';

export function specJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(clusterSpecSchema, { io: 'input', unrepresentable: 'any' });
  return { ...generated, title: 'poolpilot cluster spec', description: 'A cluster: its cloud, its load balancer pool, its bounds and how it scales. Check one with `poolpilot cluster validate -f FILE`.' };
}

/** The schema as the committed file holds it (two-space JSON and a final newline). */
export const specJsonSchemaText = (): string => `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
