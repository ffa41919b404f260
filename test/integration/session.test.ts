// vSphere sessions ended by someone else (an administrator, another client's SessionManager.TerminateSession, here
// govc's session.rm): every read, the customization spec's included, logs in again instead of failing.
import { execFileSync } from 'node:child_process';
import { VimClient } from '../../src/activities/compute/vim';
import { findTool } from '../../src/lab/tools';
import { lab } from './harness';

const SESSION_MANAGER = { type: 'SessionManager', value: 'SessionManager' };

function govc(...args: string[]): string {
  const e = lab();
  return execFileSync(findTool('govc')!, args, {
    encoding: 'utf8',
    env: { ...process.env, GOVC_URL: e.vsphereUrl, GOVC_USERNAME: e.vsphereUsername, GOVC_PASSWORD: e.vspherePassword, GOVC_INSECURE: '1', GOVC_PERSIST_SESSION: 'false' },
  });
}

test('a customization spec read after the session was terminated by another client logs in again; a spec that does not exist is still "none"', async () => {
  const e = lab();
  const client = new VimClient({ url: e.vsphereUrl, username: e.vsphereUsername, password: e.vspherePassword, insecure: true });
  try {
    const before = (await client.retrieveOne(SESSION_MANAGER, ['currentSession'])) as { currentSession: { key: string } };
    const key = before.currentSession.key;
    expect(key).toMatch(/\S/);
    expect(govc('session.ls')).toContain(key);
    govc('session.rm', key);
    expect(govc('session.ls')).not.toContain(key);
    // The lookup that used to read an ended session's NotAuthenticated fault as "no such spec".
    const xml = await client.customizationSpecXml('vcsim-linux');
    expect(xml).toMatch(/<identity[\s>]/);
    const after = (await client.retrieveOne(SESSION_MANAGER, ['currentSession'])) as { currentSession: { key: string } };
    expect(after.currentSession.key).not.toBe(key);
    expect(govc('session.ls')).toContain(after.currentSession.key);
    await expect(client.customizationSpecXml('no-such-spec')).resolves.toBeUndefined();
  } finally {
    await client.logout();
    client.close();
  }
});
