// The names poolpilot gives things, and reading them back: what listings and orphan detection rely on.
import { memberName, opOfName, parseMemberName, parseWarmName, warmName, workflowIds } from '../../src/config/names';

test.each(['web', 'a-b-1', 'autoscaler', 'x:y'])('an autoscaler id reads back as its cluster: %s', (cluster) => {
  expect(workflowIds.clusterOf(workflowIds.autoscaler(cluster))).toBe(cluster);
});

test('an id that is not an autoscaler\'s is returned as it is', () => {
  expect(workflowIds.clusterOf('scale-out:web:3')).toBe('scale-out:web:3');
});

test.each([
  ['web', 'web-12-3', { op: 12, index: 3 }, undefined, 12],
  ['web', 'web-w7-1', undefined, { op: 7, index: 1 }, 7],
  ['web', 'web2-1-1', undefined, undefined, undefined],
  ['web', 'web-1-x', undefined, undefined, undefined],
])('%s: %s', (cluster, name, member, warm, op) => {
  expect(parseMemberName(cluster, name)).toEqual(member);
  expect(parseWarmName(cluster, name)).toEqual(warm);
  expect(opOfName(cluster, name)).toBe(op);
});

test('names read back as they were made', () => {
  expect(parseMemberName('web', memberName('web', 4, 2))).toEqual({ op: 4, index: 2 });
  expect(parseWarmName('web', warmName('web', 4, 2))).toEqual({ op: 4, index: 2 });
});
