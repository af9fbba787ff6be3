/**
 * BOINC's `parse_command_line()` (`lib/str_util.cpp`), which `create_work --stdin` applies to
 * each line: tokens split on whitespace; a token that starts with `'` or `"` runs to the next
 * same quote, with no escapes. Its quirks are kept: the character right after an opening quote
 * is never taken for the closing one (so `''` does not make an empty token), a quote inside an
 * unquoted token is an ordinary character, and a closing quote ends the token even when a
 * character follows it directly (`"a"b` is two tokens).
 */
export function parseCommandLine(line: string): string[] {
  const tokens: string[] = [];
  let state: 'none' | 'single' | 'double' | 'unquoted' = 'none';
  let current = '';
  const isSpace = (character: string): boolean => character === ' ' || (character >= '\t' && character <= '\r');
  for (let index = 0; index < line.length; index += 1) {
    const character = line[index] ?? '';
    switch (state) {
      case 'none':
        if (isSpace(character)) break;
        if (character === "'" || character === '"') {
          state = character === "'" ? 'single' : 'double';
          // The next character is consumed unexamined, as the C loop does.
          index += 1;
          current = line[index] ?? '';
          break;
        }
        current = character;
        state = 'unquoted';
        break;
      case 'single':
      case 'double':
        if (character === (state === 'single' ? "'" : '"')) {
          tokens.push(current);
          current = '';
          state = 'none';
        } else {
          current += character;
        }
        break;
      case 'unquoted':
        if (isSpace(character)) {
          tokens.push(current);
          current = '';
          state = 'none';
        } else {
          current += character;
        }
        break;
    }
  }
  if (state !== 'none') tokens.push(current);
  return tokens;
}

/** C's `atoi`: the leading integer of the text (after white space), 0 when there is none. */
export function cInteger(text: string): number {
  const match = /^[\s]*([+-]?\d+)/.exec(text);
  if (!match?.[1]) return 0;
  const value = Number.parseInt(match[1], 10);
  // atoi on an int: wraps like a 32-bit conversion for our purposes.
  return Number.isFinite(value) ? value | 0 : 0;
}

/** C's `atof`: the leading floating-point number of the text, 0 when there is none. */
export function cDouble(text: string): number {
  const match = /^[\s]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf(?:inity)?|nan))/i.exec(text);
  if (!match?.[1]) return 0;
  const token = match[1].toLowerCase();
  if (token.includes('nan')) return Number.NaN;
  if (token.includes('inf')) return token.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return Number.parseFloat(token);
}
