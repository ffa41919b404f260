// The README cannot drift from the CLI: its usage summary names every command and only real options, every shell
// command it shows parses, and its backtest prints the very table the README shows.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram, main } from '../../src/cli/index';
import { PROJECT_ROOT } from '../../src/config/settings';
import { useCliHarness } from './cli-harness';

const cli = useCliHarness();
const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

/** The fenced blocks: their language and text. */
const blocks = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
const visible = (c: Command) => !(c as Command & { _hidden?: boolean })._hidden && c.name() !== 'help';

/** Shell words: plain, or in single or double quotes (what the README's commands use). */
const words = (line: string) => [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);

/** Every command path of the program that runs something: "cluster apply", "api", … (not a bare group: "cluster"). */
function paths(cmd: Command, prefix: string[] = []): string[] {
  const runs = (c: Command) => !!(c as Command & { _actionHandler?: unknown })._actionHandler;
  return cmd.commands.filter(visible).flatMap((c) => [...(runs(c) ? [[...prefix, c.name()].join(' ')] : []), ...paths(c, [...prefix, c.name()])]);
}

/** The command a run of words names, walking subcommands from `from`; and how many words that took. */
function walk(from: Command, ws: string[]): { cmd: Command; used: number } {
  let cmd = from;
  let used = 0;
  for (const w of ws) {
    const next = cmd.commands.find((c) => c.name() === w);
    if (!next) break;
    cmd = next;
    used++;
  }
  return { cmd, used };
}

const pathOf = (cmd: Command): string => (cmd.parent ? [pathOf(cmd.parent), cmd.name()].filter(Boolean).join(' ') : '');
const flagsOf = (cmd: Command): string[] => [...cmd.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short]), '--help', ...(cmd.parent ? flagsOf(cmd.parent) : [])].filter((f): f is string => !!f);

describe('the usage summary', () => {
  const program = buildProgram(() => undefined);
  const usage = blocks.find((b) => b.lang === '' && /^poolpilot \[--lab/m.test(b.text))!;
  // Each line, split at " | ": a segment that starts with a top-level command stands alone; one that does not
  // continues the group of the line's first command ("cluster list | status NAME").
  const named: { path: string; flags: string[]; cmd: Command }[] = [];
  for (const line of usage.text.split('\n').filter((l) => l.startsWith('poolpilot '))) {
    let group: Command = program;
    line
      .replace(/\s{2,}\S.*$/, '') // the comment column
      .slice('poolpilot '.length)
      .split(' | ')
      .forEach((segment, i) => {
        const ws = words(segment).filter((w) => !/^\[?--?(lab|lab-dir)\b/.test(w) || i > 0);
        const top = program.commands.some((c) => c.name() === ws[0]);
        const { cmd, used } = walk(i === 0 || top ? program : group, ws);
        if (used === 0) return;
        if (i === 0) group = cmd.parent ?? program;
        named.push({ path: pathOf(cmd), cmd, flags: segment.match(/(?<![\w-])--?[a-zA-Z][\w-]*/g) ?? [] });
      });
  }
  test('names every command, and only commands that exist', () => {
    expect([...new Set(named.map((n) => n.path))].sort()).toEqual(paths(program).sort());
  });
  test('shows only options its commands take', () => {
    for (const n of named) for (const f of n.flags) expect([n.path, f, flagsOf(n.cmd).includes(f)]).toEqual([n.path, f, true]);
  });
});

/** The program with every action a no-op: parsing alone (options, arguments, their parsers) is checked. */
function parseOnly(): Command {
  const program = buildProgram(() => undefined);
  const quiet = (c: Command): void => {
    c.action(() => undefined);
    c.commands.forEach(quiet);
  };
  program.commands.forEach(quiet);
  return program;
}

const shellCommands = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.text.split('\n'))
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter((l) => l.startsWith('poolpilot '));

test.each(shellCommands.map((c) => [c]))('the README command parses: %s', async (command) => {
  await expect(parseOnly().parseAsync(words(command).slice(1), { from: 'user' })).resolves.toBeDefined();
});

test("the README's backtest prints the README's table", async () => {
  const i = blocks.findIndex((b) => b.lang === 'sh' && /^poolpilot backtest /m.test(b.text));
  const command = blocks[i]!.text.trim();
  const table = blocks[i + 1]!;
  expect(table.lang).toBe('text');
  const cwd = process.cwd();
  process.chdir(PROJECT_ROOT);
  try {
    expect(await main(words(command).slice(1))).toBe(0);
  } finally {
    process.chdir(cwd);
  }
  const printed = cli.out.join('\n').split('\n').map((l) => l.trimEnd()).filter(Boolean);
  expect(printed).toEqual(table.text.split('\n').map((l) => l.trimEnd()).filter(Boolean));
});
