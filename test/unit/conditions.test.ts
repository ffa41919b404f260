// Conditions and phase: each a function of current facts, so a condition clears when its cause does.
import { deriveConditions, phaseOf, type ClusterFacts, type Condition } from '../../src/policy/conditions';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const facts = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  now: T0,
  paused: false,
  metricCount: 1,
  failingMetrics: [],
  cooldown: { scaleOutMs: 0, scaleInMs: 0 },
  current: 2,
  min: 1,
  max: 4,
  ...over,
});
const cond = (cs: Condition[], type: Condition['type']) => cs.find((c) => c.type === type)!;

describe('conditions', () => {
  const cases: [string, Partial<ClusterFacts>, Condition['type'], 'True' | 'False', string, string][] = [
    ['ready', {}, 'AbleToScale', 'True', 'ReadyForNewScale', 'ACTIVE'],
    ['both cooldowns', { cooldown: { scaleOutMs: 5000, scaleInMs: 60_000 } }, 'AbleToScale', 'True', 'BackoffBoth', 'ACTIVE'],
    ['scale-in cooldown only', { cooldown: { scaleOutMs: 0, scaleInMs: 60_000 } }, 'AbleToScale', 'True', 'BackoffScaleIn', 'ACTIVE'],
    ['a run in which some members failed', { failedRun: { workflowId: 'scale-out:web:7', outcome: '1 joined, 1 failed: web-7-2: GuestTimeout', partial: true } }, 'AbleToScale', 'False', 'RunPartlyFailed', 'ERROR'],
    ['a failed run', { failedRun: { workflowId: 'scale-out:web:7', outcome: 'failed: no member joined', partial: false } }, 'AbleToScale', 'False', 'RunFailed', 'ERROR'],
    ['a failed reconcile', { reconcileError: 'reconcile failed: ECONNREFUSED' }, 'AbleToScale', 'False', 'ReconcileFailed', 'ERROR'],
    [
      'scale-out suspended by a missing credential: the reason is the fault, ahead of the reconcile it also breaks',
      { reconcileError: 'reconcile failed: CredentialMissing', backoff: { 'scale-out': { failures: 1, failedAt: T0, retryAt: T0 + 300_000, code: 'CredentialMissing', message: 'no credential', suspended: true } } },
      'AbleToScale',
      'False',
      'CredentialMissing',
      'ERROR',
    ],
    [
      'a failed run backing off',
      { failedRun: { workflowId: 'scale-out:web:7', outcome: 'failed', partial: false }, backoff: { 'scale-out': { failures: 2, failedAt: T0, retryAt: T0 + 10_000, message: 'x', suspended: false } } },
      'AbleToScale',
      'False',
      'RunFailed',
      'ERROR',
    ],
    ['a run under way', { running: { kind: 'scale-in', workflowId: 'scale-in:web:8' } }, 'AbleToScale', 'True', 'ScalingInProgress', 'PENDING_SCALE_IN'],
    ['metrics read', {}, 'ScalingActive', 'True', 'ValidMetrics', 'ACTIVE'],
    ['paused', { paused: true }, 'ScalingActive', 'False', 'ScalingDisabled', 'PAUSED'],
    ['no metrics', { metricCount: 0 }, 'ScalingActive', 'False', 'NoMetrics', 'ACTIVE'],
    ['every metric fails', { failingMetrics: [{ name: 'conns', error: 'Prometheus did not answer' }] }, 'ScalingActive', 'False', 'FailedGetMetrics', 'ACTIVE'],
    ['one of two fails', { metricCount: 2, failingMetrics: [{ name: 'conns', error: 'x' }] }, 'ScalingActive', 'True', 'SomeMetricsFailing', 'ACTIVE'],
    ['capped at max', { lastDecisionCode: 'CappedAtMax' }, 'ScalingLimited', 'True', 'TooManyReplicas', 'ACTIVE'],
    ['raised to min', { lastDecisionCode: 'RaisedToMin' }, 'ScalingLimited', 'True', 'TooFewReplicas', 'ACTIVE'],
    ['within range', { lastDecisionCode: 'AboveTarget' }, 'ScalingLimited', 'False', 'DesiredWithinRange', 'ACTIVE'],
  ];
  test.each(cases)('%s', (_name, over, type, status, reason, phase) => {
    const f = facts(over);
    const cs = deriveConditions(f);
    expect(cond(cs, type)).toMatchObject({ status, reason });
    expect(phaseOf(f, cs)).toBe(phase);
  });

  test('a condition clears with its cause, and its transition time moves only when its status does', () => {
    const failed = deriveConditions(facts({ failedRun: { workflowId: 'r', outcome: 'failed', partial: false } }));
    // Still failing a minute later: the transition time stays.
    const still = deriveConditions(facts({ now: T0 + 60_000, failedRun: { workflowId: 'r', outcome: 'failed', partial: false } }), failed);
    expect(cond(still, 'AbleToScale').lastTransitionTime).toBe('2026-11-24T10:00:00.000Z');
    // A later successful run clears the cause: True again, from then.
    const cleared = deriveConditions(facts({ now: T0 + 120_000 }), still);
    expect(cond(cleared, 'AbleToScale')).toMatchObject({ status: 'True', reason: 'ReadyForNewScale', lastTransitionTime: '2026-11-24T10:02:00.000Z' });
    // A change of reason with the same status keeps the time (as Kubernetes does).
    const backoff = deriveConditions(facts({ now: T0 + 180_000, cooldown: { scaleOutMs: 1000, scaleInMs: 0 } }), cleared);
    expect(cond(backoff, 'AbleToScale')).toMatchObject({ reason: 'BackoffScaleOut', lastTransitionTime: '2026-11-24T10:02:00.000Z' });
    expect(phaseOf(facts({ now: T0 + 120_000 }), cleared)).toBe('ACTIVE');
  });
});
