// One contract, every load-balancer provider: the same cases run against HAProxy (for real, through its runtime socket)
// and NSX ALB (against the contract endpoint of its published API). A new provider passes this suite before it ships.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoadBalancer, PoolMember } from '../../src/activities/loadbalancer/provider';
import { eventually } from '../eventually';

/** A test server the balancer can reach: /healthz answers 200 or 503; other requests are held until released. */
export interface TestTarget {
  address: string;
  port: number;
  setHealthy(ok: boolean): void;
  /** Requests being held open now. */
  held(): number;
  releaseAll(): void;
  close(): Promise<void>;
}

export async function startTarget(address = '127.0.0.1'): Promise<TestTarget> {
  let healthy = true;
  const holding = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : 'sick');
      return;
    }
    holding.add(res);
    res.on('close', () => holding.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address,
    port,
    setHealthy: (ok) => void (healthy = ok),
    held: () => holding.size,
    releaseAll() {
      for (const r of holding) r.writeHead(200).end('done');
      holding.clear();
    },
    close: async () => {
      for (const r of holding) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface BalancerFixture {
  kind: string;
  lb: LoadBalancer;
  /** Member names must read `<cluster>-<op>-<i>` for the balancer's metric to count them. */
  cluster: string;
  /** Opens `n` sessions to the member (through the balancer, or as the balancer would report them). */
  openSessions(target: TestTarget, n: number): Promise<void>;
  /** Ends the sessions `openSessions` opened. */
  closeSessions(target: TestTarget): Promise<void>;
  /** The balancer's own metric of open sessions in the pool (HAProxy: sum of scur; Avi: l4_server.avg_open_conns). */
  readSessionsMetric(): Promise<number>;
}


const check = { intervalMs: 300, rise: 1, fall: 2 };

/**
 * What a balancer can show of the world. Octavia with its noop drivers (the only Octavia that runs here) runs no
 * health check and counts no sessions: those cases are skipped for it, and its ONLINE / ERROR states are tested on
 * recorded replies instead (test/unit/octavia.test.ts).
 */
export interface BalancerCapabilities {
  /** Its own health check marks a member DOWN and UP again. */
  healthChecks: boolean;
  /** It reports each member's open sessions. */
  sessions: boolean;
}

/** Defines the contract's tests; `fixture` is called in beforeAll. */
export function balancerContract(getFixture: () => BalancerFixture, targets: () => { a: TestTarget; b: TestTarget }, caps: BalancerCapabilities = { healthChecks: true, sessions: true }): void {
  const member = (n: number) => `${getFixture().cluster}-1-${n}`;
  const find = async (name: string): Promise<PoolMember | undefined> => (await getFixture().lb.listMembers()).find((m) => m.name === name);

  test('add: the member is listed with its address and port, and its health check passes', async () => {
    const { lb } = getFixture();
    const { a } = targets();
    expect(await lb.addMember(member(1), a.address, a.port, check)).toBe('added');
    const listed = await find(member(1));
    expect(listed).toMatchObject({ name: member(1), address: a.address, port: a.port });
    const up = await eventually('UP', 15_000, async () => {
      const m = await lb.getMember(member(1));
      return m?.status === 'UP' && m.checkPassed ? m : undefined;
    });
    expect(up.sessions).toBe(0);
  });

  test('add again is idempotent: "exists", still one entry', async () => {
    const { lb } = getFixture();
    const { a } = targets();
    expect(await lb.addMember(member(1), a.address, a.port, check)).toBe('exists');
    expect((await lb.listMembers()).filter((m) => m.name === member(1))).toHaveLength(1);
  });

  (caps.healthChecks ? test : test.skip)('health states: a failing check reads DOWN, a passing one UP again', async () => {
    const { lb } = getFixture();
    const { a } = targets();
    a.setHealthy(false);
    try {
      await eventually('DOWN', 15_000, async () => (await lb.getMember(member(1)))?.status === 'DOWN');
      expect((await lb.getMember(member(1)))?.checkPassed).toBe(false);
    } finally {
      a.setHealthy(true);
    }
    await eventually('UP again', 15_000, async () => (await lb.getMember(member(1)))?.status === 'UP');
  });

  (caps.sessions ? test : test.skip)('metric: the balancer reports the sessions open to the pool', async () => {
    const f = getFixture();
    const { a } = targets();
    await f.openSessions(a, 2);
    try {
      await eventually('2 sessions in the metric', 15_000, async () => (await f.readSessionsMetric()) === 2);
      expect((await f.lb.getMember(member(1)))?.sessions).toBe(2);
    } finally {
      await f.closeSessions(a);
    }
    await eventually('0 sessions', 15_000, async () => (await f.readSessionsMetric()) === 0);
  });

  test('drain without open sessions: DRAIN at once, 0 sessions', async () => {
    const { lb } = getFixture();
    expect(await lb.drainMember(member(1))).toBe(true);
    const m = await lb.getMember(member(1));
    expect(m?.status).toBe('DRAIN');
    expect(m?.sessions).toBe(0);
  });

  (caps.sessions ? test : test.skip)('drain with open sessions: DRAIN, the sessions go on until they end', async () => {
    const f = getFixture();
    const { b } = targets();
    expect(await f.lb.addMember(member(2), b.address, b.port, check)).toBe('added');
    await eventually('UP', 15_000, async () => (await f.lb.getMember(member(2)))?.checkPassed);
    await f.openSessions(b, 3);
    expect(await f.lb.drainMember(member(2))).toBe(true);
    const draining = await f.lb.getMember(member(2));
    expect(draining?.status).toBe('DRAIN');
    expect(draining?.sessions).toBe(3);
    await f.closeSessions(b);
    await eventually('drained', 15_000, async () => (await f.lb.getMember(member(2)))?.sessions === 0);
    expect((await f.lb.getMember(member(2)))?.status).toBe('DRAIN');
  });

  test('drain of an unknown member: false', async () => {
    expect(await getFixture().lb.drainMember(member(99))).toBe(false);
  });

  test('remove, then remove again: true, then false; the list no longer has it', async () => {
    const { lb } = getFixture();
    expect(await lb.removeMember(member(1))).toBe(true);
    expect(await lb.removeMember(member(1))).toBe(false);
    expect(await lb.removeMember(member(2))).toBe(caps.sessions);
    expect(await lb.getMember(member(1))).toBeUndefined();
    const names = (await lb.listMembers()).map((m) => m.name);
    expect(names).not.toContain(member(1));
    expect(names).not.toContain(member(2));
  });

  test('a member re-added at a new address is "replaced"', async () => {
    const { lb } = getFixture();
    const { a, b } = targets();
    expect(await lb.addMember(member(3), a.address, a.port, check)).toBe('added');
    expect(await lb.addMember(member(3), b.address, b.port, check)).toBe('replaced');
    expect((await lb.listMembers()).filter((m) => m.name === member(3)).map((m) => m.port)).toEqual([b.port]);
    expect(await lb.removeMember(member(3))).toBe(true);
  });
}
