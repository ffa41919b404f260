// Clone modes on the lab's vcsim. vcsim keeps no disk chains and has no InstantClone_Task (../shared/ARCHITECTURE.md),
// so what a real vCenter acts on is checked in the SOAP body poolpilot sends: a linked clone names the template's
// current snapshot (as govc reports it) and createNewChildDiskBacking, in the schema's element order; an instant
// clone is InstantClone_Task with the name and the folder and pool, and vcsim's refusal of it comes back in one line.
import { VimClient } from '../../src/activities/compute/vim';
import { VsphereCompute } from '../../src/activities/compute/vsphere';
import { vsphereSchema } from '../../src/config/spec';
import { LAB_INVENTORY } from '../../src/lab/state';
import { govc, lab } from './harness';

function compute(over: Record<string, unknown>) {
  const e = lab();
  const sent: { method: string; body: string }[] = [];
  const client = new VimClient({ url: e.vsphereUrl, username: e.vsphereUsername, password: e.vspherePassword, insecure: true, observe: (r) => void sent.push(r) });
  const spec = vsphereSchema.parse({ url: e.vsphereUrl, credentialRef: 'lab', insecure: true, datacenter: 'DC0', template: LAB_INVENTORY.template, folder: e.folder, resourcePool: LAB_INVENTORY.resourcePool, network: LAB_INVENTORY.network, ...over });
  return { c: new VsphereCompute(client, spec, 'web'), sent, client };
}

const made: string[] = [];
afterAll(() => {
  for (const name of made) {
    try {
      govc('vm.destroy', name);
    } catch {
      // not made: nothing to destroy
    }
  }
});

test('linked: a template without a snapshot is refused in one line; with one, the clone names it and a child disk backing', async () => {
  const { c, client } = compute({ cloneMode: 'linked' });
  try {
    const err = (await c.cloneVm('clm-1-0').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^vsphere\.cloneMode linked clones from the template's current snapshot, and \/DC0\/vm\/web-template has none: take one/);
    expect(govc('ls', lab().folder)).not.toMatch(/clm-1-0/);
  } finally {
    client.close();
  }
  govc('snapshot.create', '-vm', LAB_INVENTORY.template, 'clone-base');
  try {
    const snapshotRef = govc('snapshot.tree', '-vm', LAB_INVENTORY.template, '-i').match(/(snapshot-\d+)/)![1]!;
    const { c: linked, sent, client: c2 } = compute({ cloneMode: 'linked' });
    try {
      made.push('clm-1-0');
      const vm = await linked.cloneVm('clm-1-0');
      expect(vm).toMatchObject({ name: 'clm-1-0', adopted: false, powerState: 'poweredOn' });
      const body = sent.find((r) => r.method === 'CloneVM_Task')!.body;
      expect(body).toMatch(/<location><diskMoveType>createNewChildDiskBacking<\/diskMoveType><pool type="ResourcePool">[^<]+<\/pool><\/location>/);
      expect(body).toMatch(new RegExp(`<powerOn>false</powerOn><snapshot type="VirtualMachineSnapshot">${snapshotRef}</snapshot></spec>`));
      expect(govc('ls', lab().folder)).toMatch(/clm-1-0/);
    } finally {
      c2.close();
    }
  } finally {
    govc('snapshot.remove', '-vm', LAB_INVENTORY.template, 'clone-base');
  }
});

test('full (the default): no snapshot and no disk move type in the clone', async () => {
  const { c, sent, client } = compute({});
  try {
    made.push('clm-2-0');
    await c.cloneVm('clm-2-0');
    const body = sent.find((r) => r.method === 'CloneVM_Task')!.body;
    expect(body).not.toMatch(/diskMoveType|<snapshot/);
  } finally {
    client.close();
  }
});

test('instant: InstantClone_Task from the source with the name, folder and pool; vcsim has none, and says so in one line', async () => {
  const { c, sent, client } = compute({ cloneMode: 'instant' });
  try {
    const err = (await c.cloneVm('clm-3-0').catch((e: unknown) => e)) as Error;
    const req = sent.find((r) => r.method === 'InstantClone_Task')!;
    expect(req.body).toMatch(/<_this type="VirtualMachine">[^<]+<\/_this><spec><name>clm-3-0<\/name><location><folder type="Folder">[^<]+<\/folder><pool type="ResourcePool">[^<]+<\/pool><\/location><\/spec>/);
    expect(sent.some((r) => r.method === 'CloneVM_Task')).toBe(false);
    expect(err).toBeInstanceOf(Error);
    expect(err.message.split('\n')).toHaveLength(1);
    expect(govc('ls', lab().folder)).not.toMatch(/clm-3-0/);
  } finally {
    client.close();
  }
});

test('an instant clone with a customization spec is refused by the spec', () => {
  const e = lab();
  expect(() => vsphereSchema.parse({ url: e.vsphereUrl, credentialRef: 'lab', datacenter: 'DC0', template: '/DC0/vm/t', folder: '/DC0/vm/p', resourcePool: '/DC0/host/C/Resources', network: 'VM Network', cloneMode: 'instant', customizationSpec: 'linux' })).toThrow(
    /an instant clone keeps the running source's guest state: drop customization,/,
  );
});
