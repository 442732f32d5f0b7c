/**
 * Splits a command line the way a POSIX shell splits the quoting the library produces: words separated by spaces,
 * single-quoted runs taken literally, `\'` outside quotes a literal quote. Anything else (a `$`, a `;`, a
 * backtick outside quotes) makes the line unknown: the fake host runs no shell, so it refuses what it cannot read.
 */
export function splitWords(line: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return null;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && line[i + 1] === "'") {
      word = (word ?? '') + "'";
      i++;
    } else if (/[A-Za-z0-9_./-]/.test(c)) {
      word = (word ?? '') + c;
    } else {
      return null;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
