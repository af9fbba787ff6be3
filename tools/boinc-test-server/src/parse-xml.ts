/**
 * A small, tolerant XML reader for the formats BOINC speaks (scheduler requests, data server
 * requests). It is not a general XML parser: it knows elements, attributes, text, CDATA,
 * comments and processing instructions, decodes the five named entities and numeric
 * references, and never throws on malformed input (stray closing tags are ignored, unclosed
 * elements are closed at the end). It never evaluates anything.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
  /** The source text between the start and end tags, exactly as received. */
  readonly rawInner: string;
}

export type XmlNode = XmlElement | string;

interface MutableElement {
  name: string;
  attributes: Record<string, string>;
  children: (MutableElement | string)[];
  rawInner: string;
  innerStart: number;
}

const namedEntities: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#x')) return safeCodePoint(Number.parseInt(body.slice(2), 16), whole);
    if (body.startsWith('#')) return safeCodePoint(Number.parseInt(body.slice(1), 10), whole);
    return namedEntities[body] ?? whole;
  });
}

function safeCodePoint(value: number, fallback: string): string {
  return Number.isInteger(value) && value >= 0 && value <= 0x10ffff ? String.fromCodePoint(value) : fallback;
}

export function escapeXmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Parses `text` and returns a synthetic root element named `#document` holding the top-level nodes. */
export function parseXml(text: string): XmlElement {
  const root: MutableElement = { name: '#document', attributes: {}, children: [], rawInner: text, innerStart: 0 };
  const stack: MutableElement[] = [root];
  let position = 0;
  const top = (): MutableElement => stack[stack.length - 1] ?? root;

  while (position < text.length) {
    const open = text.indexOf('<', position);
    if (open === -1) {
      top().children.push(decodeEntities(text.slice(position)));
      break;
    }
    if (open > position) top().children.push(decodeEntities(text.slice(position, open)));

    if (text.startsWith('<![CDATA[', open)) {
      const end = text.indexOf(']]>', open + 9);
      const stop = end === -1 ? text.length : end;
      top().children.push(text.slice(open + 9, stop));
      position = end === -1 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<!--', open)) {
      const end = text.indexOf('-->', open + 4);
      position = end === -1 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<?', open) || text.startsWith('<!', open)) {
      const end = text.indexOf('>', open + 2);
      position = end === -1 ? text.length : end + 1;
      continue;
    }
    const close = findTagEnd(text, open + 1);
    if (close === -1) {
      // A lone '<' with no end: keep it as text.
      top().children.push(text.slice(open));
      break;
    }
    const tagBody = text.slice(open + 1, close);
    position = close + 1;

    if (tagBody.startsWith('/')) {
      const name = tagBody.slice(1).trim();
      const index = findOpenIndex(stack, name);
      if (index > 0) {
        // Elements left open inside the one being closed are closed here too.
        while (stack.length > index) {
          const element = stack.pop();
          if (element) element.rawInner = text.slice(element.innerStart, open);
        }
      }
      continue;
    }

    const selfClosing = tagBody.endsWith('/');
    const content = selfClosing ? tagBody.slice(0, -1) : tagBody;
    const nameMatch = /^\s*([^\s/>]+)/.exec(content);
    if (!nameMatch?.[1]) {
      top().children.push(decodeEntities(`<${tagBody}>`));
      continue;
    }
    const element: MutableElement = {
      name: nameMatch[1],
      attributes: parseAttributes(content.slice(nameMatch[0].length)),
      children: [],
      rawInner: '',
      innerStart: position,
    };
    top().children.push(element);
    if (!selfClosing) stack.push(element);
  }
  while (stack.length > 1) {
    const element = stack.pop();
    if (element) element.rawInner = text.slice(element.innerStart);
  }
  return root;
}

function findTagEnd(text: string, from: number): number {
  let quote: string | null = null;
  for (let index = from; index < text.length; index += 1) {
    const character = text[index];
    if (quote) {
      if (character === quote) quote = null;
    } else if (character === '"' || character === "'") {
      quote = character;
    } else if (character === '>') {
      return index;
    } else if (character === '<') {
      return -1;
    }
  }
  return -1;
}

function findOpenIndex(stack: readonly MutableElement[], name: string): number {
  for (let index = stack.length - 1; index > 0; index -= 1) {
    if (stack[index]?.name === name) return index;
  }
  return -1;
}

function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /([^\s=]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?/g;
  for (const match of text.matchAll(pattern)) {
    const name = match[1];
    if (!name) continue;
    attributes[name] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
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
