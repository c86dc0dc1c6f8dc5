import { type Command, Help } from 'commander';

/** What can follow one command path (`''` is `trellis` itself, `'lab'` is `trellis lab`). */
export interface CompletionNode {
  path: string;
  subcommands: string[];
  /** Its flags, long and short, and the values of its first argument if they are a fixed set. */
  words: string[];
  /** The fixed values of a flag, by each of its spellings (`-o`, `--output` → table json yaml). */
  values: Record<string, string[]>;
}

/**
 * The completion table, read from the command tree itself (commander has no completion of its
 * own): a command or flag added tomorrow completes without anyone editing a script.
 */
export function completionTree(program: Command): CompletionNode[] {
  const help = new Help();
  const out: CompletionNode[] = [];
  const walk = (cmd: Command, path: string) => {
    const subs = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
    const values: Record<string, string[]> = {};
    const flags: string[] = [];
    for (const o of help.visibleOptions(cmd)) {
      for (const f of [o.long, o.short]) {
        if (!f) continue;
        flags.push(f);
        if (o.argChoices) values[f] = o.argChoices;
      }
    }
    const choices = cmd.registeredArguments[0]?.argChoices ?? [];
    out.push({
      path,
      subcommands: subs.flatMap((c) => [c.name(), ...c.aliases()]),
      words: [...choices, ...flags],
      values,
    });
    for (const s of subs) walk(s, path ? `${path} ${s.name()}` : s.name());
  };
  walk(program, '');
  return out;
}

/** Only the characters commands and flags are made of reach the script: nothing to quote. */
const SAFE = /^[A-Za-z0-9_.:@%+=,/-]+$/;
const words = (list: string[]) => list.filter((w) => SAFE.test(w)).join(' ');

/** The shell functions both scripts share: plain `case`, which bash and zsh read alike. */
function tables(tree: CompletionNode[]): string {
  const arm = (key: string, list: string[]) => `    '${key}') echo '${words(list)}' ;;`;
  const valueArms = tree.flatMap((n) =>
    Object.entries(n.values).map(([flag, v]) => arm(n.path ? `${n.path} ${flag}` : flag, v)),
  );
  return [
    '_trellis_subcommands() {',
    '  case "$1" in',
    ...tree.map((n) => arm(n.path, n.subcommands)),
    '  esac',
    '}',
    '_trellis_words() {',
    '  case "$1" in',
    ...tree.map((n) => arm(n.path, [...n.subcommands, ...n.words])),
    '  esac',
    '}',
    '_trellis_values() {',
    '  case "$1" in',
    ...valueArms,
    '  esac',
    '}',
    // The command path the words so far name: each word that is a subcommand of the path before it.
    '_trellis_path() {',
    '  local cmdpath="" w subs',
    '  for w in "$@"; do',
    '    subs=" $(_trellis_subcommands "$cmdpath") "',
    `    case "$subs" in *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;; esac`,
    '  done',
    '  echo "$cmdpath"',
    '}',
  ].join('\n');
}

export function bashCompletion(program: Command): string {
  return `# trellis completion for bash. Load it with: source <(trellis completion bash)
${tables(completionTree(program))}
_trellis() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmdpath vals
  ((COMP_CWORD > 1)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmdpath="$(_trellis_path "\${COMP_WORDS[@]:1:COMP_CWORD-1}")"
  vals="$(_trellis_values "\${cmdpath:+$cmdpath }$prev")"
  [ -n "$vals" ] || vals="$(_trellis_words "$cmdpath")"
  COMPREPLY=($(compgen -W "$vals" -- "$cur"))
}
complete -F _trellis trellis
`;
}

export function zshCompletion(program: Command): string {
  return `#compdef trellis
# trellis completion for zsh. Load it with: source <(trellis completion zsh)
# (or save it as _trellis in a directory of $fpath)
${tables(completionTree(program))}
_trellis() {
  local cmdpath vals prev=""
  (( CURRENT > 2 )) && prev="\${words[CURRENT-1]}"
  cmdpath="$(_trellis_path "\${(@)words[2,CURRENT-1]}")"
  vals="$(_trellis_values "\${cmdpath:+$cmdpath }$prev")"
  [ -n "$vals" ] || vals="$(_trellis_words "$cmdpath")"
  compadd -- \${=vals}
}
if [ "\${funcstack[1]}" = "_trellis" ]; then
  _trellis "$@"
else
  compdef _trellis trellis
fi
`;
}
