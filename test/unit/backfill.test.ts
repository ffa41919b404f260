// The lab's history backfill: the OpenMetrics text promtool reads, and its refusals.
import { counterOpenMetrics, dailyCycleRate, historyProblem } from '../../src/lab/backfill';

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

describe('dailyCycleRate', () => {
  const at = (h: number, m = 0) => new Date(2026, 10, 25, h, m).getTime();
  test.each([
    ['02:00, the trough', at(2), 10],
    ['14:00, the peak', at(14), 70],
    ['08:00, halfway up', at(8), 40],
    ['20:00, halfway down', at(20), 40],
  ])('%s', (_name, t, want) => {
    expect(dailyCycleRate({ trough: 10, peak: 70 }, t)).toBeCloseTo(want, 6);
  });
});

describe('historyProblem', () => {
  test.each([
    [{ hours: 30, trough: 5, peak: 60 }, undefined],
    [{ hours: 0, trough: 5, peak: 60 }, '--hours must be 1 to 360 (15 days), not 0'],
    [{ hours: 361, trough: 5, peak: 60 }, '--hours must be 1 to 360 (15 days), not 361'],
    [{ hours: 30, trough: -1, peak: 60 }, '--trough must be a rate of 0 or more, not -1'],
    [{ hours: 30, trough: 5, peak: 4 }, '--peak must be at least --trough (5), not 4'],
    [{ hours: 30, trough: 5, peak: Number.NaN }, '--peak must be at least --trough (5), not NaN'],
  ])('%o → %s', (o, want) => {
    expect(historyProblem(o)).toBe(want);
  });
});
