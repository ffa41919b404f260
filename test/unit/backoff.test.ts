// Failed runs' backoff: a table of named cases, each checkable by hand, and the refused-login gate.
import { ApplicationFailure } from '@temporalio/common';
import { afterFailure, heldBack, holdCode, holdReason, isPermanentFault, nextRetryAt, type BackoffState } from '../../src/policy/backoff';
import { LoginGate } from '../../src/activities/login-gate';
import { autoscalingSchema } from '../../src/config/spec';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const settings = { initial: 5_000, max: 300_000 };
const transient = { code: 'HealthTimeout', message: 'web-3-1 did not pass its health check' };

/** `failures` transient failures in a row, each `jitter`, ending at T0. */
function after(failures: number, jitter = 0, fault: { code?: string; message: string } = transient): BackoffState {
  let b: BackoffState | undefined;
  for (let i = 0; i < failures; i++) b = afterFailure(b, fault, T0, settings, jitter);
  return b!;
}

describe('afterFailure: the wait before the next attempt', () => {
  const cases: [string, number, number, { code?: string; message: string }, number, boolean][] = [
    // name, failures in a row, jitter, fault, expected wait (ms), suspended
    ['the first failure waits initial', 1, 0, transient, 5_000, false],
    ['the second doubles it', 2, 0, transient, 10_000, false],
    ['the fourth: 8 × initial', 4, 0, transient, 40_000, false],
    ['the seventh would be 320 s: capped at max', 7, 0, transient, 300_000, false],
    ['the hundredth stays at max (no overflow)', 100, 0, transient, 300_000, false],
    ['full jitter takes a fifth off', 2, 1, transient, 8_000, false],
    ['half jitter takes a tenth off', 2, 0.5, transient, 9_000, false],
    ['jitter never passes the cap', 7, 0.99, transient, 240_600, false],
    ['a fault without a code backs off', 1, 0, { message: 'socket hang up' }, 5_000, false],
    ['CredentialMissing suspends at once: probe after max', 1, 0, { code: 'CredentialMissing', message: 'no credential "vc"' }, 300_000, true],
    ['BadCredentials suspends', 1, 0.7, { code: 'BadCredentials', message: 'refused' }, 300_000, true],
    ['TemplateNotFound suspends', 1, 0, { code: 'TemplateNotFound', message: 'no template' }, 300_000, true],
    ['Forbidden suspends', 3, 0, { code: 'Forbidden', message: '403' }, 300_000, true],
  ];
  test.each(cases)('%s', (_name, failures, jitter, fault, wait, suspended) => {
    const b = after(failures, jitter, fault);
    expect(b.retryAt - T0).toBe(wait);
    expect(b.failures).toBe(failures);
    expect(b.suspended).toBe(suspended);
    expect(b.code).toBe(fault.code);
  });
});

describe('heldBack and the timer', () => {
  const b = after(2);
  test.each([
    ['just after the failure: held', T0 + 1, true],
    ['a millisecond before retryAt: held', T0 + 9_999, true],
    ['at retryAt: free', T0 + 10_000, false],
    ['the other direction is never held', T0 + 1, false],
  ] as const)('%s', (name, now, held) => {
    const kind = name.startsWith('the other') ? 'scale-in' : 'scale-out';
    expect(heldBack({ 'scale-out': b }, kind, now) !== undefined).toBe(held);
  });
  test('the timer wakes at the earliest pending retry; none once all are due', () => {
    const out = after(1);
    const inn = after(3);
    expect(nextRetryAt({ 'scale-out': out, 'scale-in': inn }, T0)).toBe(T0 + 5_000);
    expect(nextRetryAt({ 'scale-out': out, 'scale-in': inn }, T0 + 6_000)).toBe(T0 + 20_000);
    expect(nextRetryAt({ 'scale-out': out }, T0 + 5_000)).toBeUndefined();
    expect(nextRetryAt(undefined, T0)).toBeUndefined();
  });
});

test('the hold is logged with a stable code and a sentence naming the fault and the way out', () => {
  const s = after(1, 0, { code: 'CredentialMissing', message: 'the worker has no credential "vc"' });
  expect(holdCode(s)).toBe('ScalingSuspended');
  expect(holdReason('scale-out', s, T0 + 60_000, 'web')).toBe('scale-out suspended after CredentialMissing: the worker has no credential "vc"; next probe in 240 s, or now with: poolpilot cluster resume web');
  const t = after(3);
  expect(holdCode(t)).toBe('BackingOff');
  expect(holdReason('scale-in', t, T0, 'web')).toBe('scale-in backing off after 3 failed run(s) in a row (HealthTimeout: web-3-1 did not pass its health check); next attempt in 20 s');
});

test('only the faults no retry mends are permanent', () => {
  expect(['CredentialMissing', 'BadCredentials', 'TemplateNotFound', 'InventoryNotFound', 'Forbidden'].every(isPermanentFault)).toBe(true);
  expect(['HealthTimeout', 'GuestTimeout', 'ScaleOutFailed', undefined].some(isPermanentFault)).toBe(false);
});

test('the spec defaults to 5 s up to 5 minutes, and refuses an initial wait above max or under a second', () => {
  expect(autoscalingSchema.parse({}).failureBackoff).toEqual({ initial: 5_000, max: 300_000 });
  expect(autoscalingSchema.parse({ failureBackoff: { initial: '2s', max: '1m' } }).failureBackoff).toEqual({ initial: 2_000, max: 60_000 });
  const bad = autoscalingSchema.safeParse({ failureBackoff: { initial: '10m', max: '5m' } });
  expect(bad.success).toBe(false);
  expect(bad.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['failureBackoff.initial', 'initial must be at least 1s and at most max']]);
  expect(autoscalingSchema.safeParse({ failureBackoff: { initial: '100ms' } }).success).toBe(false);
});

describe('LoginGate: one refused login per endpoint and user per interval', () => {
  const refusal = () => ApplicationFailure.create({ type: 'BadCredentials', message: 'InvalidLogin', nonRetryable: true });
  const isRefusal = (e: unknown) => e instanceof ApplicationFailure && e.type === 'BadCredentials';

  test('a refusal answers from memory until the interval passes; other users and endpoints are not held', async () => {
    let now = T0;
    const gate = new LoginGate(60_000, () => now);
    let tries = 0;
    const bad = async () => {
      tries++;
      throw refusal();
    };
    await expect(gate.login('https://vc/sdk', 'svc', bad, isRefusal)).rejects.toThrow('InvalidLogin');
    for (let i = 0; i < 20; i++) await expect(gate.login('https://vc/sdk', 'svc', bad, isRefusal)).rejects.toThrow(/https:\/\/vc\/sdk refused the login of "svc": InvalidLogin \(at 10:00:00Z; not tried again before 10:01:00Z/);
    expect(tries).toBe(1);
    await expect(gate.login('https://vc/sdk', 'other', async () => 'ok', isRefusal)).resolves.toBe('ok');
    await expect(gate.login('https://vc2/sdk', 'svc', async () => 'ok', isRefusal)).resolves.toBe('ok');
    now += 60_000;
    await expect(gate.login('https://vc/sdk', 'svc', async () => 'ok', isRefusal)).resolves.toBe('ok');
    // A success forgets the refusal: the next failure is tried, not answered from memory.
    await expect(gate.login('https://vc/sdk', 'svc', bad, isRefusal)).rejects.toThrow('InvalidLogin');
    expect(tries).toBe(2);
  });

  test('callers at the same moment wait for the one login under way: one refusal for all', async () => {
    const gate = new LoginGate(60_000, () => T0);
    let tries = 0;
    const slow = async () => {
      tries++;
      await new Promise((r) => setImmediate(r));
      throw refusal();
    };
    const all = await Promise.allSettled(Array.from({ length: 10 }, () => gate.login('https://vc/sdk', 'svc', slow, isRefusal)));
    expect(all.every((r) => r.status === 'rejected')).toBe(true);
    expect(tries).toBe(1);
  });

  test('a fault that is not a refusal (a refused connection) is not remembered', async () => {
    const gate = new LoginGate(60_000, () => T0);
    let tries = 0;
    const down = async () => {
      tries++;
      throw new Error('ECONNREFUSED');
    };
    await expect(gate.login('https://vc/sdk', 'svc', down, isRefusal)).rejects.toThrow('ECONNREFUSED');
    await expect(gate.login('https://vc/sdk', 'svc', down, isRefusal)).rejects.toThrow('ECONNREFUSED');
    expect(tries).toBe(2);
  });
});
