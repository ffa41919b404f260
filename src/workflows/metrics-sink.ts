// What the workflows tell the worker's metrics (/metrics), through a Temporal sink: a call into the worker's own
// process that makes no command and is skipped on replay, so metrics never touch determinism.
import { proxySinks, type Sinks } from '@temporalio/workflow';

export interface ClusterGauge {
  cluster: string;
  phase: string;
  current: number;
  desired: number;
  min: number;
  max: number;
  paused: boolean;
  /** Directions suspended by a fault no retry mends (absent in reports of workers from before suspension). */
  suspended?: ('scale-out' | 'scale-in')[];
  /** Each metric: true when its last read gave a value. */
  metricsUp: Record<string, boolean>;
}

export interface PoolpilotSinks extends Sinks {
  poolpilot: {
    cluster(g: ClusterGauge): void;
    poll(cluster: string, lagMs: number): void;
    decision(cluster: string, action: string, source: string): void;
    metricReadFailed(cluster: string, metric: string): void;
    runEnded(cluster: string, kind: string, outcome: 'succeeded' | 'partial' | 'failed', seconds: number): void;
  };
}

export const metricsSink = proxySinks<PoolpilotSinks>().poolpilot;
