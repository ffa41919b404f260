// A scaling run's progress and the query that reads it: importable by clients (nothing here runs workflow code).
import { defineQuery } from '@temporalio/workflow';

export type InstanceStep =
  | 'pending'
  | 'taking-warm'
  | 'cloning'
  | 'waiting-for-guest'
  | 'adding-to-pool'
  | 'waiting-healthy'
  | 'joined'
  | 'draining'
  | 'removing-from-pool'
  | 'powering-off'
  | 'destroying'
  | 'releasing'
  | 'released'
  | 'waiting-hook'
  | 'removed'
  | 'returned-to-warm-pool'
  | 'powering-off-warm'
  | 'warm'
  | 'compensating'
  | 'failed';

export interface InstanceProgress {
  name: string;
  step: InstanceStep;
  ip?: string;
  error?: string;
  /** The lifecycle hook it waits for now, and the results of those done ("name: CONTINUE"). */
  hook?: string;
  hooks?: string[];
}

export interface OperationProgress {
  kind: 'scale-out' | 'scale-in' | 'warm-pool';
  cluster: string;
  op: number;
  instances: InstanceProgress[];
}

export const progressQuery = defineQuery<OperationProgress>('progress');
