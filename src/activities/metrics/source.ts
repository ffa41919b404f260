// The metric port: one reading per configured metric. Prometheus and HAProxy stats are today's adapters.
import type { MetricSpec } from '../../config/spec';

export type { MetricReading } from '../../policy/engine';

export interface MetricSource {
  read(metric: MetricSpec): Promise<number>;
}

/** A reading that is not a finite number is an error, never a value. */
export function finite(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new Error(`${what} is ${value}`);
  return value;
}
