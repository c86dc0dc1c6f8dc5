/**
 * Splits a string into words the way a POSIX shell (and Python's shlex, which Ansible uses for
 * `ansible_ssh_common_args`) does: blanks separate words, '…' quotes literally, "…" quotes with
 * backslash escapes of \ " $ ` and newline, and a bare backslash escapes the next character.
 * No expansion of any kind happens: the words go to ssh as argv, never through a shell.
 * Returns an error message instead of words when a quote is left open.
 */
export function splitShellWords(text: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { error: 'unterminated single quote' };
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== '\n') word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) return { error: 'unterminated double quote' };
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { error: 'a trailing backslash escapes nothing' };
      if (text[i + 1] !== '\n') {
        word += text[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { words };
}
