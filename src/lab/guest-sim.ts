// The lab's guest simulator: plays each powered-on VM's guest OS (boot, VMware Tools, an IP, an HTTP service of fixed capacity).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Socket } from 'node:net';
import { VimClient, asArray, el, moref, text, toMoref, type Moref } from '../activities/compute/vim';
import { VsphereCompute } from '../activities/compute/vsphere';
import type { VmInfo } from '../activities/compute/provider';
import { endpoints, LAB_INVENTORY, readLabState, type LabConfig } from './lab';

interface Guest {
  /** The VM's managed object id. */
  id: string;
  vm: string;
  poweredOnAt: number;
  ip?: string;
  server?: http.Server;
  sockets: Set<Socket>;
  served: number;
}

/** The file that makes a guest's health check fail while it exists (`setGuestHealth`), as a broken application would. */
export const sickFile = (dataDir: string, vm: string) => path.join(dataDir, 'sick', vm);

/** Makes `vm`'s health check fail (healthy false) or pass again; its service keeps answering either way. */
export function setGuestHealth(dataDir: string, vm: string, healthy: boolean): void {
  if (healthy) rmSync(sickFile(dataDir, vm), { force: true });
  else {
    mkdirSync(path.dirname(sickFile(dataDir, vm)), { recursive: true });
    writeFileSync(sickFile(dataDir, vm), `${new Date().toISOString()}\n`);
  }
}

/**
 * An HTTP service that runs at most `concurrency` requests at once, each taking `serviceTimeMs`; the rest wait.
 * `/healthz` answers 503 while `sick()`.
 */
export function createGuestServer(vm: string, cfg: LabConfig['guest'], sick: () => boolean = () => false): { server: http.Server; served: () => number } {
  let active = 0;
  let served = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    const next = waiting.shift();
    if (next) next();
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      if (sick()) res.writeHead(503, { 'content-type': 'text/plain' }).end('unhealthy\n');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const work = () => {
      active++;
      setTimeout(() => {
        served++;
        res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': vm }).end(`served by ${vm}\n`);
        release();
      }, cfg.serviceTimeMs);
    };
    if (active < cfg.concurrency) work();
    else waiting.push(work);
  });
  server.keepAliveTimeout = 5000;
  return { server, served: () => served };
}

async function main(dataDir: string): Promise<void> {
  const state = readLabState(dataDir);
  if (!state) throw new Error(`no lab state in ${dataDir}`);
  const cfg = state.config;
  const e = endpoints(state);
  const client = new VimClient({ url: e.vsphereUrl, username: e.vsphereUsername, password: e.vspherePassword, insecure: true });
  const inventory = { url: e.vsphereUrl, credentialRef: 'lab', insecure: true, ...LAB_INVENTORY, guestTimeout: 0, outageTolerance: 0 };
  const never = cfg.guest.neverIpPattern ? new RegExp(cfg.guest.neverIpPattern) : undefined;
  const guests = new Map<string, Guest>();
  const usedIps = new Set<string>();
  const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);

  const allocateIp = (): string => {
    for (let i = 2; i < 255; i++) {
      const ip = `${cfg.guestSubnet}.${i}`;
      if (!usedIps.has(ip)) return ip;
    }
    throw new Error(`no free address left in ${cfg.guestSubnet}.0/24`);
  };

  const stopGuest = (g: Guest) => {
    if (g.server) {
      for (const s of g.sockets) s.destroy();
      g.server.close();
      g.server = undefined;
    }
    if (g.ip) usedIps.delete(g.ip);
    guests.delete(g.id);
    log(`${g.vm}: guest stopped`);
  };

  /** Sets guest properties through vcsim's extraConfig hooks, as a guest OS reports them. */
  const setGuest = (vm: VmInfo, values: Record<string, string>) => {
    const ref = { type: 'VirtualMachine', value: vm.id };
    const extra = (k: string, v: string) => `<extraConfig>${el('key', k)}<value xsi:type="xsd:string">${v}</value></extraConfig>`;
    return client.runTask('ReconfigVM_Task', () => moref(ref) + `<spec>${Object.entries(values).map(([k, v]) => extra(k, v)).join('')}</spec>`);
  };

  const serve = (g: Guest, ip: string) =>
    new Promise<void>((resolve, reject) => {
      const { server } = createGuestServer(g.vm, cfg.guest, () => existsSync(sickFile(dataDir, g.vm)));
      server.on('connection', (s: Socket) => {
        g.sockets.add(s);
        s.on('close', () => g.sockets.delete(s));
      });
      server.once('error', reject);
      server.listen(cfg.memberPort, ip, () => {
        g.server = server;
        resolve();
      });
    });

  const boot = async (vm: VmInfo, g: Guest) => {
    // A VM that already reports an address (the simulator restarted) keeps it; so does one whose guest customization
    // gave it a loopback address (vcsim shows a customized address from power-on, as the guest's own configuration).
    const configured = vm.ip && !vm.toolsRunning && vm.ip.startsWith('127.') && !usedIps.has(vm.ip) ? vm.ip : undefined;
    const ip = vm.toolsRunning && vm.ip ? vm.ip : (configured ?? allocateIp());
    usedIps.add(ip);
    g.ip = ip;
    await serve(g, ip);
    if (!(vm.toolsRunning && vm.ip === ip)) await setGuest(vm, { 'SET.guest.toolsRunningStatus': 'guestToolsRunning', 'SET.guest.ipAddress': ip });
    log(`${vm.name}: tools running, ${ip}:${cfg.memberPort} serving`);
  };

  let busy = false;
  // A tick asked for while one runs (a guest's boot timer firing mid-poll) runs right after it, not at the next poll.
  let again = false;
  const tick = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      // The inventory is looked up afresh each poll: a restarted vcsim rebuilds it, and an old reference can then
      // name another folder without any fault.
      const vms = await new VsphereCompute(client, inventory, '').listVms('');
      // Guests are keyed by the VM's id, not its name: a warm VM renamed into a member is the same running guest.
      const seen = new Set<string>();
      for (const vm of vms) {
        if (vm.name === 'web-template') continue;
        seen.add(vm.id);
        let g = guests.get(vm.id);
        if (vm.powerState !== 'poweredOn') {
          if (g) stopGuest(g);
          // A guest that is off runs no Tools (vcsim keeps reporting the last state; a real vCenter does not).
          if (vm.toolsRunning) await setGuest(vm, { 'SET.guest.toolsRunningStatus': 'guestToolsNotRunning' }).catch((err: Error) => log(`${vm.name}: ${err.message}`));
          continue;
        }
        if (!g) {
          g = { id: vm.id, vm: vm.name, poweredOnAt: Date.now(), sockets: new Set(), served: 0 };
          guests.set(vm.id, g);
          if (vm.toolsRunning && vm.ip) g.poweredOnAt = 0;
          // Booted on time, not at the poll after: a guest's boot is the lab's physical time, and polls are not.
          else setTimeout(() => void tick(), cfg.guest.bootDelayMs + 1);
          log(`${vm.name}: powered on, booting`);
        }
        g.vm = vm.name;
        if (g.ip || never?.test(vm.name)) continue;
        if (Date.now() - g.poweredOnAt < cfg.guest.bootDelayMs) continue;
        await boot(vm, g).catch((err: Error) => {
          log(`${vm.name}: boot failed: ${err.message}`);
          if (g!.ip) usedIps.delete(g!.ip);
          g!.ip = undefined;
        });
      }
      for (const g of [...guests.values()]) if (!seen.has(g.id)) stopGuest(g);
    } catch (err) {
      log(`poll failed: ${(err as Error).message}`);
    } finally {
      busy = false;
      if (again) {
        again = false;
        void tick();
      }
    }
  };

  /**
   * Which VMs are on, read every 25 ms in one cheap call (their power state, by a traversal from the pool folder); a
   * change runs the full poll at once. A guest then starts booting when vCenter powers its VM on: with the 100 ms poll
   * alone it started up to 100 ms later, a boot longer than `bootDelayMs`, which the benchmarks count as physical time.
   * (A property collector's WaitForUpdatesEx on a container view of the VMs was tried first: vcsim v0.46.3 panicked in
   * FindChild on a VM without a name while clones ran, and then answered nothing.)
   */
  let folder: Moref | undefined;
  let poweredOn = '';
  let watching = false;
  const watchPower = async () => {
    if (watching) return;
    watching = true;
    try {
      folder ??= await client.findByInventoryPath(LAB_INVENTORY.folder);
      if (!folder) return;
      const children = `<selectSet xsi:type="TraversalSpec">${el('name', 'children')}${el('type', 'Folder')}${el('path', 'childEntity')}${el('skip', false)}</selectSet>`;
      const r = (await client.call(
        'RetrievePropertiesEx',
        (sc) => moref(sc.propertyCollector) + `<specSet><propSet>${el('type', 'VirtualMachine')}${el('pathSet', 'runtime.powerState')}</propSet><objectSet>${moref(folder!, 'obj')}${el('skip', true)}${children}</objectSet></specSet><options></options>`,
      )) as { objects?: unknown } | undefined;
      const on = asArray(r?.objects as Record<string, unknown>[] | Record<string, unknown> | undefined)
        .filter((o) => asArray(o.propSet as Record<string, unknown>[] | Record<string, unknown> | undefined).some((p) => text(p.val) === 'poweredOn'))
        .map((o) => toMoref(o.obj)?.value ?? '')
        .sort()
        .join(',');
      if (on !== poweredOn) {
        poweredOn = on;
        void tick();
      }
    } catch {
      // A restarted simulator may give the folder a new reference; the full poll reports what is wrong.
      folder = undefined;
    } finally {
      watching = false;
    }
  };
  const watcher = setInterval(() => void watchPower(), 25);

  log(`guest simulator watching ${LAB_INVENTORY.folder} at ${e.vsphereUrl}; guests serve on ${cfg.guestSubnet}.x:${cfg.memberPort}`);
  // Every 100 ms as well: what the power watch above does not see (a rename, a guest's address, a restarted simulator).
  const timer = setInterval(() => void tick(), 100);
  const stop = () => {
    clearInterval(timer);
    clearInterval(watcher);
    for (const g of [...guests.values()]) stopGuest(g);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main(process.argv[2] ?? '.data/lab').catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
