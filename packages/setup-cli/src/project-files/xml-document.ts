import { SaxesParser } from 'saxes';
import { ProjectFileError } from '../errors/project-file-error.js';

/**
 * One element of a parsed XML file, with where its bytes are in the text, so that an edit can
 * replace exactly an element (or insert beside it) and leave every other character alone.
 * Offsets are JavaScript string indices into the text that was parsed.
 */
export interface XmlElementNode {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Index of the `<` of the start tag. */
  readonly start: number;
  /** Index just after the `>` of the start tag (of `/>` when self-closing). */
  readonly openEnd: number;
  /** Index of the `<` of the end tag (equals `openEnd` when self-closing). */
  readonly closeStart: number;
  /** Index just after the element's last `>`. */
  readonly end: number;
  readonly selfClosing: boolean;
  readonly children: readonly XmlElementNode[];
  /** The decoded text directly inside the element (CDATA included), children's text excluded. */
  readonly text: string;
  /** 1-based line of the start tag, for messages. */
  readonly line: number;
}

export interface XmlDocument {
  readonly text: string;
  readonly root: XmlElementNode;
  /** `\r\n` when the file uses it, else `\n`. */
  readonly newline: string;
}

interface MutableNode {
  name: string;
  attributes: Record<string, string>;
  start: number;
  openEnd: number;
  closeStart: number;
  end: number;
  selfClosing: boolean;
  children: MutableNode[];
  text: string;
  line: number;
}

/**
 * Parses a whole XML file with saxes, keeping each element's position. A file that is not
 * well-formed XML is a `ProjectFileError` naming the file, the line and the column.
 */
export function parseXmlDocument(text: string, fileLabel: string): XmlDocument {
  const parser = new SaxesParser({ position: true });
  const stack: MutableNode[] = [];
  let root: MutableNode | undefined;
  let failure: string | undefined;
  // Line starts, once, so that each element's line is a binary search (no pass per element).
  const newlines: number[] = [];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines.push(i);
  const lineOf = (index: number): number => {
    let low = 0;
    let high = newlines.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (newlines[middle]! < index) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
  const tagStartBefore = (end: number): number => {
    const start = text.lastIndexOf('<', end - 1);
    if (start < 0 || text[end - 1] !== '>') throw new Error(`saxes reported a tag ending at ${end} that is not there`);
    return start;
  };
  parser.on('error', (error) => {
    failure ??= error.message;
  });
  parser.on('opentag', (tag) => {
    const end = parser.position;
    const start = tagStartBefore(end);
    const attributes: Record<string, string> = {};
    for (const [key, value] of Object.entries(tag.attributes)) attributes[key] = typeof value === 'string' ? value : value.value;
    const node: MutableNode = {
      name: tag.name,
      attributes,
      start,
      openEnd: end,
      closeStart: end,
      end,
      selfClosing: tag.isSelfClosing,
      children: [],
      text: '',
      line: lineOf(start),
    };
    const parent = stack.at(-1);
    if (parent === undefined) root ??= node;
    else parent.children.push(node);
    stack.push(node);
  });
  parser.on('closetag', (tag) => {
    const node = stack.pop();
    if (node === undefined) return;
    if (!tag.isSelfClosing) {
      node.end = parser.position;
      node.closeStart = tagStartBefore(node.end);
    }
  });
  const addText = (value: string): void => {
    const node = stack.at(-1);
    if (node !== undefined) node.text += value;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  try {
    parser.write(text).close();
  } catch (error) {
    failure ??= (error as Error).message;
  }
  if (failure !== undefined) {
    throw new ProjectFileError(`${fileLabel} is not well-formed XML: ${failure.split('\n')[0]}; nothing was changed`);
  }
  if (root === undefined) throw new ProjectFileError(`${fileLabel} has no root element; nothing was changed`);
  return { text, root, newline: text.includes('\r\n') ? '\r\n' : '\n' };
}

/** The children of `element` named `name`. */
export function childElements(element: XmlElementNode, name: string): XmlElementNode[] {
  return element.children.filter((child) => child.name === name);
}

/** The trimmed text of the one child named `name`, or undefined when there is none. */
export function childText(element: XmlElementNode, name: string): string | undefined {
  const child = element.children.find((candidate) => candidate.name === name);
  return child === undefined ? undefined : child.text.trim();
}

/** The whitespace that starts the line an index is on (the element's indentation). */
export function lineIndentation(text: string, index: number): string {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  const match = /^[ \t]*/.exec(text.slice(lineStart, index));
  return match?.[0] ?? '';
}

/** Escapes text for an XML text node. */
export function escapeXmlText(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
