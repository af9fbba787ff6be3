import { InvalidArgumentError } from '@tsmw/core';
import { parseXmlElement } from './parse-xml.js';
import { escapeXmlText, xmlNamePattern } from './xml-text.js';

declare const xmlFragmentBrand: unique symbol;

/** XML text built by these helpers: every value in it escaped, every element closed. */
export type XmlFragment = string & { readonly [xmlFragmentBrand]: true };

/** What an element may contain: fragments, and `undefined` or `false` for "leave it out". */
export type XmlContent = XmlFragment | undefined | false;

/** A value of a leaf element: text (escaped), a finite number, or a boolean written as 1 / 0. */
export type XmlValue = string | number | boolean;

function assertName(name: string): void {
  if (!xmlNamePattern.test(name)) throw new InvalidArgumentError(`${JSON.stringify(name)} is not an XML element name`);
}

/** Writes a number the way BOINC's PHP reads it with `(double)` / `(int)`: finite, no locale. */
export function formatXmlNumber(value: number, what: string): string {
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`${what} must be a finite number, not ${String(value)}`);
  return Object.is(value, -0) ? '0' : String(value);
}

export interface XmlLayoutOptions {
  /** No line breaks around the element and its children (for values such as `<name><OUTFILE_0/></name>`). */
  readonly inline?: boolean;
}

/** `<name>value</name>`, the value escaped; `undefined` leaves the element out. */
export function xmlLeaf(name: string, value: XmlValue | undefined, what: string = name, options: XmlLayoutOptions = {}): XmlFragment | undefined {
  if (value === undefined) return undefined;
  assertName(name);
  const text =
    typeof value === 'number' ? formatXmlNumber(value, what) : typeof value === 'boolean' ? (value ? '1' : '0') : escapeXmlText(value, what);
  return `<${name}>${text}</${name}>${options.inline === true ? '' : '\n'}` as XmlFragment;
}

/** `<name/>`. */
export function xmlEmpty(name: string, options: XmlLayoutOptions = {}): XmlFragment {
  assertName(name);
  return `<${name}/>${options.inline === true ? '' : '\n'}` as XmlFragment;
}

/** `<name>children</name>`; children that are `undefined` or `false` are left out. */
export function xmlElement(name: string, children: readonly XmlContent[], options: XmlLayoutOptions = {}): XmlFragment {
  assertName(name);
  let inner = '';
  for (const child of children) if (child) inner += child;
  return (options.inline === true ? `<${name}>${inner}</${name}>` : `<${name}>\n${inner}</${name}>\n`) as XmlFragment;
}

/**
 * Accepts XML written elsewhere (a template a caller supplies) as a fragment, after checking
 * that it is one well-formed element named `root` and nothing else: nothing can be smuggled
 * into the request around it.
 */
export function xmlTrusted(xml: string, root: string, what: string): XmlFragment {
  if (typeof xml !== 'string') throw new InvalidArgumentError(`${what} must be a string of XML`);
  const trimmed = xml.replace(/^\s*(?:<\?xml[^>]*\?>\s*)?/, '').trimEnd();
  try {
    parseXmlElement(trimmed, root, { operation: what });
  } catch (error) {
    throw new InvalidArgumentError(`${what} is not one well-formed <${root}> element: ${(error as Error).message}`, { cause: error });
  }
  return `${trimmed}\n` as XmlFragment;
}
