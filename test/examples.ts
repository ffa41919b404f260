// The example cluster specs under examples/, by path relative to it. examples/openstack/import holds other tools'
// templates (Heat, TOSCA) for `poolpilot import`: those are not specs.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config/settings';

export const EXAMPLES_DIR = path.join(PROJECT_ROOT, 'examples');

export function specExamples(): string[] {
  return readdirSync(EXAMPLES_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith(path.join('openstack', 'import')));
}
