// The lab's history backfill: the OpenMetrics text promtool reads, and its refusals.
import { counterOpenMetrics } from '../../src/lab/backfill';

describe('counterOpenMetrics', () => {
  test('a counter accumulating the rate over each step, timestamps in seconds, ending in # EOF', () => {
    const text = counterOpenMetrics({ metric: 'lab_history_requests', labels: { source: 'back"fill' }, fromMs: 1_000_000, toMs: 1_030_000, stepMs: 15_000, rate: (t) => (t < 1_015_000 ? 2 : 4) });
    expect(text.split('\n')).toEqual([
      '# TYPE lab_history_requests counter',
      'lab_history_requests_total{source="back\\"fill"} 30.000 1000.000',
      'lab_history_requests_total{source="back\\"fill"} 90.000 1015.000',
      'lab_history_requests_total{source="back\\"fill"} 150.000 1030.000',
      '# EOF',
      '',
    ]);
  });

  test('a negative rate adds nothing (a counter never falls)', () => {
    const text = counterOpenMetrics({ metric: 'x', fromMs: 0, toMs: 2000, stepMs: 1000, rate: () => -5 });
    expect(text).toContain('x_total 0.000 2.000');
  });

  test.each([
    [{ metric: 'bad-name' }, '"bad-name" is not a metric name'],
    [{ labels: { 'a-b': 'x' } }, '"a-b" is not a label name'],
    [{ stepMs: 0 }, 'the history needs a step > 0 and an end after its start'],
    [{ toMs: -1 }, 'the history needs a step > 0 and an end after its start'],
  ])('refuses %j', (over, message) => {
    expect(() => counterOpenMetrics({ metric: 'ok', fromMs: 0, toMs: 1000, stepMs: 100, rate: () => 1, ...over })).toThrow(message);
  });
});
