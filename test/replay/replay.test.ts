// Replays histories recorded from real runs on the lab against today's workflow code: a non-deterministic edit fails
// here. Only the workflows' bundle is needed (the workflows project builds it), no lab.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { BUNDLE as BUNDLE_PATH } from '../workflows/world';
import { mapPayloadTexts, withoutMachinePaths } from './record';

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

/** Every payload of a history (inputs, results, markers), decoded. */
function payloadTexts(history: unknown): string[] {
  const out: string[] = [];
  mapPayloadTexts(history, (text) => (out.push(text), text));
  return out;
}

test.each(files)('%s carries no machine path in its payloads', (file) => {
  const texts = payloadTexts(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')));
  expect(texts.length).toBeGreaterThan(3);
  expect(texts.filter((t) => /"\/(home|root|work|tmp|Users|var)\//.test(t))).toEqual([]);
});

test('recording takes the checkout path out of payloads, and only it', () => {
  const root = '/srv/checkout';
  const enc = (s: string) => Buffer.from(s).toString('base64');
  const history = { events: [{ input: { payloads: [{ metadata: { encoding: enc('json/plain') }, data: enc('{"socket":"/srv/checkout/.data/lab/haproxy.sock","other":"/srv/else"}') }] } }] };
  const [text] = payloadTexts(withoutMachinePaths(history, root)).slice(-1);
  expect(JSON.parse(text!)).toEqual({ socket: '.data/lab/haproxy.sock', other: '/srv/else' });
});
