import { BoincRpcError } from './boinc-rpc-error.js';
import { BoincXmlError } from './boinc-xml-error.js';
import { decodeXmlEntities } from './decode-xml-entities.js';
import { excerpt, parseXmlElement } from './parse-xml.js';
import { readOptionalText, xmlChildElements, type XmlElementNode } from './xml-node.js';
import { escapeXmlText } from './xml-text.js';

/** Largest reply read by default: a `query_batch` of 100,000 jobs with details is about 20 MB. */
export const defaultMaxReplyBytes = 64 * 1024 * 1024;

export interface ReadBoincReplyOptions {
  /** Replies longer than this (bytes, or UTF-16 units for a string) are refused unread. */
  readonly maxBytes?: number;
  /** Applied to every piece of the reply that goes into an error (removes the authenticator). */
  readonly redact?: (text: string) => string;
}

const identity = (text: string): string => text;

// PHP's diagnostics as a BOINC server prints them into a reply, before the XML declaration or
// inside the operation's element (both seen). Every search below is linear in the reply: each
// diagnostic is looked for only up to the next one, and only so far.
const phpLevels = '(?:PHP )?(?:Warning|Notice|Deprecated|Strict Standards|Fatal error|Parse error|Catchable fatal error|Recoverable fatal error|User (?:Warning|Notice|Deprecated|Error))';
/** html_errors on: `<br />\n<b>Warning</b>:  message in <b>/path</b> on line <b>12</b><br />`; this finds the starts. */
const phpHtmlDiagnosticStart = new RegExp(`(?:<br\\s{0,3}/?>\\s{0,20})?<b>${phpLevels}</b>:`, 'g');
/** ...and this ends one, at the place its message says `on line`. */
const phpHtmlDiagnosticEnd = /^ on line <b>\d{1,9}<\/b>(?:\s{0,20}<br\s{0,3}\/?>)?/;
/** html_errors off: one line `Warning: message in /path on line 12`. */
const phpTextDiagnostic = new RegExp(`^${phpLevels}: [^\\n]{0,4000} on line \\d{1,9}[ \\t]*$`, 'gm');
/** BOINC's own RPC_DEBUG handler (`html/inc/xml.inc`): `<error><error_msg><![CDATA[..]]></error_msg><type>..</type>...</error>`. */
const boincDebugDiagnosticStart = /<error>\s{0,20}<error_msg><!\[CDATA\[/g;
const boincDebugDiagnosticEnd = /^\]\]><\/error_msg>\s{0,20}<type>[^<]{0,100}<\/type>[^]{0,2000}?<\/error>/;
/** A fatal error: the reply ends there. */
const phpFatal = /(?:<b>)?(?:PHP )?(Fatal error|Parse error)(?:<\/b>)?:\s{0,20}([^\n<]{0,300})/;
/** `abort_jobs` prints `<aborted NAME>` (`html/user/submit_rpc_handler.php`), which is not XML. */
const malformedAborted = /<aborted ([^<>\n]{1,300})>/g;
/** XML declarations inside the reply (a template file pasted into `get_templates`). */
const innerDeclaration = /<\?xml[^>]{0,200}\?>/g;
/** The start of BOINC's `<error>` reply, found by pattern when the XML around it is broken (`xml_error()` does not escape its message). */
const errorStart = /<error>\s{0,20}<error_num>\s{0,20}(-?\d{1,9})\s{0,20}<\/error_num>\s{0,20}<error_msg>/;
const htmlPattern = /<html[\s>]|<!doctype\s+html|<body[\s>]|<head[\s>]/i;
/** How far into a diagnostic its end is looked for. */
const maxDiagnosticLength = 4000;

/**
 * Cuts every region that starts at a match of `start` and ends where `end` matches at the first
 * `endMarker`, looked for in the first `maxDiagnosticLength` characters after the start and
 * before the next start.
 */
function cutRegions(text: string, start: RegExp, endMarker: string, end: RegExp): string {
  const starts = [...text.matchAll(start)];
  if (starts.length === 0) return text;
  let result = '';
  let copied = 0;
  for (const [index, match] of starts.entries()) {
    const from = match.index;
    if (from < copied) continue;
    const bodyStart = from + match[0].length;
    const limit = Math.min(starts[index + 1]?.index ?? text.length, bodyStart + maxDiagnosticLength);
    const marker = text.slice(bodyStart, limit).indexOf(endMarker);
    if (marker < 0) continue;
    const tail = end.exec(text.slice(bodyStart + marker, bodyStart + marker + 2200));
    if (tail === null) continue;
    result += text.slice(copied, from);
    copied = bodyStart + marker + tail[0].length;
  }
  return result + text.slice(copied);
}

/** Removes the PHP diagnostics BOINC servers print into replies. */
export function stripPhpDiagnostics(text: string): string {
  const withoutHtml = cutRegions(text, phpHtmlDiagnosticStart, ' on line <b>', phpHtmlDiagnosticEnd);
  const withoutText = withoutHtml.replace(phpTextDiagnostic, '');
  return cutRegions(withoutText, boincDebugDiagnosticStart, ']]></error_msg>', boincDebugDiagnosticEnd);
}

function rpcError(operation: string, errorNumber: number, rawMessage: string, redact: (text: string) => string): BoincRpcError {
  const redacted = redact(rawMessage.trim());
  const boincMessage = redacted.length > 20_000 ? `${redacted.slice(0, 20_000)}…` : redacted;
  return new BoincRpcError(`${operation}: the BOINC server answered error ${errorNumber}: ${boincMessage}`, {
    operation,
    errorNumber,
    boincMessage,
  });
}

function findErrorByPattern(text: string, operation: string, redact: (text: string) => string): BoincRpcError | undefined {
  const match = errorStart.exec(text);
  if (match === null) return undefined;
  const messageStart = match.index + match[0].length;
  const messageEnd = text.indexOf('</error_msg>', messageStart);
  if (messageEnd < 0) return undefined;
  return rpcError(operation, Number(match[1]), decodeXmlEntities(text.slice(messageStart, messageEnd)), redact);
}

/** The page's title and heading; `text` already redacted. */
function htmlSummary(text: string): string {
  const head = text.slice(0, 16_384);
  const title = /<title[^>]{0,200}>([^]{0,300}?)<\/title>/i.exec(head)?.[1];
  const heading = /<h1[^>]{0,200}>([^]{0,300}?)<\/h1>/i.exec(head)?.[1];
  const parts = [title, heading]
    .filter((part): part is string => part !== undefined)
    .map((part) => decodeXmlEntities(part.replace(/<[^>]{0,300}>/g, ' ')).replace(/\s+/g, ' ').trim())
    .filter((part, index, all) => part !== '' && all.indexOf(part) === index);
  return parts.length > 0 ? parts.join(': ').slice(0, 200) : excerpt(head.slice(0, 1000).replace(/<[^>]{0,300}>/g, ' '));
}

function decode(body: string | Uint8Array, operation: string, maxBytes: number): string {
  const size = typeof body === 'string' ? body.length : body.byteLength;
  if (size > maxBytes) {
    throw new BoincXmlError(`${operation}: the reply is ${size} bytes, over the limit of ${maxBytes}`, { reason: 'too-large', operation });
  }
  // BOINC declares ISO-8859-1 but prints whatever its database holds (UTF-8 in practice):
  // read UTF-8, never fail on a stray byte. A byte-order mark at the start is dropped.
  const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(body);
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** The start tag of the operation's element, as BOINC prints it: `<op>` (or `<op/>`). */
function findStartTag(text: string, operation: string): { index: number; selfClosing: boolean } | undefined {
  const open = text.indexOf(`<${operation}>`);
  const closed = text.indexOf(`<${operation}/>`);
  if (open < 0 && closed < 0) return undefined;
  if (open < 0 || (closed >= 0 && closed < open)) return { index: closed, selfClosing: true };
  return { index: open, selfClosing: false };
}

/**
 * Reads a reply of BOINC's web RPCs (`submit_rpc_handler.php`, `job_file.php`): finds the
 * operation's element wherever it starts (after PHP warnings or HTML, a byte-order mark, the XML
 * declaration), removes the PHP diagnostics printed inside it, repairs `abort_jobs`' `<aborted
 * NAME>`, and parses it strictly. Returns the operation's element.
 *
 * - BOINC's `<error><error_num>N</error_num><error_msg>M</error_msg></error>`, inside the element
 *   or alone (errors before the element starts), becomes a `BoincRpcError` with N and M.
 * - Anything else that is not the element becomes a `BoincXmlError`: `empty`, `html` (with the
 *   page's title), `truncated`, `php-error`, `malformed`, `unexpected` or `too-large`.
 *
 * Never throws anything else, whatever the bytes (fuzzed).
 */
export function readBoincReply(body: string | Uint8Array, operation: string, options: ReadBoincReplyOptions = {}): XmlElementNode {
  const redact = options.redact ?? identity;
  const text = decode(body, operation, options.maxBytes ?? defaultMaxReplyBytes);
  const start = findStartTag(text, operation);

  if (start === undefined) {
    const error = findErrorByPattern(text, operation, redact);
    if (error !== undefined) throw error;
    // From here on only what goes into messages is read: redacted whole, before any cut.
    const shown = redact(text);
    const fatal = phpFatal.exec(shown);
    if (fatal !== null) {
      throw new BoincXmlError(`${operation}: the server's PHP stopped with a ${fatal[1]}: ${decodeXmlEntities(fatal[2] ?? '').trim()}`, { reason: 'php-error', operation });
    }
    if (htmlPattern.test(shown)) {
      throw new BoincXmlError(`${operation}: the server answered with an HTML page, not XML: ${htmlSummary(shown)}`, { reason: 'html', operation });
    }
    const rest = stripPhpDiagnostics(shown).replace(/<\?xml[^>]{0,200}\?>/, '').trim();
    if (rest === '') {
      throw new BoincXmlError(`${operation}: the server's reply is empty${shown.trim() === '' ? '' : ` (only PHP diagnostics: ${excerpt(shown)})`}`, { reason: 'empty', operation });
    }
    throw new BoincXmlError(`${operation}: the reply has no <${operation}> element: ${excerpt(shown)}`, { reason: 'unexpected', operation });
  }
  if (start.selfClosing) return {};

  const endTag = `</${operation}>`;
  const end = text.lastIndexOf(endTag);
  if (end < start.index) {
    const partial = text.slice(start.index);
    const error = findErrorByPattern(partial, operation, redact);
    if (error !== undefined) throw error;
    const shown = redact(partial);
    const fatal = phpFatal.exec(shown);
    if (fatal !== null) {
      throw new BoincXmlError(`${operation}: the server's PHP stopped with a ${fatal[1]}: ${decodeXmlEntities(fatal[2] ?? '').trim()}`, { reason: 'php-error', operation });
    }
    throw new BoincXmlError(`${operation}: the reply was cut off (no ${endTag} after ${partial.length} characters): ${excerpt(shown, Math.max(0, shown.length - 80))}`, {
      reason: 'truncated',
      operation,
    });
  }

  const inner = stripPhpDiagnostics(text.slice(start.index, end + endTag.length))
    .replace(malformedAborted, (_whole, name: string) => `<aborted>${escapeAbortedName(name)}</aborted>`)
    .replace(innerDeclaration, '');
  let element: XmlElementNode;
  try {
    element = parseXmlElement(inner, operation, { operation, redact });
  } catch (error) {
    throw findErrorByPattern(inner, operation, redact) ?? error;
  }
  const [boincError] = xmlChildElements(element, 'error');
  const errorNumber = boincError === undefined ? undefined : readOptionalText(boincError, 'error_num');
  if (boincError !== undefined && errorNumber !== undefined) {
    const parsed = Number(errorNumber.trim());
    throw rpcError(operation, Number.isSafeInteger(parsed) ? parsed : -1, readOptionalText(boincError, 'error_msg') ?? '', redact);
  }
  return element;
}

function escapeAbortedName(name: string): string {
  try {
    return escapeXmlText(decodeXmlEntities(name.trim()), 'aborted job name');
  } catch {
    return '';
  }
}
