// Starts the test lab once for all integration tests, and bundles the workflows once.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { labDown, labUp } from '../../src/lab/lab';
import { BUNDLE_PATH, TEST_LAB } from './harness';

export default async function globalSetup(): Promise<void> {
  const dataDir = TEST_LAB.dataDir!;
  await labDown(dataDir, { log: () => undefined });
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const started = Date.now();
  await labUp(TEST_LAB, { log: (m) => process.stdout.write(`[test-lab] ${m}\n`) });
  const { code } = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never });
  writeFileSync(BUNDLE_PATH, code);
  process.stdout.write(`[test-lab] up and workflows bundled in ${Math.round((Date.now() - started) / 1000)} s\n`);
}
