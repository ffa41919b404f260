// The demand activities: the metrics' readings and the forecast from Prometheus's history.
import { forecastSeries, type ForecastResult } from '../policy/forecast';
import type { ActivityKit, ForecastRequest, MetricsRequest } from './kit';
import { metricSource } from './metrics';
import { PrometheusSource } from './metrics/prometheus';
import type { MetricReading } from './metrics/source';

export function demandActivities({ balancer }: ActivityKit) {
  return {
    /** Reads every metric of the spec; a failure is a reading with an error, never an exception. */
    async readMetrics(req: { spec: MetricsRequest }): Promise<Record<string, MetricReading>> {
      const { spec } = req;
      const out: Record<string, MetricReading> = {};
      await Promise.all(
        spec.metrics.map(async (m) => {
          try {
            const source = metricSource(m, { cluster: spec.name, prometheusUrl: spec.prometheus?.url, balancer: () => balancer(spec.loadBalancer) });
            out[m.name] = { value: await source.read(m) };
          } catch (err) {
            out[m.name] = { error: (err as Error).message };
          }
        }),
      );
      return out;
    },

    /**
     * Forecasts the pool's demand from its Prometheus history: each step's busiest minute of `query`
     * (`max_over_time`), `history` back, then the seasonal forecaster. A failed query is a reason, never an exception.
     */
    async forecastDemand(req: ForecastRequest): Promise<ForecastResult> {
      const end = Math.floor(Date.now() / req.stepMs) * req.stepMs;
      const peakQuery = `max_over_time((${req.query})[${Math.round(req.stepMs / 1000)}s:1m])`;
      let points: [number, number][];
      try {
        points = await new PrometheusSource(req.prometheusUrl, 30_000).rangeQuery(peakQuery, end - req.historyMs, end, req.stepMs);
      } catch (err) {
        return { ok: false, reason: `the history query failed: ${(err as Error).message}` };
      }
      // Gaps (a Prometheus restart) hold the last value, so the grid stays regular.
      const start = points[0]![0];
      const values: number[] = [];
      for (const [t, v] of points) {
        while (start + values.length * req.stepMs < t) values.push(values[values.length - 1] ?? v);
        values.push(v);
      }
      return forecastSeries({ startMs: start, stepMs: req.stepMs, values }, { horizonMs: req.horizonMs });
    },
  };
}
