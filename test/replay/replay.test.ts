// Replays histories recorded from real runs on the lab against today's workflow code: a non-deterministic edit fails
// here. Only the workflows' bundle is needed (the workflows project builds it), no lab.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { BUNDLE as BUNDLE_PATH } from '../workflows/world';

const DIR = path.join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

test('there are recorded histories of every workflow type', () => {
  const types = files.map((f) => {
    const h = historyFromJSON(JSON.parse(readFileSync(path.join(DIR, f), 'utf8')));
    return h.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
  });
  expect(new Set(types)).toEqual(new Set(['scaleOut', 'scaleIn', 'warmPoolFill', 'autoscaler']));
});

test.each(files)('replays %s without nondeterminism', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')));
  expect(history.events?.length).toBeGreaterThan(5);
  await Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE_PATH } }, history, file);
});
