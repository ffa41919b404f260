// Prometheus HTTP API: one instant PromQL query per metric.
import type { MetricSpec } from '../../config/spec';
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
  ) {}

  async query(promql: string): Promise<number> {
    const u = new URL('/api/v1/query', this.url);
    u.searchParams.set('query', promql);
    let res: Response;
    try {
      res = await fetch(u, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new Error(`Prometheus at ${this.url} did not answer: ${(err as Error).message}`, { cause: err });
    }
    const body = (await res.json().catch(() => undefined)) as QueryResponse | undefined;
    if (!body || body.status !== 'success' || !body.data) {
      throw new Error(`Prometheus rejected "${promql}": ${body?.error ?? `HTTP ${res.status}`}`);
    }
    const { resultType, result } = body.data;
    if (resultType === 'scalar') return finite(Number((result as [number, string])[1]), `"${promql}"`);
    if (resultType === 'vector') {
      const samples = result as { value: [number, string] }[];
      if (samples.length === 0) throw new Error(`"${promql}" returned no data`);
      if (samples.length > 1) throw new Error(`"${promql}" returned ${samples.length} series; aggregate it to one (e.g. avg(...) or sum(...))`);
      return finite(Number(samples[0]!.value[1]), `"${promql}"`);
    }
    throw new Error(`"${promql}" returned a ${resultType}; it must return one number`);
  }

  read(metric: MetricSpec): Promise<number> {
    if (!('prometheus' in metric.source)) throw new Error(`metric ${metric.name} is not a Prometheus metric`);
    return this.query(metric.source.prometheus.query);
  }
}
