// Prometheus HTTP API: one instant PromQL query per metric.
import type { MetricSpec } from '../../config/spec';
import { deadline } from '../cancellation';
import { finite, type MetricSource } from './source';

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: unknown };
}

export class PrometheusSource implements MetricSource {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5000,
    /** How requests go out: fetch, or recorded replies in tests. */
    private readonly transport: (url: URL, init: { signal: AbortSignal }) => Promise<Response> = fetch,
  ) {}

  /** GETs `u` and returns the answer's data, or throws naming what failed. */
  private async get(u: URL, promql: string): Promise<{ resultType: string; result: unknown }> {
    let res: Response;
    try {
      res = await this.transport(u, { signal: deadline(this.timeoutMs) });
    } catch (err) {
      throw new Error(`Prometheus at ${this.url} did not answer: ${(err as Error).message}`, { cause: err });
    }
    const body = (await res.json().catch(() => undefined)) as QueryResponse | undefined;
    if (!body || body.status !== 'success' || !body.data) {
      throw new Error(`Prometheus rejected "${promql}": ${body?.error ?? `HTTP ${res.status}`}`);
    }
    return body.data;
  }

  async query(promql: string): Promise<number> {
    const u = new URL('/api/v1/query', this.url);
    u.searchParams.set('query', promql);
    const { resultType, result } = await this.get(u, promql);
    if (resultType === 'scalar') return finite(Number((result as [number, string])[1]), `"${promql}"`);
    if (resultType === 'vector') {
      const samples = result as { value: [number, string] }[];
      if (samples.length === 0) throw new Error(`"${promql}" returned no data`);
      if (samples.length > 1) throw new Error(`"${promql}" returned ${samples.length} series; aggregate it to one (e.g. avg(...) or sum(...))`);
      return finite(Number(samples[0]!.value[1]), `"${promql}"`);
    }
    throw new Error(`"${promql}" returned a ${resultType}; it must return one number`);
  }

  /**
   * A range query of one series (`/api/v1/query_range`): [epoch ms, value] on the step grid from `startMs` to `endMs`.
   * Points Prometheus has no sample for are missing from the list; the caller decides what a gap means.
   */
  async rangeQuery(promql: string, startMs: number, endMs: number, stepMs: number): Promise<[number, number][]> {
    const u = new URL('/api/v1/query_range', this.url);
    u.searchParams.set('query', promql);
    u.searchParams.set('start', String(startMs / 1000));
    u.searchParams.set('end', String(endMs / 1000));
    u.searchParams.set('step', `${stepMs / 1000}s`);
    const body = await this.get(u, promql);
    if (body.resultType !== 'matrix') throw new Error(`"${promql}" returned a ${body.resultType}; a range query must return one series`);
    const series = body.result as { values: [number, string][] }[];
    if (series.length === 0) throw new Error(`"${promql}" returned no data between ${new Date(startMs).toISOString()} and ${new Date(endMs).toISOString()}`);
    if (series.length > 1) throw new Error(`"${promql}" returned ${series.length} series; aggregate it to one (e.g. sum(...))`);
    return series[0]!.values.map(([t, v]) => [Math.round(t * 1000), finite(Number(v), `"${promql}" at ${new Date(t * 1000).toISOString()}`)]);
  }

  read(metric: MetricSpec): Promise<number> {
    if (!('prometheus' in metric.source)) throw new Error(`metric ${metric.name} is not a Prometheus metric`);
    return this.query(metric.source.prometheus.query);
  }
}
