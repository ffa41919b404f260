// Starts the test lab once for all integration tests, and bundles the workflows once.
import { mkdirSync, rmSync } from 'node:fs';
import { labDown, labUp } from '../../src/lab/lab';
import { writeWorkflowBundle } from '../../src/lab/session';
import { BUNDLE_PATH, TEST_LAB } from './harness';

export default async function globalSetup(): Promise<void> {
  const dataDir = TEST_LAB.dataDir!;
  await labDown(dataDir, { log: () => undefined });
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const started = Date.now();
  await labUp(TEST_LAB, { log: (m) => process.stdout.write(`[test-lab] ${m}\n`) });
  await writeWorkflowBundle(BUNDLE_PATH);
  process.stdout.write(`[test-lab] up and workflows bundled in ${Math.round((Date.now() - started) / 1000)} s\n`);
}
