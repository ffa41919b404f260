// Bundles the workflows once for every workflow test file.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeWorkflowBundle } from '../../src/lab/session';
import { BUNDLE } from './world';

export default async function globalSetup(): Promise<void> {
  mkdirSync(path.dirname(BUNDLE), { recursive: true });
  await writeWorkflowBundle(BUNDLE);
}
