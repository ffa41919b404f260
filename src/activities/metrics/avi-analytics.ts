// NSX ALB (Avi) pool analytics (/analytics/metrics/pool/{uuid}), as the reference deployments scale on them.
import type { MetricSpec } from '../../config/spec';
import type { AviLoadBalancer } from '../loadbalancer/avi';
import { finite, type MetricSource } from './source';

export class AviAnalyticsSource implements MetricSource {
  constructor(private readonly lb: AviLoadBalancer) {}

  async read(metric: MetricSpec): Promise<number> {
    if (!('avi' in metric.source)) throw new Error(`metric ${metric.name} is not an Avi metric`);
    const { metricId, step, limit } = metric.source.avi;
    const values = await this.lb.metric(metricId, step, limit);
    if (values.length === 0) throw new Error(`Avi has no samples of ${metricId} for pool ${this.lb.spec.pool} at a ${step} s step (is the metric id right, and are real-time metrics on for a 5 s step?)`);
    return finite(values.reduce((a, b) => a + b, 0) / values.length, `${metricId} (mean of the last ${values.length})`);
  }
}
