import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

interface Element {
  readonly name: string;
  readonly children: Element[];
  text: string;
}

const entities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body.startsWith('#x') ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return entities[body] ?? whole;
  });
}

/** Elements whose content projects define (preferences): not parsed, so they cannot break the file. */
const opaqueElements = new Set(['project_preferences', 'app_preferences', 'global_preferences']);

function invalid(message: string, cause?: unknown): ClientRuntimeError {
  return new ClientRuntimeError('TSMW_BOINC_INIT_DATA_INVALID', `init_data.xml: ${message}`, cause === undefined ? {} : { cause });
}

/**
 * A small well-formedness-checking reader: elements, text, CDATA, comments, declarations.
 * Attributes are skipped (BOINC writes none here). Throws on a stray `<`, an unmatched or
 * missing closing tag.
 */
function parseElements(text: string): Element {
  const root: Element = { name: '#document', children: [], text: '' };
  const stack: Element[] = [root];
  let position = 0;
  while (position < text.length) {
    const open = text.indexOf('<', position);
    const current = stack[stack.length - 1] ?? root;
    if (open === -1) {
      current.text += decodeEntities(text.slice(position));
      break;
    }
    current.text += decodeEntities(text.slice(position, open));
    if (text.startsWith('<![CDATA[', open)) {
      const end = text.indexOf(']]>', open);
      if (end === -1) throw invalid('unterminated CDATA section');
      current.text += text.slice(open + 9, end);
      position = end + 3;
      continue;
    }
    if (text.startsWith('<!--', open)) {
      const end = text.indexOf('-->', open);
      if (end === -1) throw invalid('unterminated comment');
      position = end + 3;
      continue;
    }
    const close = text.indexOf('>', open);
    const nextOpen = text.indexOf('<', open + 1);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) throw invalid(`unterminated tag at offset ${open}`);
    position = close + 1;
    if (text.startsWith('<?', open) || text.startsWith('<!', open)) continue;
    const body = text.slice(open + 1, close).trim();
    if (body.startsWith('/')) {
      const name = body.slice(1).trim();
      if (stack.length === 1 || current.name !== name) {
        throw invalid(`closing tag </${name}> at offset ${open} does not match <${current.name}>`);
      }
      stack.pop();
      continue;
    }
    const selfClosing = body.endsWith('/');
    const name = /^[^\s/]+/.exec(body)?.[0];
    if (name === undefined) throw invalid(`empty tag at offset ${open}`);
    const element: Element = { name, children: [], text: '' };
    current.children.push(element);
    if (selfClosing) continue;
    if (opaqueElements.has(name)) {
      // Project-defined content, kept as raw text: it need not be well-formed.
      const end = text.indexOf(`</${name}>`, position);
      if (end === -1) throw invalid(`<${name}> is never closed`);
      element.text = text.slice(position, end);
      position = end + name.length + 3;
      continue;
    }
    stack.push(element);
  }
  if (stack.length > 1) throw invalid(`<${stack[stack.length - 1]?.name ?? ''}> is never closed`);
  return root;
}

function child(parent: Element, name: string): Element | undefined {
  return parent.children.find((element) => element.name === name);
}

function string(parent: Element, name: string): string | undefined {
  const element = child(parent, name);
  if (element === undefined) return undefined;
  const value = element.text.trim();
  return value === '' ? undefined : value;
}

function number(parent: Element, name: string): number | undefined {
  const text = string(parent, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function parseHostInfo(element: Element): HostInfo {
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
 * Parses the text of `init_data.xml`. Missing fields are tolerated; text that is not
 * well-formed XML or has no `<app_init_data>` throws a `TSMW_BOINC_INIT_DATA_INVALID` error.
 */
export function parseInitData(text: string): InitData {
  const root = child(parseElements(text), 'app_init_data');
  if (!root) throw invalid('no <app_init_data> element');
  const major = string(root, 'major_version');
  const hostInfo = child(root, 'host_info');
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

/** Reads and parses `init_data.xml` in the slot directory. */
export async function readInitData(slotDir: string): Promise<InitData> {
  const path = join(slotDir, initDataFileName);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalid(`cannot read ${path}`, error);
  }
  return parseInitData(text);
}

/** Synchronous `readInitData`. */
export function readInitDataSync(slotDir: string): InitData {
  const path = join(slotDir, initDataFileName);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`cannot read ${path}`, error);
  }
  return parseInitData(text);
}
