// Picks the source a metric names: Prometheus, or the cluster's own balancer (HAProxy stats, Avi analytics).
import type { MetricSpec } from '../../config/spec';
import { AviLoadBalancer } from '../loadbalancer/avi';
import { HaproxyLoadBalancer } from '../loadbalancer/haproxy';
import type { LoadBalancer } from '../loadbalancer/provider';
import { AviAnalyticsSource } from './avi-analytics';
import { HaproxyStatsSource } from './haproxy-stats';
import { PrometheusSource } from './prometheus';
import type { MetricSource } from './source';

export function metricSource(metric: MetricSpec, ctx: { cluster: string; prometheusUrl?: string; balancer: () => LoadBalancer }): MetricSource {
  const src = metric.source;
  if ('prometheus' in src) {
    if (!ctx.prometheusUrl) throw new Error(`metric ${metric.name} reads Prometheus, and the spec has no prometheus.url`);
    return new PrometheusSource(ctx.prometheusUrl);
  }
  const lb = ctx.balancer();
  if ('haproxy' in src && lb instanceof HaproxyLoadBalancer) return new HaproxyStatsSource(lb, ctx.cluster);
  if ('avi' in src && lb instanceof AviLoadBalancer) return new AviAnalyticsSource(lb);
  throw new Error(`metric ${metric.name} reads a balancer of another kind than the cluster's`);
}
