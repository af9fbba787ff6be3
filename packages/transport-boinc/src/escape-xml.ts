import { InvalidArgumentError } from '@tsmw/core';

/**
 * Escapes text for an XML element or attribute value: `&`, `<`, `>`, `"` and `'`, and refuses
 * characters XML 1.0 cannot carry at all (C0 controls other than tab, newline and carriage
 * return, lone surrogates, U+FFFE/U+FFFF), which no escaping makes valid.
 */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    throw new InvalidArgumentError(`${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)} contains a character XML cannot carry`);
  }
  return text.replace(/[&<>"']/g, (character) => escapes[character]!);
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
