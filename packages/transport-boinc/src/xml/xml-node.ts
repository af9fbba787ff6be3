import { BoincXmlError } from './boinc-xml-error.js';
import { cdataProperty, textProperty } from './parse-xml.js';

/** A parsed child: a string for an element with only text (or nothing), an object otherwise. */
export type XmlChild = string | XmlElementNode;

/** A parsed element: its children by name, each an array in document order. */
export interface XmlElementNode {
  readonly [name: string]: readonly XmlChild[] | string | undefined;
}

/** Says which reply and which element a missing or ill-typed value belongs to. */
export interface XmlReadContext {
  readonly operation: string;
  /** Where in the reply, for example `<job> 3`. */
  readonly path?: string;
}

function where(context: XmlReadContext, name: string): string {
  return `${context.operation} reply${context.path === undefined ? '' : `, ${context.path}`}, <${name}>`;
}

function unexpected(context: XmlReadContext, message: string): BoincXmlError {
  return new BoincXmlError(message, { reason: 'unexpected', operation: context.operation });
}

/** The children named `name`, in document order (none: an empty array). */
export function xmlChildren(node: XmlElementNode, name: string): readonly XmlChild[] {
  if (name === textProperty || name === cdataProperty) return [];
  const children = node[name];
  return Array.isArray(children) ? children : [];
}

/** The children named `name` that are elements; an empty element counts as one with no children. */
export function xmlChildElements(node: XmlElementNode, name: string): readonly XmlElementNode[] {
  return xmlChildren(node, name).map((child) => (typeof child === 'string' ? (child === '' ? {} : { [textProperty]: child }) : child));
}

/** Whether `node` has at least one child named `name`. */
export function hasXmlChild(node: XmlElementNode, name: string): boolean {
  return xmlChildren(node, name).length > 0;
}

/** The text of a child: its own text and CDATA sections joined (CDATA as written, untrimmed). */
export function xmlChildText(child: XmlChild): string {
  if (typeof child === 'string') return child;
  const text = child[textProperty];
  const cdata = child[cdataProperty];
  let value = typeof text === 'string' ? text : '';
  if (Array.isArray(cdata)) for (const part of cdata) if (typeof part === 'string') value += part;
  return value;
}

/** The text of the first child named `name`, or `undefined` when there is none. */
export function readOptionalText(node: XmlElementNode, name: string): string | undefined {
  const first = xmlChildren(node, name)[0];
  return first === undefined ? undefined : xmlChildText(first);
}

/** The texts of every child named `name`. */
export function readTexts(node: XmlElementNode, name: string): string[] {
  return xmlChildren(node, name).map(xmlChildText);
}

/** The text of the first child named `name`; a `BoincXmlError` (`unexpected`) when it is missing. */
export function readText(node: XmlElementNode, name: string, context: XmlReadContext): string {
  const value = readOptionalText(node, name);
  if (value === undefined) throw unexpected(context, `${where(context, name)} is missing`);
  return value;
}

const decimal = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function toNumber(text: string, context: XmlReadContext, name: string, integer: boolean): number {
  const trimmed = text.trim();
  // PHP prints INF / NAN for non-finite doubles; BOINC's fields never are.
  const value = decimal.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    throw unexpected(context, `${where(context, name)} should be ${integer ? 'an integer' : 'a number'}, not ${JSON.stringify(trimmed.slice(0, 40))}`);
  }
  return value;
}

/** A required number (decimal or exponent notation, finite). */
export function readNumber(node: XmlElementNode, name: string, context: XmlReadContext): number {
  return toNumber(readText(node, name, context), context, name, false);
}

/** An optional number; an empty element counts as absent. */
export function readOptionalNumber(node: XmlElementNode, name: string, context: XmlReadContext): number | undefined {
  const text = readOptionalText(node, name);
  return text === undefined || text.trim() === '' ? undefined : toNumber(text, context, name, false);
}

/** A required safe integer. */
export function readInteger(node: XmlElementNode, name: string, context: XmlReadContext): number {
  return toNumber(readText(node, name, context), context, name, true);
}

/** An optional safe integer; an empty element counts as absent. */
export function readOptionalInteger(node: XmlElementNode, name: string, context: XmlReadContext): number | undefined {
  const text = readOptionalText(node, name);
  return text === undefined || text.trim() === '' ? undefined : toNumber(text, context, name, true);
}

/** Every child named `name` as an integer. */
export function readIntegers(node: XmlElementNode, name: string, context: XmlReadContext): number[] {
  return readTexts(node, name).map((text) => toNumber(text, context, name, true));
}
