// HAProxy's own statistics through the Runtime API, for users without Prometheus.
import type { MetricSpec } from '../../config/spec';
import type { HaproxyLoadBalancer } from '../loadbalancer/haproxy';
import { parseMemberName } from '../../config/names';
import { finite, type MetricSource } from './source';

export class HaproxyStatsSource implements MetricSource {
  constructor(
    private readonly lb: HaproxyLoadBalancer,
    private readonly cluster: string,
  ) {}

  async read(metric: MetricSpec): Promise<number> {
    if (!('haproxy' in metric.source)) throw new Error(`metric ${metric.name} is not an HAProxy metric`);
    const { field, aggregate } = metric.source.haproxy;
    // Only this cluster's members that take traffic count: a backend may be shared, and a draining
    // or booting member would skew an average.
    const rows = (await this.lb.stats({ shared: true })).filter((r) => parseMemberName(this.cluster, r.svname ?? '') && (r.status ?? '').startsWith('UP'));
    const values = rows.map((r) => Number(r[field] || 0));
    if (values.length === 0) {
      if (aggregate === 'sum') return 0;
      throw new Error(`no member of the backend is UP, so the ${aggregate} of ${field} is undefined`);
    }
    const v = aggregate === 'sum' ? values.reduce((a, b) => a + b, 0) : aggregate === 'max' ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / values.length;
    return finite(v, `${aggregate}(${field})`);
  }
}
