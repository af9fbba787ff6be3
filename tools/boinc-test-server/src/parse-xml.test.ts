import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoincTestServerError } from './boinc-test-server-error.js';
import {
  childFlag,
  childNumber,
  childText,
  escapeXmlAttribute,
  escapeXmlText,
  findChild,
  findChildren,
  findDescendant,
  parseXml,
  textOf,
  tryParseXml,
} from './parse-xml.js';

describe('parseXml', () => {
  it('reads elements, entities, numeric references, self-closing flags and CDATA', () => {
    const root = parseXml('<?xml version="1.0"?>\n<a x="1"><b>1 &lt; 2 &amp; &#x41;&#66; &amp;#67;</b><flag/><c><![CDATA[<not>a tag</not> &amp;]]></c></a>');
    const a = findChild(root, 'a');
    expect(a?.attributes).toEqual({ x: '1' });
    expect(a && childText(a, 'b')).toBe('1 < 2 & AB &#67;');
    expect(a && childFlag(a, 'flag')).toBe(true);
    expect(a && childFlag(a, 'missing')).toBe(false);
    const c = a && findChild(a, 'c');
    expect(c && textOf(c)).toBe('<not>a tag</not> &amp;');
    expect(c?.rawInner).toBeUndefined();
  });

  it('keeps raw elements as received', () => {
    const body = '<r><stderr_out><core_client_version>7.20.5</core_client_version>\n<![CDATA[\n<stderr_txt>\na < b ]]> </x>\n</stderr_txt>\n]]>\n</stderr_out><after>1</after></r>';
    const r = findChild(parseXml(body, { rawElements: ['stderr_out'] }), 'r');
    const raw = r && findChild(r, 'stderr_out');
    expect(raw?.rawInner).toBe('<core_client_version>7.20.5</core_client_version>\n<![CDATA[\n<stderr_txt>\na < b ]]> </x>\n</stderr_txt>\n]]>\n');
    expect(r && childText(r, 'after')).toBe('1');
  });

  it('tolerates stray closing tags, unclosed elements and comments', () => {
    const root = parseXml('<r><!-- <x> --><n>4.5</n><open><deep>1</deep></r>trailing');
    const r = findChild(root, 'r');
    expect(r && childNumber(r, 'n')).toBe(4.5);
    expect(r && findChildren(r, 'open')).toHaveLength(1);
    expect(findDescendant(root, 'deep') && textOf(findDescendant(root, 'deep')!)).toBe('1');
  });

  it('reads past PHP warnings inside the reply and the malformed <aborted NAME> element', () => {
    const reply = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<query_batch>\n<br />\n<b>Deprecated</b>:  x in <b>/y.inc</b> on line <b>250</b><br />\n<id>3</id>\n</query_batch>\n';
    const batch = findChild(parseXml(reply), 'query_batch');
    expect(batch && childNumber(batch, 'id')).toBe(3);
    const aborted = parseXml('<abort_jobs>\n<aborted job_1>\n<success>1</success>\n        </abort_jobs>\n');
    expect(findDescendant(aborted, 'success') && textOf(findDescendant(aborted, 'success')!)).toBe('1');
  });

  it('refuses unreadable text with a typed error, and never expands DOCTYPE entities', () => {
    expect(() => parseXml('<<<>>><a <b')).toThrow(BoincTestServerError);
    try {
      parseXml('<<<>>><a <b');
    } catch (error) {
      expect(BoincTestServerError.isInstance(error) && error.code).toBe('TSMW_BOINC_TEST_XML_INVALID');
    }
    expect(tryParseXml('<<<>>><a <b')).toBeUndefined();
    const laughs = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;&b;</x>';
    const x = findChild(parseXml(laughs), 'x');
    expect(x && textOf(x).length).toBeLessThan(100);
  });

  it('keeps text that is not a number out of childNumber', () => {
    const root = parseXml('<r><n>abc</n><e></e></r>');
    const r = findChild(root, 'r');
    expect(r && childNumber(r, 'n')).toBeUndefined();
    expect(r && childNumber(r, 'e')).toBeUndefined();
  });
});

describe('parseXml under fuzzing', () => {
  const xmlish = fc.array(
    fc.oneof(
      fc.string(),
      fc.constantFrom('<', '>', '</', '/>', '<a>', '</a>', '<b x="1">', '</b>', '<![CDATA[', ']]>', '<!--', '-->', '<?xml ?>', '&amp;', '&#x41;', '&#99999999;', '&', '"', "'", '<!DOCTYPE', '<!ENTITY'),
    ),
    { maxLength: 40 },
  );

  it('never throws anything but its typed error on garbage', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), xmlish.map((parts) => parts.join(''))), (text) => {
        try {
          const root = parseXml(text, { rawElements: ['a'] });
          expect(root.name).toBe('#document');
        } catch (error) {
          expect(BoincTestServerError.isInstance(error)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('returns every escaped text unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), (text, binary) => {
        for (const value of [text, binary]) {
          const value0 = value.replace(/[\uD800-\uDFFF]/g, '');
          const root = parseXml(`<v a="${escapeXmlAttribute(value0)}">${escapeXmlText(value0)}</v>`);
          const v = findChild(root, 'v');
          expect(v && textOf(v)).toBe(value0);
          expect(v?.attributes['a']).toBe(value0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
