import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ClientRuntimeError } from './client-runtime-error.js';

/** The host as the client describes it in `init_data.xml` (`<host_info>`). Absent fields are undefined. */
export interface HostInfo {
  readonly timezone: number | undefined;
  readonly domainName: string | undefined;
  readonly ipAddress: string | undefined;
  readonly hostCpid: string | undefined;
  readonly processorCount: number | undefined;
  readonly processorVendor: string | undefined;
  readonly processorModel: string | undefined;
  readonly processorFeatures: readonly string[];
  /** Floating-point operations per second per processor (`p_fpops`). */
  readonly floatingPointOpsPerSecond: number | undefined;
  readonly memoryBytes: number | undefined;
  readonly swapBytes: number | undefined;
  readonly diskTotalBytes: number | undefined;
  readonly diskFreeBytes: number | undefined;
  readonly osName: string | undefined;
  readonly osVersion: string | undefined;
}

/**
 * What the BOINC client tells the app about its task (`<app_init_data>` in the slot's
 * `init_data.xml`). Fields the file lacks are undefined, except those with a BOINC default
 * (noted below).
 */
export interface InitData {
  /** `major.minor.release` of the client, e.g. `7.20.5`. */
  readonly clientVersion: string | undefined;
  readonly appName: string | undefined;
  readonly appVersion: number | undefined;
  readonly workunitName: string | undefined;
  readonly resultName: string | undefined;
  readonly projectDir: string | undefined;
  readonly boincDir: string | undefined;
  readonly slot: number | undefined;
  /** The client's process id, when it sets one: an app checks every 10 s that it still runs. */
  readonly clientPid: number | undefined;
  /** `-1` when the client uses the `boinc_mmap_file` channel (the app declared `api_version` >= 6). */
  readonly shmKey: number | undefined;
  readonly userName: string | undefined;
  readonly hostId: number | undefined;
  /** CPU time of earlier runs of this task, seconds. Default 0. */
  readonly workunitCpuTime: number;
  /** Elapsed time of earlier runs, seconds. Default 0. */
  readonly startingElapsedTime: number;
  /** Seconds between checkpoints the volunteer allows. */
  readonly checkpointPeriod: number | undefined;
  /** The part of the whole job this run covers: report fraction done scaled into start..end. Defaults 0 and 1. */
  readonly fractionDoneStart: number;
  readonly fractionDoneEnd: number;
  readonly fpopsEstimate: number | undefined;
  readonly fpopsBound: number | undefined;
  readonly memoryBound: number | undefined;
  readonly diskBound: number | undefined;
  /** Unix time (seconds) by which the computation should end. */
  readonly computationDeadline: number | undefined;
  /** CPUs this task may use (`ncpus`; may be fractional). */
  readonly cpuCount: number | undefined;
  readonly hostInfo: HostInfo | undefined;
}

/**
 * The largest `init_data.xml` the runtime reads: 4 MiB. A client writes a few kilobytes (the
 * one recorded from client 7.20.5 is under 6 KB), project preferences included; a larger file
 * is refused unread, with one line, instead of being parsed into memory.
 */
export const maxInitDataBytes = 4 * 1024 * 1024;

/** Deepest nesting read: init_data.xml is 3 levels deep (host_info, proxy_info, preferences). */
const maxDepth = 64;

/** One parsed element: its children by name, in document order; a string for an element with only text. */
type Child = string | ParsedElement;
interface ParsedElement {
  readonly [name: string]: readonly Child[] | string | undefined;
}
const textProperty = '#text';

const entity = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/g;
const namedEntities: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's five entities and character references to characters XML allows, in one pass. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(entity, (whole, name: string | undefined, decimal: string | undefined, hexadecimal: string | undefined) => {
    if (name !== undefined) return namedEntities[name] ?? whole;
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hexadecimal ?? '', 16);
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    return allowed ? String.fromCodePoint(code) : whole;
  });
}

// fast-xml-parser, configured as transport-boinc reads BOINC's XML: no attributes (BOINC writes
// none here), values as written, every child an array, no entity a document declares.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  textNodeName: textProperty,
  isArray: () => true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: maxDepth,
  entityDecoder: { setExternalEntities() {}, addInputEntities() {}, reset() {}, setXmlVersion() {}, decode: decodeEntities },
});

/** Elements whose content projects define (preferences): cut out unparsed, so they cannot break the file. */
const opaqueElements = ['project_preferences', 'app_preferences', 'global_preferences'];

function invalid(message: string, cause?: unknown): ClientRuntimeError {
  return new ClientRuntimeError('TSMW_BOINC_INIT_DATA_INVALID', `init_data.xml: ${message}`, cause === undefined ? {} : { cause });
}

/** `text` with the content of every opaque element removed (linear: each is found by indexOf). */
function withoutOpaqueContent(text: string): string {
  let result = text;
  for (const name of opaqueElements) {
    const open = `<${name}>`;
    const close = `</${name}>`;
    let output = '';
    let position = 0;
    for (;;) {
      const start = result.indexOf(open, position);
      if (start < 0) break;
      const end = result.indexOf(close, start + open.length);
      if (end < 0) throw invalid(`<${name}> is never closed`);
      output += `${result.slice(position, start)}<${name}/>`;
      position = end + close.length;
    }
    result = output + result.slice(position);
  }
  return result;
}

/** Line and column of an offset, for messages. */
function excerptAt(text: string, line: number, column: number): string {
  const lineText = text.split('\n', line)[line - 1] ?? '';
  const from = Math.max(0, column - 40);
  return lineText.slice(from, from + 80).trim();
}

/**
 * Parses the whole document strictly: well-formed XML (fast-xml-parser's validator), no DOCTYPE,
 * at most `maxDepth` levels. Returns the root element `app_init_data`.
 */
function parseDocument(text: string): ParsedElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw invalid('a DOCTYPE or entity declaration, which the runtime does not read');
  const body = withoutOpaqueContent(text);
  let parsed: Record<string, unknown>;
  try {
    // The parser first: it stops at maxDepth, so that the validator never holds a deep stack.
    parsed = parser.parse(body) as Record<string, unknown>;
  } catch (error) {
    throw invalid(`not readable XML (${(error as Error).message})`, error);
  }
  const verdict = XMLValidator.validate(body);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    // The validator's message may quote its whole tag stack: one short line is enough.
    const short = msg.length > 160 ? `${msg.slice(0, 160)}…` : msg;
    throw invalid(`not well-formed XML: ${short} (line ${line}, column ${col}: ${JSON.stringify(excerptAt(body, line, col))})`);
  }
  const root = parsed['app_init_data'];
  if (!Array.isArray(root) || root.length !== 1) throw invalid('no <app_init_data> element');
  const element: unknown = root[0];
  return typeof element === 'string' ? { [textProperty]: element } : (element as ParsedElement);
}

function child(parent: ParsedElement, name: string): Child | undefined {
  const children = parent[name];
  return Array.isArray(children) ? children[0] : undefined;
}

function childElement(parent: ParsedElement, name: string): ParsedElement | undefined {
  const found = child(parent, name);
  if (found === undefined) return undefined;
  return typeof found === 'string' ? { [textProperty]: found } : found;
}

function string(parent: ParsedElement, name: string): string | undefined {
  const found = child(parent, name);
  if (found === undefined) return undefined;
  const text = typeof found === 'string' ? found : found[textProperty];
  const value = typeof text === 'string' ? text.trim() : '';
  return value === '' ? undefined : value;
}

function number(parent: ParsedElement, name: string): number | undefined {
  const text = string(parent, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function parseHostInfo(element: ParsedElement): HostInfo {
  return {
    timezone: number(element, 'timezone'),
    domainName: string(element, 'domain_name'),
    ipAddress: string(element, 'ip_addr'),
    hostCpid: string(element, 'host_cpid'),
    processorCount: number(element, 'p_ncpus'),
    processorVendor: string(element, 'p_vendor'),
    processorModel: string(element, 'p_model'),
    processorFeatures: (string(element, 'p_features') ?? '').split(/\s+/).filter((feature) => feature !== ''),
    floatingPointOpsPerSecond: number(element, 'p_fpops'),
    memoryBytes: number(element, 'm_nbytes'),
    swapBytes: number(element, 'm_swap'),
    diskTotalBytes: number(element, 'd_total'),
    diskFreeBytes: number(element, 'd_free'),
    osName: string(element, 'os_name'),
    osVersion: string(element, 'os_version'),
  };
}

/**
 * Parses the text of `init_data.xml`. Missing fields are tolerated; text over
 * `maxInitDataBytes` throws `TSMW_BOINC_INIT_DATA_TOO_LARGE`, text that is not well-formed XML
 * or has no `<app_init_data>` throws `TSMW_BOINC_INIT_DATA_INVALID`. Never anything else (fuzzed).
 */
export function parseInitData(text: string): InitData {
  if (text.length > maxInitDataBytes) throw tooLarge('the text', text.length);
  const root = parseDocument(text);
  const major = string(root, 'major_version');
  const hostInfo = childElement(root, 'host_info');
  return {
    clientVersion: major === undefined ? undefined : `${major}.${string(root, 'minor_version') ?? '0'}.${string(root, 'release') ?? '0'}`,
    appName: string(root, 'app_name'),
    appVersion: number(root, 'app_version'),
    workunitName: string(root, 'wu_name'),
    resultName: string(root, 'result_name'),
    projectDir: string(root, 'project_dir'),
    boincDir: string(root, 'boinc_dir'),
    slot: number(root, 'slot'),
    clientPid: number(root, 'client_pid') || undefined,
    shmKey: number(root, 'shm_key'),
    userName: string(root, 'user_name'),
    hostId: number(root, 'hostid'),
    workunitCpuTime: number(root, 'wu_cpu_time') ?? 0,
    startingElapsedTime: number(root, 'starting_elapsed_time') ?? 0,
    checkpointPeriod: number(root, 'checkpoint_period'),
    fractionDoneStart: number(root, 'fraction_done_start') ?? 0,
    fractionDoneEnd: number(root, 'fraction_done_end') ?? 1,
    fpopsEstimate: number(root, 'rsc_fpops_est'),
    fpopsBound: number(root, 'rsc_fpops_bound'),
    memoryBound: number(root, 'rsc_memory_bound'),
    diskBound: number(root, 'rsc_disk_bound'),
    computationDeadline: number(root, 'computation_deadline'),
    cpuCount: number(root, 'ncpus'),
    hostInfo: hostInfo ? parseHostInfo(hostInfo) : undefined,
  };
}

export const initDataFileName = 'init_data.xml';

function tooLarge(what: string, size: number): ClientRuntimeError {
  return new ClientRuntimeError(
    'TSMW_BOINC_INIT_DATA_TOO_LARGE',
    `init_data.xml: ${what} is ${size} bytes, over the ${maxInitDataBytes} bytes (4 MiB) the runtime reads (a BOINC client writes a few kilobytes); refusing it`,
  );
}

/**
 * Reads at most `maxInitDataBytes` of `init_data.xml`: a regular file (a FIFO would block the
 * read forever), its size checked before reading and again while reading (it may grow).
 */
function readCapped(path: string): string {
  let descriptor: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever.
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw invalid(`cannot read ${path}: ${(error as Error).message}`, error);
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw invalid(`${path} is not a regular file`);
    if (stats.size > maxInitDataBytes) throw tooLarge(path, stats.size);
    const buffer = Buffer.allocUnsafe(maxInitDataBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(descriptor, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxInitDataBytes) throw tooLarge(path, length);
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    if (ClientRuntimeError.isInstance(error)) throw error;
    throw invalid(`cannot read ${path}: ${(error as Error).message}`, error);
  } finally {
    closeSync(descriptor);
  }
}

/** Reads and parses `init_data.xml` in the slot directory. */
export async function readInitData(slotDir: string): Promise<InitData> {
  return readInitDataSync(slotDir);
}

/** Synchronous `readInitData`. */
export function readInitDataSync(slotDir: string): InitData {
  return parseInitData(readCapped(join(slotDir, initDataFileName)));
}
