// Shell completion for bash and zsh, generated from the program's own command tree (commander knows every command
// and option), so it cannot drift from the CLI. Static word lists: a TAB costs no node start-up.
import type { Command } from 'commander';
import { UsageError } from './errors';

/** Each command path ("", "cluster", "cluster apply", …) and the words that may follow it: subcommands and options. */
function wordLists(cmd: Command, prefix = ''): [string, string[]][] {
  const visible = (c: Command) => !(c as Command & { _hidden?: boolean })._hidden;
  const subs = cmd.commands.filter(visible);
  const options = cmd.options.filter((o) => !o.hidden).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  const own: [string, string[]] = [prefix, [...subs.map((c) => c.name()), ...options, '--help']];
  return [own, ...subs.flatMap((c) => wordLists(c, prefix ? `${prefix} ${c.name()}` : c.name()))];
}

/** A bash completion script: `source <(poolpilot completion bash)`. */
export function bashCompletion(program: Command): string {
  const cases = wordLists(program)
    .map(([path, words]) => `    "${path}") echo "${words.join(' ')}" ;;`)
    .join('\n');
  // The command path is the typed words that name subcommands; option values and arguments are skipped, and where no
  // word fits, -o default completes file names (spec files, traces).
  return `# poolpilot completion for bash: source <(poolpilot completion bash), or save it in /etc/bash_completion.d
_poolpilot_words() {
  case "$1" in
${cases}
  esac
}
_poolpilot() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case " $(_poolpilot_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_poolpilot_words "$path")" -- "$cur"))
}
complete -o default -F _poolpilot poolpilot
`;
}

/** zsh runs the bash script through bashcompinit: one script to keep. */
export function zshCompletion(program: Command): string {
  return `# poolpilot completion for zsh: source <(poolpilot completion zsh) in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}

export function completionCommand(program: Command): void {
  program
    .command('completion <shell>')
    .description('a shell completion script for bash or zsh: source <(poolpilot completion bash)')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`the shell must be bash or zsh, not "${shell}"`);
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
