// deploy/systemd: the units start commands the CLI has, systemd accepts them, and the environment file sets only
// variables poolpilot reads (a typo there would be silently ignored by systemd).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildProgram } from '../../src/cli/index';
import { PROJECT_ROOT, settingsSchema } from '../../src/config/settings';

const dir = path.join(PROJECT_ROOT, 'deploy', 'systemd');
const units = ['poolpilot-worker.service', 'poolpilot-api.service'];

test.each(units.map((u) => [u]))('%s starts a command the CLI has, as the poolpilot user, from the environment file', (unit) => {
  const text = readFileSync(path.join(dir, unit), 'utf8');
  const exec = /^ExecStart=(.*)$/m.exec(text)![1]!.split(/\s+/);
  expect(exec.slice(0, 2)).toEqual(['/usr/bin/node', '/opt/poolpilot/bin/poolpilot.js']);
  const names = buildProgram(() => undefined).commands.map((c) => c.name());
  expect(names).toContain(exec[2]);
  expect(text).toMatch(/^User=poolpilot$/m);
  expect(text).toMatch(/^EnvironmentFile=\/etc\/poolpilot\/poolpilot\.env$/m);
});

test('systemd-analyze accepts the units', () => {
  // systemd's own parser: unknown keys or sections, bad values. (It is part of systemd, present where units run.)
  // It exits 0 on what it ignores (an unknown key, a bad value) and says so on standard error.
  const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => path.join(dir, u))], { encoding: 'utf8' });
  expect([r.status, r.stdout.trim(), r.stderr.trim()]).toEqual([0, '', '']);
});

test('the environment file sets only variables poolpilot or Temporal read', () => {
  const known = new Set(Object.keys(settingsSchema.shape));
  const set = readFileSync(path.join(dir, 'poolpilot.env.example'), 'utf8')
    .split('\n')
    .map((l) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter((k): k is string => !!k);
  expect(set.length).toBeGreaterThan(5);
  for (const k of set) expect([k, known.has(k) || /^TEMPORAL_/.test(k) || /^POOLPILOT_CRED_[A-Z0-9_]+_(USERNAME|PASSWORD)$/.test(k)]).toEqual([k, true]);
});
