import { escapeXmlText, lineIndentation, type XmlDocument, type XmlElementNode } from './xml-document.js';

/** Replace `text.slice(start, end)` with `replacement`. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

/** Applies non-overlapping edits; every character outside them stays as it was. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let result = '';
  let cursor = 0;
  for (const edit of sorted) {
    if (edit.start < cursor) throw new Error(`overlapping edits at ${edit.start}`);
    result += text.slice(cursor, edit.start) + edit.replacement;
    cursor = edit.end;
  }
  return result + text.slice(cursor);
}

const defaultIndentUnit = '    ';

/** The indentation of a child of `parent` and one level's unit, read from the file itself. */
export function childIndentation(document: XmlDocument, parent: XmlElementNode, grandparent?: XmlElementNode): { child: string; unit: string } {
  const { text } = document;
  const parentIndent = lineIndentation(text, parent.start);
  const firstChild = parent.children[0];
  if (firstChild !== undefined && startsLine(text, firstChild.start)) {
    const child = lineIndentation(text, firstChild.start);
    const grandchild = parent.children.find((candidate) => candidate.children[0] !== undefined && startsLine(text, candidate.children[0].start))?.children[0];
    if (grandchild !== undefined) {
      const inner = lineIndentation(text, grandchild.start);
      if (inner.startsWith(child) && inner.length > child.length) return { child, unit: inner.slice(child.length) };
    }
    if (child.startsWith(parentIndent) && child.length > parentIndent.length) return { child, unit: child.slice(parentIndent.length) };
    return { child, unit: defaultIndentUnit };
  }
  let unit = defaultIndentUnit;
  if (grandparent !== undefined) {
    const outer = lineIndentation(text, grandparent.start);
    if (parentIndent.startsWith(outer) && parentIndent.length > outer.length) unit = parentIndent.slice(outer.length);
  } else if (parentIndent.length > 0) unit = parentIndent;
  return { child: parentIndent + unit, unit };
}

function startsLine(text: string, index: number): boolean {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  return /^[ \t]*$/.test(text.slice(lineStart, index));
}

/**
 * An element with text-only children, laid out like the file around it:
 * `<name>` / one child per line, indented one unit more / `</name>`.
 */
export function renderElement(name: string, children: readonly (readonly [string, string])[], indent: string, unit: string, newline: string): string {
  const lines = children.map(([child, value]) => `${indent}${unit}<${child}>${escapeXmlText(value)}</${child}>`);
  return `<${name}>${newline}${lines.join(newline)}${newline}${indent}</${name}>`;
}

/**
 * Inserts `elementText` as the last child of `parent`: after the last child (or the start tag),
 * on a new line with the children's indentation. A self-closing parent is opened.
 */
export function insertChildEdit(document: XmlDocument, parent: XmlElementNode, elementText: string, childIndent: string): TextEdit {
  const { text, newline } = document;
  if (parent.selfClosing) {
    const open = text.slice(parent.start, parent.openEnd).replace(/\s*\/>$/, '>');
    const parentIndent = lineIndentation(text, parent.start);
    return { start: parent.start, end: parent.end, replacement: `${open}${newline}${childIndent}${elementText}${newline}${parentIndent}</${parent.name}>` };
  }
  const last = parent.children.at(-1);
  const at = last === undefined ? parent.openEnd : last.end;
  if (last === undefined && !/\S/.test(text.slice(parent.openEnd, parent.closeStart)) && !text.slice(parent.openEnd, parent.closeStart).includes('\n')) {
    // `<daemons></daemons>` on one line: give the closing tag its own line too.
    const parentIndent = lineIndentation(text, parent.start);
    return { start: parent.openEnd, end: parent.closeStart, replacement: `${newline}${childIndent}${elementText}${newline}${parentIndent}` };
  }
  return { start: at, end: at, replacement: `${newline}${childIndent}${elementText}` };
}

/**
 * Removes an element and the line break and indentation before it (the inverse of
 * `insertChildEdit`), when only whitespace separates it from what precedes it; else only the
 * element itself.
 */
export function removeElementEdit(document: XmlDocument, parent: XmlElementNode, element: XmlElementNode): TextEdit {
  const { text } = document;
  const index = parent.children.indexOf(element);
  const previousEnd = index > 0 ? parent.children[index - 1]!.end : parent.openEnd;
  const between = text.slice(previousEnd, element.start);
  if (/^\s*$/.test(between)) {
    const lineBreak = Math.max(between.lastIndexOf('\n'), -1);
    if (lineBreak >= 0) {
      const crlf = lineBreak > 0 && between[lineBreak - 1] === '\r' ? 1 : 0;
      return { start: previousEnd + lineBreak - crlf, end: element.end, replacement: '' };
    }
  }
  return { start: element.start, end: element.end, replacement: '' };
}

/** Replaces an element's bytes (its indentation and surroundings stay). */
export function replaceElementEdit(element: XmlElementNode, elementText: string): TextEdit {
  return { start: element.start, end: element.end, replacement: elementText };
}
