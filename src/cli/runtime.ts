// What every command group is given: the program's global options, the context they point at, and a session.
import path from 'node:path';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { DEFAULT_LAB_DIR, loadSettings } from '../config/settings';
import { commandContext, type CommandContext } from './context';

/**
 * One connection per command, opened on first use, so --help and bad input never connect; the Temporal client is
 * loaded then too (a fifth of a second), so commands that never connect (backtest, help, completion) do not load it.
 */
export class Session {
  private client?: Promise<Client>;
  constructor(readonly ctx: CommandContext) {}
  temporal(): Promise<Client> {
    return (this.client ??= import('../temporal/connection').then((m) => m.connectClient(this.ctx.target)));
  }
  async close(): Promise<void> {
    if (this.client) await (await this.client.catch(() => undefined))?.connection.close();
  }
}

export interface Cli {
  program: Command;
  setExit: (code: number) => void;
  /** Where the command points (from --lab / --lab-dir, or the environment). */
  ctx: () => CommandContext;
  /** The lab folder for the lab's own commands: their --data-dir, else --lab-dir, POOLPILOT_LAB_DIR or the default. */
  labDir: (o: { dataDir?: string }) => string;
  /** Runs `fn` with a session that is closed afterwards; its number is the exit code. */
  withSession: (fn: (s: Session) => Promise<number | void>) => () => Promise<void>;
}

export function cliRuntime(program: Command, setExit: (code: number) => void): Cli {
  const globals = () => program.opts<{ lab?: boolean; labDir?: string }>();
  const ctx = () => commandContext(globals().labDir ?? globals().lab);
  return {
    program,
    setExit,
    ctx,
    // Absolute: the lab's processes run in folders of their own, where a relative path would name another place.
    labDir: (o) => path.resolve(o.dataDir ?? globals().labDir ?? loadSettings().POOLPILOT_LAB_DIR ?? DEFAULT_LAB_DIR),
    withSession: (fn) => async () => {
      const s = new Session(ctx());
      try {
        setExit((await fn(s)) ?? 0);
      } finally {
        await s.close();
      }
    },
  };
}
