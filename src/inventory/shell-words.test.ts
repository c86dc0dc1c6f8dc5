import { describe, expect, it } from 'vitest';
import { splitShellWords } from './shell-words.js';

describe('splitShellWords (as shlex.split reads ansible_ssh_common_args)', () => {
  const ok: [string, string[]][] = [
    ['', []],
    ['  -o  A=1\t-v ', ['-o', 'A=1', '-v']],
    [`-o 'ProxyCommand=ssh -W %h:%p b'`, ['-o', 'ProxyCommand=ssh -W %h:%p b']],
    [`-o "K=a \\"b\\" \\$c \\d"`, ['-o', 'K=a "b" $c \\d']],
    [`a\\ b c''d "" ''`, ['a b', 'cd', '', '']],
    [`x'y'"z"`, ['xyz']],
    ['$HOME `id` ;rm', ['$HOME', '`id`', ';rm']],
  ];
  for (const [text, words] of ok)
    it(`splits ${JSON.stringify(text)}`, () => expect(splitShellWords(text)).toEqual({ words }));

  it('refuses open quotes and a trailing backslash', () => {
    expect(splitShellWords(`-o 'x`)).toEqual({ error: 'unterminated single quote' });
    expect(splitShellWords(`-o "x`)).toEqual({ error: 'unterminated double quote' });
    expect(splitShellWords('x\\')).toEqual({ error: 'a trailing backslash escapes nothing' });
  });
});
