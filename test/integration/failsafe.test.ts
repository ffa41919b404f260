// Fail safe on the lab: a worker without a cluster's credential, and one with a wrong password, must not storm vSphere.
// Failed runs are counted in Temporal's own visibility and logins at a TLS relay in front of vcsim (it reads the SOAP
// bodies); then the worker gets the right credentials, and the clusters reach min on their own or on resume.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import { applyCluster, clusterStatus, deleteCluster, setPaused } from '../../src/client/clusters';
import { parseClusterSpec } from '../../src/config/spec';
import { backendServers, eventually, lab, rawSpecFor, spawnWorkerProcess, vsphereVms } from './harness';

const QUEUE = 'test-failsafe';
/** The scaled-down cap: the "5 minutes, at most 10 runs" with a 5-minute cap is this test's 15 s cap. */
const CAP_S = 15;
const spawned = new Set<ChildProcess>();
let client: Client;
let conn: Connection;
let dir: string;

/** A TLS relay to vcsim that counts SOAP Login calls (the only way to see failed logins: they leave no session). */
class CountingRelay {
  logins: number[] = [];
  private server?: tls.Server;
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    const key = path.join(dir, 'relay.key');
    const cert = path.join(dir, 'relay.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert, '-days', '1'], { stdio: 'ignore' });
    this.server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (client) => {
      const upstream = tls.connect({ ...this.target, rejectUnauthorized: false });
      let seen = '';
      client.on('data', (d: Buffer) => {
        // A Login may straddle two chunks: keep a short tail of the last one.
        seen = (seen + d.toString('latin1')).slice(-8192);
        const hits = seen.split('<Login xmlns').length - 1;
        for (let i = 0; i < hits; i++) this.logins.push(Date.now());
        if (hits) seen = '';
        upstream.write(d);
      });
      upstream.pipe(client);
      for (const s of [client, upstream]) s.on('error', () => undefined);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

let relay: CountingRelay;

/** Scale-out runs of `cluster` that Temporal knows of, with their start and close times. */
async function scaleOutRuns(cluster: string): Promise<{ start: number; close?: number; status: string }[]> {
  const out: { start: number; close?: number; status: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'scaleOut' AND WorkflowId STARTS_WITH 'scale-out:${cluster}:'` })) {
    out.push({ start: wf.startTime.getTime(), close: wf.closeTime?.getTime(), status: wf.status.name });
  }
  return out.sort((a, b) => a.start - b.start);
}

function workerWith(credentials: Record<string, { username: string; password: string }>, log: string): ChildProcess {
  const file = path.join(dir, `${log}.json`);
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return spawnWorkerProcess(QUEUE, log, spawned, { POOLPILOT_CREDENTIALS_FILE: file, POOLPILOT_FAILED_LOGIN_INTERVAL: `${CAP_S}s` });
}

const stop = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null ? r(undefined) : (p.once('exit', r), p.kill('SIGTERM'))));

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pp-failsafe-'));
  conn = await Connection.connect({ address: lab().temporalAddress });
  client = new Client({ connection: conn });
  process.env.POOLPILOT_TASK_QUEUE = QUEUE;
  const vcsim = new URL(lab().vsphereUrl);
  relay = new CountingRelay({ host: vcsim.hostname, port: Number(vcsim.port) });
  await relay.start();
});

afterAll(async () => {
  for (const c of ['fsnocred', 'fsbadpw', 'fsbadlong']) {
    await deleteCluster(client, c, { scaleToZero: true }).catch(() => undefined);
    await client.workflow.getHandle(`autoscaler:${c}`).result().catch(() => undefined);
  }
  await Promise.all([...spawned].map(stop));
  await relay?.stop();
  await conn?.close();
  expect(backendServers('fs')).toEqual([]);
  expect(vsphereVms('fs')).toEqual([]);
});

test(`without its credential, or with a wrong password, a min-1 cluster makes one run per ${CAP_S} s cap and vCenter sees at most one failed login per interval; with the credential it reaches min by itself, or at once on resume`, async () => {
  const e = lab();
  const backoff = { failureBackoff: { initial: '2s', max: `${CAP_S}s` } };
  const viaRelay = { url: `https://127.0.0.1:${relay.port}/sdk`, credentialRef: 'wrong' };
  const specs = [
    rawSpecFor('fsnocred', { min: 1, vsphere: { credentialRef: 'missing' }, autoscaling: { ...backoff, reconcileInterval: '2s' } }),
    rawSpecFor('fsbadpw', { min: 1, vsphere: viaRelay, autoscaling: { ...backoff, reconcileInterval: '2s' } }),
    // The same endpoint and user, with a cap long enough that only an operator's resume tries it again in this test.
    // Another credential name for the same user: another client, the same refusal.
    rawSpecFor('fsbadlong', { min: 1, vsphere: { ...viaRelay, credentialRef: 'wrong2' }, autoscaling: { failureBackoff: { initial: '2s', max: '10m' }, reconcileInterval: '2s' } }),
  ];
  const wrongPassword = { username: e.vsphereUsername, password: 'not-the-password' };
  const appliedAt = Date.now();
  const first = workerWith({ wrong: wrongPassword, wrong2: wrongPassword }, 'failsafe-worker-1');
  for (const raw of specs) await applyCluster(client, parseClusterSpec(raw));

  // Watch until the probes have come round twice: three runs of the short-cap clusters.
  await eventually('three runs of fsnocred and of fsbadpw', 120_000, async () => ((await scaleOutRuns('fsnocred')).length >= 3 && (await scaleOutRuns('fsbadpw')).length >= 3 ? true : undefined), 1000);
  const watchedUntil = Date.now();
  // From the worker's start: its first reconcile logs in before the first run.
  const windowS = (watchedUntil - appliedAt) / 1000;
  for (const c of ['fsnocred', 'fsbadpw']) {
    const runs = await scaleOutRuns(c);
    // A probe per cap after the first run (a run takes a moment, so the gaps between starts are a little longer).
    expect(runs.length).toBeLessThanOrEqual(Math.floor(windowS / CAP_S) + 2);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.start - runs[i - 1]!.close!).toBeGreaterThanOrEqual(CAP_S * 1000 - 1000);
    const st = await clusterStatus(client, c);
    const able = st.conditions.find((x) => x.type === 'AbleToScale')!;
    expect([able.status, able.reason]).toEqual(['False', c === 'fsnocred' ? 'CredentialMissing' : 'BadCredentials']);
    expect(st.backoff.map((b) => [b.kind, b.suspended])).toEqual([['scale-out', true]]);
  }
  // The long-cap cluster made its one run and waits.
  expect(await scaleOutRuns('fsbadlong')).toHaveLength(1);
  // Two clusters and their reconciles share one refused login per interval at vCenter.
  const logins = relay.logins.filter((t) => t <= watchedUntil);
  expect(logins.length).toBeGreaterThanOrEqual(1);
  expect(logins.length).toBeLessThanOrEqual(Math.floor(windowS / CAP_S) + 1);
  for (let i = 1; i < logins.length; i++) expect(logins[i]! - logins[i - 1]!).toBeGreaterThanOrEqual(CAP_S * 1000 - 500);
  expect(vsphereVms('fs')).toEqual([]);

  // The worker restarted with the right credentials: the short-cap clusters reach min at their next probe, with no
  // operator action; the long-cap one only on resume.
  await stop(first);
  const lab0 = { username: e.vsphereUsername, password: e.vspherePassword };
  workerWith({ missing: lab0, wrong: lab0, wrong2: lab0 }, 'failsafe-worker-2');
  for (const c of ['fsnocred', 'fsbadpw']) {
    await eventually(`${c} at min`, (CAP_S + 45) * 1000, async () => {
      const st = await clusterStatus(client, c);
      return st.current === 1 && !st.currentOperation ? st : undefined;
    });
    const st = await clusterStatus(client, c);
    expect(st.decisions.some((d) => d.code === 'BackoffCleared')).toBe(false);
    expect(st.backoff).toEqual([]);
  }
  expect(await scaleOutRuns('fsbadlong')).toHaveLength(1);
  await setPaused(client, 'fsbadlong', false, 'ops');
  // Within a minute of the resume, where its probe was not due for ten.
  const resumed = await eventually('fsbadlong at min after resume', 60_000, async () => {
    const st = await clusterStatus(client, 'fsbadlong');
    return st.current === 1 ? st : undefined;
  });
  expect(resumed.decisions.filter((d) => d.code === 'BackoffCleared').map((d) => d.reason)).toEqual([expect.stringMatching(/^resume: scale-out suspended after 1 failed run\(s\) \(BadCredentials\)/)]);
  expect(await scaleOutRuns('fsbadlong')).toHaveLength(2);
  expect(vsphereVms('fs')).toHaveLength(3);
  expect(backendServers('fs')).toHaveLength(3);
});

test('a worker started before its Temporal server says in one line what it tried to reach, keeps trying with backoff, and runs once it can; an unknown namespace ends it at once', async () => {
  const e = lab();
  const logOf = (name: string) => path.join(e.credentialsFile, '..', 'logs', `${name}.log`);
  // A port where nothing listens yet; later a relay to the lab's Temporal takes it.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  // Log files of their own for this run (a log is appended to across runs of the suite on one lab).
  const earlyLog = `failsafe-early-worker-${Date.now()}`;
  const nsLog = `failsafe-namespace-worker-${Date.now()}`;
  const early = spawnWorkerProcess(QUEUE, earlyLog, spawned, { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
  const retries = await eventually('two retry lines', 30_000, () => {
    const lines = readFileSync(logOf(earlyLog), 'utf8').split('\n').filter((l) => l.includes('cannot reach Temporal'));
    return lines.length >= 2 ? lines : undefined;
  });
  const first = JSON.parse(retries[0]!) as { msg: string; retryInMs: number };
  const second = JSON.parse(retries[1]!) as { msg: string; retryInMs: number };
  expect(first.msg).toBe(`cannot reach Temporal at 127.0.0.1:${port}: connection refused: nothing listens there yet; trying again in 1 s`);
  expect(second.retryInMs).toBe(2 * first.retryInMs);
  expect(early.exitCode).toBeNull();

  const temporal = new URL(`http://${e.temporalAddress}`);
  const relay = net.createServer((c) => {
    const up = net.connect({ host: temporal.hostname, port: Number(temporal.port) });
    for (const s of [c, up]) s.on('error', () => undefined);
    c.pipe(up).pipe(c);
  });
  await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
  try {
    await eventually('the worker running', 60_000, () => readFileSync(logOf(earlyLog), 'utf8').includes('"msg":"worker running"'));
    expect(early.exitCode).toBeNull();
  } finally {
    await stop(early);
    relay.close();
  }

  const wrong = spawnWorkerProcess(QUEUE, nsLog, spawned, { TEMPORAL_NAMESPACE: 'no-such-namespace' });
  const code = await new Promise<number | null>((r) => (wrong.exitCode !== null ? r(wrong.exitCode) : wrong.once('exit', r)));
  expect(code).toBe(1);
  const said = readFileSync(logOf(nsLog), 'utf8');
  expect(said).toContain(`poolpilot worker: cannot use Temporal at ${e.temporalAddress}: namespace "no-such-namespace" does not exist on ${e.temporalAddress} (TEMPORAL_NAMESPACE)`);
  expect(said).not.toMatch(/tonic::|Status \{/);
});
