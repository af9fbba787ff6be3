import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { escapeXmlText, formatXmlNumber, isXmlText, xmlElement, xmlEmpty, xmlLeaf, xmlTrusted } from '@tsmw/transport-boinc';

// A parser other than tsmw's reader configuration: what a server would read back.
const strictParser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true, isArray: () => true });

function readBack(xml: string): unknown {
  return (strictParser.parse(xml) as { v: [unknown] }).v[0];
}

describe('escapeXmlText', () => {
  it('escapes markup, quotes and carriage returns so that a parser gives the value back', () => {
    const value = `a & b < c > d " e ' f\r\ng\rh\ti`;
    const escaped = escapeXmlText(value);
    expect(escaped).toBe('a &amp; b &lt; c &gt; d &quot; e &apos; f&#13;\ng&#13;h\ti');
    expect(readBack(`<v>${escaped}</v>`)).toBe(value);
  });

  it('keeps text without special characters as it is (no copy)', () => {
    expect(escapeXmlText('plain job_1.name-2')).toBe('plain job_1.name-2');
  });

  it('keeps characters outside the Basic Multilingual Plane', () => {
    expect(readBack(`<v>${escapeXmlText('π ≈ 3.14 🎲')}</v>`)).toBe('π ≈ 3.14 🎲');
  });

  it.each([
    ['NUL', 'a\u0000b', 'U+0000 at position 1'],
    ['a C0 control', '\u001B[31m', 'U+001B at position 0'],
    ['a lone high surrogate', 'x\uD800', 'U+D800 at position 1'],
    ['a lone low surrogate', '\uDC00y', 'U+DC00 at position 0'],
    ['U+FFFE', '\uFFFE', 'U+FFFE'],
  ])('refuses %s, naming the value and the position', (_what, value, detail) => {
    expect(isXmlText(value)).toBe(false);
    expect(() => escapeXmlText(value, 'command line')).toThrow(expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT' }));
    expect(() => escapeXmlText(value, 'command line')).toThrow(new RegExp(`command line cannot be sent in XML: it holds ${detail.replace('+', '\\+')}`));
  });
});

describe('the XML builder', () => {
  it('builds nested elements, leaves out undefined and false children', () => {
    const xml = xmlElement('query_batch', [xmlLeaf('authenticator', 'a&b'), xmlLeaf('batch_id', 3), undefined, false, xmlLeaf('get_job_details', true), xmlEmpty('x')]);
    expect(xml).toBe('<query_batch>\n<authenticator>a&amp;b</authenticator>\n<batch_id>3</batch_id>\n<get_job_details>1</get_job_details>\n<x/>\n</query_batch>\n');
  });

  it('writes numbers PHP reads back, and refuses non-finite ones', () => {
    expect(formatXmlNumber(1e9, 'x')).toBe('1000000000');
    expect(formatXmlNumber(1.5e21, 'x')).toBe('1.5e+21');
    expect(formatXmlNumber(-0, 'x')).toBe('0');
    expect(() => formatXmlNumber(Number.NaN, 'rscFpopsEst')).toThrow(/rscFpopsEst must be a finite number/);
    expect(() => xmlLeaf('x', Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });

  it('refuses element names that are not names', () => {
    expect(() => xmlElement('a b', [])).toThrow(expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT' }));
    expect(() => xmlLeaf('<x>', 'v')).toThrow(expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT' }));
  });

  it('accepts a trusted fragment only when it is one well-formed element of the named root', () => {
    expect(xmlTrusted('<?xml version="1.0"?>\n<input_template><file_info/></input_template>\n', 'input_template', 't')).toBe('<input_template><file_info/></input_template>\n');
    for (const bad of [
      '<input_template>',
      '<input_template/><batch/>',
      '<output_template/>',
      '</job><job><name>x</name><input_template/>',
      '<input_template/>trailing text',
      '<!DOCTYPE x><input_template/>',
    ]) {
      expect(() => xmlTrusted(bad, 'input_template', "job 0's input template"), bad).toThrow(expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT' }));
    }
  });
});
