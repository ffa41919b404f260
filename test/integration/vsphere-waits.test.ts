// Waits on the lab's vcsim through the property collector (WaitForUpdatesEx), not by polling: a task's end and a
// VM's state are told as they change; the activity's cancellation ends a wait at once; a session that ends mid-wait
// is logged in again and the wait goes on.
import { withCancellation } from '../../src/activities/cancellation';
import { el, moref, VimClient } from '../../src/activities/compute/vim';
import { LAB_INVENTORY } from '../../src/lab/state';
import { govc, lab } from './harness';

function client(sent: string[] = []) {
  const e = lab();
  return new VimClient({ url: e.vsphereUrl, username: e.vsphereUsername, password: e.vspherePassword, insecure: true, observe: (r) => void sent.push(r.method) });
}
const made: string[] = [];
afterAll(() => {
  for (const name of made) govc('vm.destroy', `${lab().folder}/${name}`);
});

async function cloneOff(c: VimClient, name: string) {
  const [tpl, folder, pool] = await Promise.all([c.findByInventoryPath(LAB_INVENTORY.template), c.findByInventoryPath(lab().folder), c.findByInventoryPath(LAB_INVENTORY.resourcePool)]);
  made.push(name);
  await c.runTask('CloneVM_Task', () => moref(tpl!) + moref(folder!, 'folder') + el('name', name) + `<spec><location>${moref(pool!, 'pool')}</location>${el('template', false)}${el('powerOn', false)}</spec>`);
  return (await c.findByInventoryPath(`${lab().folder}/${name}`))!;
}
const powerOf = (props: Record<string, unknown> | undefined) => (props?.['runtime.powerState'] as { '#text'?: string } | undefined)?.['#text'];

test("a task's end is told by the property collector: no property reads in a loop", async () => {
  const sent: string[] = [];
  const c = client(sent);
  try {
    await cloneOff(c, 'wfu-1');
    const after = sent.slice(sent.indexOf('CloneVM_Task'));
    expect(after).toEqual(expect.arrayContaining(['CreatePropertyCollector', 'CreateFilter', 'WaitForUpdatesEx']));
    expect(after.filter((m) => m === 'RetrievePropertiesEx')).toEqual([]);
  } finally {
    c.close();
  }
});

test("the activity's cancellation ends a wait at once, long before vCenter's own wait would", async () => {
  const ac = new AbortController();
  let waits = 0;
  // Cancelled once the second WaitForUpdatesEx is on its way: vCenter would answer it only after 120 s.
  const e = lab();
  const c = new VimClient({
    url: e.vsphereUrl,
    username: e.vsphereUsername,
    password: e.vspherePassword,
    insecure: true,
    observe: (r) => void (r.method === 'WaitForUpdatesEx' && ++waits === 2 && setImmediate(() => ac.abort(new Error('activity cancelled')))),
  });
  try {
    const vm = await cloneOff(c, 'wfu-2');
    const started = Date.now();
    const never = withCancellation(ac.signal, () => c.waitForProperties(vm, ['runtime.powerState'], () => undefined, { timeoutMs: 240_000, maxWaitSeconds: 120 }));
    // The request in flight is aborted (Node's AbortError), or the next one is never sent (the signal's reason).
    await expect(never).rejects.toThrow(/activity cancelled|operation was aborted/);
    expect(waits).toBe(2);
    // Ended by the cancellation, not by vCenter's answer to a 120 s wait.
    expect(Date.now() - started).toBeLessThan(120_000);
  } finally {
    c.close();
  }
});

test('a session ended mid-wait: logged in again, the wait goes on and sees the change', async () => {
  const sent: string[] = [];
  const c = client(sent);
  try {
    const vm = await cloneOff(c, 'wfu-3');
    const on = c.waitForProperties(vm, ['runtime.powerState'], (p) => (powerOf(p) === 'poweredOn' ? 'on' : undefined), { timeoutMs: 60_000, maxWaitSeconds: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const logins = sent.filter((m) => m === 'Login').length;
    await c.logout();
    govc('vm.power', '-on', `${lab().folder}/wfu-3`);
    expect(await on).toBe('on');
    expect(sent.filter((m) => m === 'Login').length).toBe(logins + 1);
  } finally {
    c.close();
  }
});
