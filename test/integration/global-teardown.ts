// Stops every process of the test lab (its logs stay in .data/test-lab for a look after a failure).
import { labDown } from '../../src/lab/lab';
import { TEST_LAB } from './harness';

export default async function globalTeardown(): Promise<void> {
  await labDown(TEST_LAB.dataDir!, { log: (m) => process.stdout.write(`[test-lab] ${m}\n`) });
}
