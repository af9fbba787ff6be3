import { describe, expect, it } from 'vitest';
import { childFlag, childNumber, childText, findChild, findChildren, parseXml, textOf } from './parse-xml.js';

describe('parseXml', () => {
  it('reads elements, entities, self-closing flags and CDATA', () => {
    const root = parseXml('<?xml version="1.0"?>\n<a x="1"><b>1 &lt; 2 &amp; &#x41;</b><flag/><c><![CDATA[<not>a tag</not>]]></c></a>');
    const a = findChild(root, 'a');
    expect(a?.attributes).toEqual({ x: '1' });
    expect(a && childText(a, 'b')).toBe('1 < 2 & A');
    expect(a && childFlag(a, 'flag')).toBe(true);
    expect(a && childFlag(a, 'missing')).toBe(false);
    const c = a && findChild(a, 'c');
    expect(c && textOf(c)).toBe('<not>a tag</not>');
    expect(c?.rawInner).toBe('<![CDATA[<not>a tag</not>]]>');
  });

  it('tolerates stray closing tags, unclosed elements and comments without throwing', () => {
    const root = parseXml('<r><!-- <x> --></stray><n>4.5</n><open><deep>1</r>trailing');
    const r = findChild(root, 'r');
    expect(r && childNumber(r, 'n')).toBe(4.5);
    expect(r && findChildren(r, 'open')).toHaveLength(1);
    expect(() => parseXml('<<<>>><a <b')).not.toThrow();
  });

  it('keeps text that is not a number out of childNumber', () => {
    const root = parseXml('<r><n>abc</n><e></e></r>');
    const r = findChild(root, 'r');
    expect(r && childNumber(r, 'n')).toBeUndefined();
    expect(r && childNumber(r, 'e')).toBeUndefined();
  });
});
