// vCenter outages on the lab: the SDK endpoint refuses connections for 60 s in the middle of a scale-out (a TCP relay
// in front of vcsim, stopped and started again: vcsim keeps its inventory in memory), and vcsim killed and restarted
// (the lab's guest simulator must find the new inventory). Checked with govc and HAProxy's socket.
import net from 'node:net';
import { follow, startScaleIn, startScaleOut } from '../../src/client/operations';
import { labUp } from '../../src/lab/lab';
import { readLabState } from '../../src/lab/state';
import type { ScaleOutResult } from '../../src/workflows/scale-out';
import { backendServers, eventually, lab, specFor, startWorker, TEST_LAB, vsphereVms, type TestWorker } from './harness';

/** A TCP relay to vcsim that can refuse connections (stop) and take them again on the same port (start). */
class Relay {
  private server?: net.Server;
  private readonly open = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on('close', () => this.open.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise((r) => this.server?.close(r));
    this.server = undefined;
  }
}

let w: TestWorker;
let relay: Relay;
beforeAll(async () => {
  w = await startWorker('test-outage');
  const vcsim = new URL(lab().vsphereUrl);
  relay = new Relay({ host: vcsim.hostname, port: Number(vcsim.port) });
  await relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await w?.stop();
});

test('vSphere refuses connections for 60 s in the middle of a scale-out: the run completes, nothing is orphaned', async () => {
  const spec = specFor('outage', { min: 0, max: 3, vsphere: { url: `https://127.0.0.1:${relay.port}/sdk`, guestTimeout: '30s' } });
  const handle = await startScaleOut(w.client, spec, 2, 500);
  let downAt = 0;
  let upAt = 0;
  const result = await follow<ScaleOutResult>(handle, (p) => {
    // As soon as the first clone is done, take vSphere away for 60 s.
    if (!downAt && p.instances.some((i) => i.step === 'waiting-for-guest')) {
      downAt = Date.now();
      void relay.stop().then(() => setTimeout(() => void relay.start().then(() => (upAt = Date.now())), 60_000));
    }
  });
  expect(downAt).toBeGreaterThan(0);
  expect(upAt).toBeGreaterThan(downAt);
  expect(result.failed).toEqual([]);
  expect(result.joined.map((j) => j.name).sort()).toEqual(['outage-500-1', 'outage-500-2']);
  // Exactly the VMs asked for exist, each in the pool: no orphan, no duplicate from a retried clone.
  expect(vsphereVms('outage-')).toEqual(['outage-500-1', 'outage-500-2']);
  expect(backendServers('outage-')).toEqual(['outage-500-1', 'outage-500-2']);
  const out = await (await startScaleIn(w.client, spec, { count: 2 }, 501)).result();
  expect(out.removed).toHaveLength(2);
  expect(vsphereVms('outage-')).toEqual([]);
}, 240_000);

test('vcsim killed and restarted: the lab brings it back and new VMs get Tools and an IP again', async () => {
  process.kill(readLabState(TEST_LAB.dataDir!)!.pids.vcsim!, 'SIGKILL');
  await labUp(TEST_LAB, { log: () => undefined });
  const spec = specFor('restart', { min: 0, max: 2, vsphere: { guestTimeout: '30s' } });
  const r = await eventually('a scale-out on the new vcsim', 90_000, async () => {
    const out = await (await startScaleOut(w.client, spec, 1, 600 + Math.floor(Date.now() / 1000) % 1000)).result().catch(() => undefined);
    return out?.joined.length === 1 ? out : undefined;
  });
  expect(vsphereVms('restart-')).toEqual([r.joined[0]!.name]);
  expect(backendServers('restart-')).toEqual([r.joined[0]!.name]);
  await (await startScaleIn(w.client, spec, { count: 1 }, 700)).result();
}, 180_000);
