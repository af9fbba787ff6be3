import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BoincXmlError } from './boinc-xml-error.js';
import { xmlEntityDecoder } from './decode-xml-entities.js';
import type { XmlElementNode } from './xml-node.js';

/** The property the parser puts CDATA sections under (kept apart from text, untrimmed). */
export const cdataProperty = '#cdata';
/** The property the parser puts an element's own text under when it also has children. */
export const textProperty = '#text';

/** Deepest nesting accepted: BOINC's replies are 4 levels deep, templates 5. */
const maxDepth = 64;

// One configuration for every XML tsmw reads from BOINC: no attributes (BOINC uses none), every
// value kept as the string it was (no number guessing: a job named "1e5" stays a name), every
// child an array (a batch with one job looks like one with many), entities and character
// references decoded, comments and processing instructions dropped.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  cdataPropName: cdataProperty,
  textNodeName: textProperty,
  isArray: () => true,
  entityDecoder: xmlEntityDecoder,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: maxDepth,
});

export interface ParseXmlOptions {
  /** Named in errors: the operation or the file the XML came from. */
  readonly operation: string;
  /** Applied to every excerpt of `xml` that goes into an error message. */
  readonly redact?: (text: string) => string;
}

/**
 * A short, single-line excerpt of `text` around `index`, for error messages. `text` must already
 * be redacted: cutting first could split a secret so that no redaction recognises it.
 */
export function excerpt(text: string, index = 0, length = 120): string {
  const start = Math.max(0, Math.min(index, text.length) - Math.floor(length / 3));
  const slice = text.slice(start, start + length * 2);
  // eslint-disable-next-line no-control-regex
  const flat = slice.replace(/[\u0000-\u001F\u007F\s]+/g, ' ').trim();
  const short = flat.length > length ? `${flat.slice(0, length)}…` : flat;
  return `${start > 0 ? '…' : ''}${short}`;
}

/** Offset of a 1-based line and column in `text`. */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let current = 1; current < line; current += 1) {
    const next = text.indexOf('\n', offset);
    if (next < 0) break;
    offset = next + 1;
  }
  return offset + Math.max(0, column - 1);
}

/** `xml` without its XML declaration and the comments and whitespace before and after the root element (linear). */
function withoutProlog(xml: string): string {
  let start = 0;
  let end = xml.length;
  const isSpace = (index: number) => /\s/.test(xml.charAt(index));
  const skipSpace = () => {
    while (start < end && isSpace(start)) start += 1;
    while (end > start && isSpace(end - 1)) end -= 1;
  };
  skipSpace();
  if (xml.startsWith('<?xml', start)) {
    const close = xml.indexOf('?>', start);
    if (close >= 0 && close < end) start = close + 2;
    skipSpace();
  }
  while (xml.startsWith('<!--', start)) {
    const close = xml.indexOf('-->', start + 4);
    if (close < 0 || close + 3 > end) break;
    start = close + 3;
    skipSpace();
  }
  while (end - start >= 7 && xml.startsWith('-->', end - 3)) {
    const open = xml.lastIndexOf('<!--', end - 7);
    if (open < start) break;
    end = open;
    skipSpace();
  }
  return xml.slice(start, end);
}

/**
 * Parses `xml`, which must be exactly one well-formed element named `root` (an XML declaration,
 * comments and surrounding whitespace allowed; no DOCTYPE), and returns that element. Anything
 * else is a `BoincXmlError` (`malformed` or `unexpected`) naming what is wrong and where.
 */
export function parseXmlElement(xml: string, root: string, options: ParseXmlOptions): XmlElementNode {
  const redact = options.redact ?? ((text: string) => text);
  const doctype = /<!DOCTYPE|<!ENTITY/i.exec(xml);
  if (doctype !== null) {
    const shown = redact(xml);
    throw new BoincXmlError(`${options.operation}: the XML declares a DOCTYPE or entities, which tsmw never reads: ${excerpt(shown, /<!DOCTYPE|<!ENTITY/i.exec(shown)?.index ?? 0)}`, {
      reason: 'malformed',
      operation: options.operation,
    });
  }
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    // Redaction keeps lines (a secret has no line break), so the line still points at the place.
    const shown = redact(xml);
    // The validator's message may quote its whole tag stack: one short line is enough.
    const short = msg.length > 160 ? `${msg.slice(0, 160)}…` : msg;
    throw new BoincXmlError(`${options.operation}: not well-formed XML (${short}, line ${line}, column ${col}): ${excerpt(shown, offsetOf(shown, line, col))}`, {
      reason: 'malformed',
      operation: options.operation,
    });
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(xml) as Record<string, unknown>;
  } catch (error) {
    // The validator passed, but the parser refuses some documents it accepts: nesting deeper
    // than maxDepth, or element names such as __proto__ that could pollute prototypes.
    throw new BoincXmlError(`${options.operation}: XML tsmw will not read (${(error as Error).message})`, {
      reason: 'malformed',
      operation: options.operation,
      cause: error,
    });
  }
  const names = Object.keys(parsed).filter((name) => name !== textProperty);
  // The parser drops text outside the root element; a document with any is not one element.
  const bare = withoutProlog(xml);
  if (!bare.endsWith('>') || !new RegExp(`^<${root.replace(/[.]/g, '\\.')}[\\s/>]`).test(bare)) {
    throw new BoincXmlError(`${options.operation}: text outside the <${root}> element: ${excerpt(redact(bare))}`, {
      reason: 'unexpected',
      operation: options.operation,
    });
  }
  const elements = parsed[root];
  if (names.length !== 1 || !Array.isArray(elements) || elements.length !== 1) {
    throw new BoincXmlError(`${options.operation}: expected one <${root}> element, found ${names.length === 0 ? 'none' : names.map((name) => `<${name}>`).join(', ')}`, {
      reason: 'unexpected',
      operation: options.operation,
    });
  }
  const element: unknown = elements[0];
  return typeof element === 'string' ? (element === '' ? {} : { [textProperty]: element }) : (element as XmlElementNode);
}
