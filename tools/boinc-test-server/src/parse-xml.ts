import { XMLParser } from 'fast-xml-parser';
import type { EntityDecoderOptions } from 'fast-xml-parser';
import { BoincTestServerError } from './boinc-test-server-error.js';

/**
 * The one XML reader of the test server: `fast-xml-parser` (the library the transport and the
 * client runtime use) behind a small element-tree API. It decodes the five XML entities and
 * numeric character references (no DOCTYPE entities, no HTML entities), keeps CDATA content as
 * text, ignores comments and processing instructions, and never evaluates anything. It is
 * lenient the way BOINC's own readers are (a stray end tag is skipped, an element left open at
 * the end is closed), and input it cannot read at all fails with a `BoincTestServerError`
 * (`TSMW_BOINC_TEST_XML_INVALID`), never another kind of exception.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Child elements and text (entities decoded, CDATA sections as plain text), in document order. */
  readonly children: readonly XmlNode[];
  /**
   * For the elements named in `rawElements` only: the source text between the start and end tags,
   * exactly as received (the element's children are then that one string). Undefined otherwise.
   */
  readonly rawInner: string | undefined;
}

export type XmlNode = XmlElement | string;

export interface ParseXmlOptions {
  /**
   * Elements whose content is kept as received, unparsed (BOINC's `<stderr_out>`, which holds
   * a CDATA section of whatever the app wrote).
   */
  readonly rawElements?: readonly string[];
}

type OrderedNode = Record<string, unknown>;

const textKey = '#text';
const cdataKey = '#cdata';
const attributesKey = ':@';

const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function codePoint(value: number, fallback: string): string {
  return Number.isInteger(value) && value >= 0 && value <= 0x10ffff ? String.fromCodePoint(value) : fallback;
}

/**
 * The entities a conforming XML reader knows, decoded in one pass (so `&amp;#65;` stays `&#65;`):
 * the five named ones and numeric references. DOCTYPE entities are never expanded.
 */
const entityDecoder: EntityDecoderOptions = {
  setExternalEntities: () => {},
  addInputEntities: () => {},
  reset: () => {},
  setXmlVersion: () => {},
  decode: (text) =>
    text.includes('&')
      ? text.replace(/&(#x[0-9a-fA-F]{1,8}|#[0-9]{1,10}|[a-zA-Z]+);/g, (whole, body: string) => {
          if (body.startsWith('#x')) return codePoint(Number.parseInt(body.slice(2), 16), whole);
          if (body.startsWith('#')) return codePoint(Number.parseInt(body.slice(1), 10), whole);
          return namedEntities[body] ?? whole;
        })
      : text,
};

const parsers = new Map<string, XMLParser>();

function parserFor(rawElements: readonly string[]): XMLParser {
  const key = rawElements.join('\n');
  let parser = parsers.get(key);
  if (!parser) {
    parser = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      allowBooleanAttributes: true,
      trimValues: false,
      parseTagValue: false,
      parseAttributeValue: false,
      processEntities: true,
      entityDecoder,
      cdataPropName: cdataKey,
      commentPropName: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      stopNodes: rawElements.map((name) => `*.${name}`),
    });
    parsers.set(key, parser);
  }
  return parser;
}

function textOfOrdered(nodes: unknown): string {
  if (!Array.isArray(nodes)) return '';
  let text = '';
  for (const node of nodes as OrderedNode[]) {
    const value = node[textKey];
    if (value !== undefined) text += String(value);
  }
  return text;
}

function convert(nodes: readonly OrderedNode[], rawElements: ReadonlySet<string>): XmlNode[] {
  const children: XmlNode[] = [];
  for (const node of nodes) {
    if (node[textKey] !== undefined) {
      children.push(String(node[textKey]));
      continue;
    }
    if (node[cdataKey] !== undefined) {
      children.push(textOfOrdered(node[cdataKey]));
      continue;
    }
    const name = Object.keys(node).find((key) => key !== attributesKey);
    if (name === undefined) continue;
    const attributes: Record<string, string> = {};
    const rawAttributes = node[attributesKey];
    if (rawAttributes && typeof rawAttributes === 'object') {
      for (const [attribute, value] of Object.entries(rawAttributes as Record<string, unknown>)) {
        attributes[attribute] = value === true ? '' : String(value);
      }
    }
    const content = Array.isArray(node[name]) ? (node[name] as OrderedNode[]) : [];
    if (rawElements.has(name)) {
      const raw = textOfOrdered(content);
      children.push({ name, attributes, children: raw === '' ? [] : [raw], rawInner: raw });
    } else {
      children.push({ name, attributes, children: convert(content, rawElements), rawInner: undefined });
    }
  }
  return children;
}

/**
 * Parses `text` and returns a synthetic root element named `#document` holding the top-level
 * nodes. Throws `BoincTestServerError` (`TSMW_BOINC_TEST_XML_INVALID`) when the text cannot be read.
 */
export function parseXml(text: string, options: ParseXmlOptions = {}): XmlElement {
  const rawElements = options.rawElements ?? [];
  let ordered: unknown;
  try {
    ordered = parserFor(rawElements).parse(text);
  } catch (error) {
    throw new BoincTestServerError('TSMW_BOINC_TEST_XML_INVALID', `Unreadable XML: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const children = Array.isArray(ordered) ? convert(ordered as OrderedNode[], new Set(rawElements)) : [];
  return { name: '#document', attributes: {}, children, rawInner: undefined };
}

/** `parseXml`, or undefined for text it cannot read. */
export function tryParseXml(text: string, options: ParseXmlOptions = {}): XmlElement | undefined {
  try {
    return parseXml(text, options);
  } catch (error) {
    if (BoincTestServerError.isInstance(error)) return undefined;
    throw error;
  }
}

function isElement(node: XmlNode): node is XmlElement {
  return typeof node !== 'string';
}

/** The first child element called `name`, searching direct children only. */
export function findChild(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((node): node is XmlElement => isElement(node) && node.name === name);
}

export function findChildren(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((node): node is XmlElement => isElement(node) && node.name === name);
}

/** The first element called `name` at any depth (depth first, document order). */
export function findDescendant(parent: XmlElement, name: string): XmlElement | undefined {
  for (const node of parent.children) {
    if (!isElement(node)) continue;
    if (node.name === name) return node;
    const found = findDescendant(node, name);
    if (found) return found;
  }
  return undefined;
}

/** All text inside `element`, descendants included, entities decoded. */
export function textOf(element: XmlElement): string {
  return element.children.map((node) => (isElement(node) ? textOf(node) : node)).join('');
}

/** Trimmed text of the first child called `name`, or undefined when absent. */
export function childText(parent: XmlElement, name: string): string | undefined {
  const child = findChild(parent, name);
  return child === undefined ? undefined : textOf(child).trim();
}

/** The number in the first child called `name`, or undefined when absent or not a number. */
export function childNumber(parent: XmlElement, name: string): number | undefined {
  const text = childText(parent, name);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Whether a child called `name` is present (BOINC's `<flag/>` booleans) and not `0`. */
export function childFlag(parent: XmlElement, name: string): boolean {
  const text = childText(parent, name);
  return text !== undefined && text !== '0';
}

/**
 * Escapes text for an element's content: `&`, `<`, `>`, and carriage returns (as `&#13;`, which
 * a conforming reader would otherwise normalise away). Any string round-trips through `parseXml`.
 */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>\r]/g, (character) => textEscapes[character] ?? character);
}

/** Escapes text for a double- or single-quoted attribute value (also tabs and newlines, which readers normalise to spaces). */
export function escapeXmlAttribute(text: string): string {
  return text.replace(/[&<>"'\t\n\r]/g, (character) => attributeEscapes[character] ?? character);
}

const textEscapes: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const attributeEscapes: Readonly<Record<string, string>> = {
  ...textEscapes,
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
};

/** `<name>escaped value</name>`; numbers are written as given (integers plainly). */
export function xmlElement(name: string, value: string | number): string {
  return `<${name}>${typeof value === 'number' ? String(value) : escapeXmlText(value)}</${name}>`;
}
