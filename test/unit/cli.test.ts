// The command line: --help everywhere exits 0 without connecting to anything; wrong input exits 2 with one line;
// the lab is read only when asked.
import { useCliHarness } from './cli-harness';
import { specExamples } from '../examples';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildProgram, main } from '../../src/cli/index';
import { commandContext } from '../../src/cli/context';
import type { Command } from 'commander';

const cli = useCliHarness();
const out = cli.out;

/** Every command path of the program: ['cluster', 'status'], ['backtest'], ... */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}
const paths = commandPaths(buildProgram(() => undefined));

test('the program has the commands the README lists', () => {
  expect(paths.map((p) => p.join(' '))).toEqual(
    expect.arrayContaining(['lab up', 'lab down', 'lab status', 'tools install', 'worker', 'scale-out', 'scale-in', 'members', 'cluster apply', 'cluster status', 'cluster scale', 'cluster delete', 'api', 'backtest', 'demo']),
  );
});

test.each(paths.map((p) => [p.join(' ')]))('%s --help exits 0 and connects to nothing', async (p) => {
  expect(await main([...p.split(' '), '--help'])).toBe(0);
  expect(out.join('')).toMatch(/Usage: poolpilot/);
  expect(cli.connections()).toBe(0);
});

test('no arguments prints the same help as --help, footer included, and exits 0', async () => {
  expect(await main([])).toBe(0);
  const bare = out.join('');
  out.length = 0;
  expect(await main(['--help'])).toBe(0);
  expect(bare).toMatch(/Commands:[\s\S]*Exit codes: 0 done/);
  expect(bare).toBe(out.join(''));
});

test('--version prints the package version and exits 0', async () => {
  expect(await main(['--version'])).toBe(0);
  expect(out.join('').trim()).toBe((JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
  expect(cli.connections()).toBe(0);
});

const examples = specExamples().map((f) => [f]);
test.each(examples)('cluster validate accepts examples/%s offline', async (f) => {
  expect(await main(['cluster', 'validate', '-f', path.join(__dirname, '..', '..', 'examples', f)])).toBe(0);
  expect(out.join('')).toMatch(/: a valid spec of cluster [a-z0-9]+: \d+\.\.\d+ members from (vsphere|openstack) /);
  expect(cli.connections()).toBe(0);
});

test('cluster validate --json gives the spec as parsed; a broken spec exits 2 naming the field', async () => {
  expect(await main(['cluster', 'validate', '-f', 'examples/web.yaml', '--json'])).toBe(0);
  expect(JSON.parse(out.join(''))).toMatchObject({ valid: true, cluster: 'web', spec: { name: 'web', autoscaling: { pollInterval: 5000 } } });
  out.length = 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'pp-validate-'));
  writeFileSync(path.join(dir, 'bad.yaml'), readFileSync('examples/web.yaml', 'utf8').replace(/^min:/m, 'mni:'));
  expect(await main(['cluster', 'validate', '-f', path.join(dir, 'bad.yaml')])).toBe(2);
  expect(out.join('')).toMatch(/bad\.yaml:\n\s+- min: required\n\s+- \(top level\): unknown key "mni" \(did you mean "min"\?\)/);
  expect(cli.connections()).toBe(0);
});

test('the mutating commands take --json, as the reading ones do', () => {
  const program = buildProgram(() => undefined);
  const find = (p: string) => p.split(' ').reduce<Command>((c, n) => c.commands.find((x) => x.name() === n)!, program);
  for (const p of ['cluster apply', 'cluster scale', 'cluster pause', 'cluster resume', 'cluster delete', 'hook complete', 'scale-out', 'scale-in', 'cluster validate', 'cluster list', 'cluster status', 'members', 'backtest', 'lab status', 'lab up']) {
    expect([p, find(p).options.some((o) => o.long === '--json')]).toEqual([p, true]);
  }
});

test('old spellings are parsed but left out of --help: one name for one thing', async () => {
  const program = buildProgram(() => undefined);
  const help = (p: string) => p.split(' ').reduce<Command>((c, n) => c.commands.find((x) => x.name() === n)!, program).helpInformation();
  expect(help('backtest')).toMatch(/-f, --file <file>/);
  expect(help('backtest')).not.toMatch(/--cluster/);
  expect(help('demo')).toMatch(/-f, --file <file>/);
  expect(help('demo')).not.toMatch(/--spec/);
  for (const p of ['lab up', 'lab down', 'lab status', 'lab history']) expect(help(p)).not.toMatch(/--data-dir/);
  // The old spelling still reads the spec: the same refusal as with -f.
  expect(await main(['backtest', '--cluster', 'examples/web.yaml', '--trace', 'examples/traces/nasa-http-1995.per-minute.csv', '--max', '0'])).toBe(2);
  expect(out.join('')).toMatch(/the spec's min 1 is above --max 0/);
  out.length = 0;
  expect(await main(['backtest', '-f', 'examples/web.yaml', '--trace', 'nope.csv'])).toBe(2);
  expect(out.join('')).toMatch(/cannot read --trace nope\.csv: no such file/);
});

test('completion bash: the words after each command, from the program itself, as bash completes them', async () => {
  expect(await main(['completion', 'bash'])).toBe(0);
  const script = out.join('');
  const complete = (line: string) =>
    execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _poolpilot; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).trim();
  expect(complete('poolpilot clu')).toBe('cluster');
  expect(complete('poolpilot cluster ap')).toBe('apply');
  expect(complete('poolpilot --lab cluster apply --d')).toBe('--dry-run');
  expect(complete('poolpilot cluster scale web --o')).toBe('--out');
  expect(complete('poolpilot backtest -f examples/web.yaml --sw')).toBe('--sweep-objective');
  // Hidden old spellings are not offered.
  expect(complete('poolpilot demo --s')).toBe('--spawn-rate');
  out.length = 0;
  expect(await main(['completion', 'fish'])).toBe(2);
  expect(out.join('')).toMatch(/the shell must be bash or zsh, not "fish"/);
});

const wrong: [string, string[], RegExp][] = [
  ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['a malformed count', ['cluster', 'scale', 'web', '--out', 'two'], /--out must be a whole number of at least 1, not "two"/],
  ['two of --out/--in/--desired', ['cluster', 'scale', 'web', '--out', '1', '--in', '1'], /give exactly one of --out N, --in N, --desired N/],
  ['neither a spec nor a cluster', ['scale-out', '--count', '1'], /give one of -f, --file <file> \(a cluster spec\) or --cluster <name> \(a running cluster\)/],
  ['both a spec and a cluster', ['members', '-f', 'examples/web.yaml', '--cluster', 'web'], /give one of -f, --file <file>/],
  ['a spec file that is not there', ['scale-out', '-f', 'nope.yaml', '--count', '1'], /cannot read the cluster spec nope\.yaml: no such file/],
  ['backtest without a spec', ['backtest', '--trace', 'x.csv'], /required option '-f, --file <file>' not specified/],
  ['a spec file that does not parse', ['cluster', 'apply', '-f', path.join(__dirname, '..', '..', 'package.json')], /invalid cluster spec .*package\.json/],
  ['an unknown peer', ['backtest', '--cluster', 'examples/web.yaml', '--trace', 'x.csv', '--compare', 'hpa,k8s'], /--compare: unknown policy k8s/],
  ['lab history: a rate that is not a number', ['lab', 'history', '--peak', 'lots'], /--peak must be a number of 0 or more, not "lots"/],
  ['lab history: more than 15 days', ['lab', 'history', '--hours', '400'], /--hours must be 1 to 360 \(15 days\), not 400/],
  ['lab history: a peak under the trough', ['lab', 'history', '--trough', '50', '--peak', '10'], /--peak must be at least --trough \(50\), not 10/],
  ['lab history with no lab up', ['lab', 'history', '--data-dir', '/nonexistent/lab'], /the lab at \/nonexistent\/lab is not up with Prometheus: run "poolpilot lab up" first/],
  ['--lab-dir with no lab up', ['--lab-dir', '/nonexistent/lab', 'cluster', 'list'], /no lab is up in \/nonexistent\/lab/],
  // A relative folder is taken from here: the lab's processes run elsewhere, where it would name another place.
  ['a relative --lab-dir', ['--lab-dir', 'nonexistent/lab', 'cluster', 'list'], new RegExp(`no lab is up in ${path.resolve('nonexistent/lab').replace(/[/.]/g, '\\$&')} `)],
  ['--lab before a command is a flag, not a folder', ['--lab', 'cluster', 'scale', 'web', '--out', 'x'], /--out must be a whole number of at least 1, not "x"/],
];
test.each(wrong)('%s: one line, exit 2, nothing changed', async (_name, argv, message) => {
  expect(await main(argv)).toBe(2);
  expect(out.join('')).toMatch(message);
  expect(cli.connections()).toBe(0);
});

test('a Temporal host name that does not resolve is said at once, with where the address came from', async () => {
  const saved = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = 'nosuchhost.invalid:7233';
  try {
    expect(await main(['cluster', 'list'])).toBe(1);
    expect(out.join('')).toMatch(/cannot reach Temporal at nosuchhost\.invalid:7233: the name nosuchhost\.invalid does not resolve \(TEMPORAL_ADDRESS is nosuchhost\.invalid:7233\)/);
  } finally {
    process.env.TEMPORAL_ADDRESS = saved;
  }
});

test('commands that never connect never load the Temporal SDK (a fifth of a second at every start); one that connects does', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pp-lazy-'));
  // Three hours of demand, one row a minute: enough for a backtest to run its policies.
  const csv = path.join(dir, 'demand.csv');
  writeFileSync(csv, ['minute,requests', ...Array.from({ length: 180 }, (_, i) => `${i},${100 + 60 * Math.sin(i / 20)}`)].join('\n'));
  const broken = path.join(dir, 'broken.yaml');
  writeFileSync(broken, 'name: web\nmin: 3\nmax: 1\n');
  const loaded: string[] = [];
  const run = async (fresh: typeof main, argv: string[]) => ({ code: await fresh(argv), sdk: [...loaded.splice(0)] });
  const seen: Record<string, { code: number; sdk: string[] }> = {};
  await jest.isolateModulesAsync(async () => {
    for (const m of ['@temporalio/client', '@temporalio/worker'])
      jest.doMock(m, () => {
        loaded.push(m);
        return jest.requireActual(m);
      });
    const fresh = (await import('../../src/cli/index')).main;
    seen.help = await run(fresh, ['--help']);
    seen.validate = await run(fresh, ['cluster', 'validate', '-f', 'examples/web.yaml']);
    seen.backtest = await run(fresh, ['backtest', '-f', 'examples/web.yaml', '--trace', csv]);
    seen.completion = await run(fresh, ['completion', 'bash']);
    // A command that would connect, refused for its spec before it does.
    seen.brokenApply = await run(fresh, ['cluster', 'apply', '-f', broken]);
    // The control: the harness's address accepts and drops the connection, so the command fails, but it loaded the client.
    seen.list = await run(fresh, ['cluster', 'list']);
  });
  expect(seen).toEqual({
    help: { code: 0, sdk: [] },
    validate: { code: 0, sdk: [] },
    backtest: { code: 0, sdk: [] },
    completion: { code: 0, sdk: [] },
    brokenApply: { code: 2, sdk: [] },
    list: { code: 1, sdk: ['@temporalio/client'] },
  });
});

describe('the lab is read only when asked', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pp-lab-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'state.json'),
    JSON.stringify({ config: { dataDir: dir, host: '127.0.0.1', ports: { temporal: 17777, temporalUi: 18888, vcsim: 1, vip: 2, haproxyStats: 3, prometheus: 4 }, backend: 'web', withPrometheus: false }, pids: {}, credentials: { username: 'u', password: 'p' }, startedAt: '' }),
  );
  test('without --lab or POOLPILOT_LAB_DIR: the environment only', () => {
    const c = commandContext(undefined, { TEMPORAL_ADDRESS: 'temporal.prod:7233' });
    expect(c.target.address).toBe('temporal.prod:7233');
    expect(c.credentialsFile).toBeUndefined();
    expect(c.lab).toBeUndefined();
  });
  test('--lab DIR: its Temporal, credentials and UI', () => {
    const c = commandContext(dir, {});
    expect([c.target.address, c.credentialsFile, c.uiBase]).toEqual(['127.0.0.1:17777', path.join(dir, 'credentials.json'), 'http://127.0.0.1:18888']);
  });
  test('POOLPILOT_LAB_DIR set: the same', () => expect(commandContext(undefined, { POOLPILOT_LAB_DIR: dir }).target.address).toBe('127.0.0.1:17777'));
  test('explicit Temporal settings win over the lab', () => expect(commandContext(dir, { TEMPORAL_ADDRESS: 'temporal.prod:7233' }).target.address).toBe('temporal.prod:7233'));
  test('a wrong variable is named', () => expect(() => commandContext(undefined, { POOLPILOT_API_PORT: 'http' })).toThrow(/POOLPILOT_API_PORT/));
});
