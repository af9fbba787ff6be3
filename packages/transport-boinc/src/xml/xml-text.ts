import { InvalidArgumentError } from '@tsmw/core';

/**
 * Characters XML 1.0 cannot carry at all, not even as character references: C0 controls other
 * than tab, line feed and carriage return; lone surrogates; U+FFFE and U+FFFF.
 */
// eslint-disable-next-line no-control-regex
const forbiddenCharacter = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
const needsEscape = /[&<>"'\r]/;
const needsEscapeGlobal = /[&<>"'\r]/g;
const replacements: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A carriage return would be turned into a line feed by every XML parser (end-of-line
  // handling); as a character reference it survives.
  '\r': '&#13;',
};

/** What an element name may look like in what tsmw builds (BOINC's names are all of this form). */
export const xmlNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Whether XML 1.0 can carry `value` as text (every character allowed, escaped or not). */
export function isXmlText(value: string): boolean {
  return !forbiddenCharacter.test(value);
}

/**
 * Escapes a value for XML element content: `&`, `<`, `>`, `"`, `'` and carriage return become
 * references, so that any parser gives back exactly `value`. A value XML cannot carry (a NUL,
 * another C0 control, a lone surrogate, U+FFFE/U+FFFF) is refused with `InvalidArgumentError`
 * naming `what` and the first offending character's position.
 */
export function escapeXmlText(value: string, what = 'value'): string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`${what} must be a string, not ${value === null ? 'null' : typeof value}`);
  }
  const bad = forbiddenCharacter.exec(value);
  if (bad !== null) {
    const codePoint = bad[0].codePointAt(0) ?? 0;
    throw new InvalidArgumentError(
      `${what} cannot be sent in XML: it holds U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at position ${bad.index}, which XML 1.0 cannot carry`,
    );
  }
  return needsEscape.test(value) ? value.replace(needsEscapeGlobal, (character) => replacements[character] ?? character) : value;
}
