/**
 * The entities tsmw decodes in text from BOINC: XML's five, `&#039;` (PHP's htmlspecialchars),
 * `&nbsp;` (PHP's HTML diagnostics), and decimal and hexadecimal character references to
 * characters XML allows. Anything else stays as written. One linear pass.
 */
const entity = /&(?:(amp|lt|gt|quot|apos|nbsp)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/g;
const named: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00A0' };

function isXmlCharacter(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(entity, (whole, name: string | undefined, decimal: string | undefined, hexadecimal: string | undefined) => {
    if (name !== undefined) return named[name] ?? whole;
    const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hexadecimal ?? '', 16);
    return isXmlCharacter(codePoint) ? String.fromCodePoint(codePoint) : whole;
  });
}

/**
 * The decoder fast-xml-parser calls for every text value, in place of its own: the same
 * entities as above in one pass, and no entity a document declares (tsmw refuses DOCTYPEs).
 */
export const xmlEntityDecoder = {
  setExternalEntities(): void {},
  addInputEntities(): void {},
  reset(): void {},
  setXmlVersion(): void {},
  decode: decodeXmlEntities,
};
