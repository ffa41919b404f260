// The poll schedule: a fixed-rate grid per cluster, offset by a phase from the cluster's name.
import { nextPollAt, pollPhase } from '../../src/policy/poll-timing';

const I = 10_000;

describe('pollPhase', () => {
  it('is stable for a name and inside the interval', () => {
    expect(pollPhase('web', I)).toBe(pollPhase('web', I));
    for (const name of ['web', 'api', 'a', 'dens999']) {
      const p = pollPhase(name, I);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(I);
    }
  });

  it('spreads a thousand clusters over the interval instead of bunching them', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) buckets[Math.floor(pollPhase(`dens${i}`, I) / 1000)]!++;
    // Evenly spread is 100 per second of the interval; lockstep would put all 1000 in one.
    expect(Math.max(...buckets)).toBeLessThan(150);
    expect(Math.min(...buckets)).toBeGreaterThan(50);
  });

  it('is 0 for a zero interval', () => expect(pollPhase('web', 0)).toBe(0));
});

describe('nextPollAt', () => {
  const T = 1_800_000_000_000; // a multiple of I
  const cases: [string, number, number, number][] = [
    ['a poll that ended just after its slot waits for the next slot', T + 3_000 + 40, 3_000, T + 13_000],
    ['a poll that ended late, but before half an interval, keeps the grid', T + 3_000 + 4_900, 3_000, T + 13_000],
    ['a poll that ended more than half an interval late skips one slot', T + 3_000 + 5_100, 3_000, T + 23_000],
    ['an off-grid poll right before a slot does not poll twice in a row', T + 2_900, 3_000, T + 13_000],
    ['an off-grid poll with half an interval to go uses that slot', T - 2_000, 3_000, T + 3_000],
  ];
  it.each(cases)('%s', (_name, now, phase, expected) => {
    const next = nextPollAt(now, I, phase);
    expect(next).toBe(expected);
    expect((next - phase) % I).toBe(0);
    expect(next - now).toBeGreaterThanOrEqual(I / 2);
    expect(next - now).toBeLessThanOrEqual(1.5 * I);
  });

  it('polls every interval when each poll takes the same time', () => {
    const phase = pollPhase('web', I);
    let t = nextPollAt(T, I, phase);
    const slots = [t];
    for (let i = 0; i < 5; i++) {
      t = nextPollAt(t + 120, I, phase);
      slots.push(t);
    }
    expect(slots.slice(1).map((s, i) => s - slots[i]!)).toEqual([I, I, I, I, I]);
  });
});
