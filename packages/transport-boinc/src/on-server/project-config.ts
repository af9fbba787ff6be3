import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { BoincProjectError } from '../errors/boinc-project-error.js';
import { DEFAULT_UPLOAD_DOWNLOAD_FANOUT } from './dir-hier.js';

/** What the transport needs from a project's `config.xml`. */
export interface BoincProjectConfig {
  /** `<uldl_dir_fanout>` (BOINC's default 1024 when absent). */
  readonly fanout: number;
  /** `<download_dir>`, absolute (default `<project>/download`). */
  readonly downloadDirectory: string;
  /** `<upload_dir>`, absolute (default `<project>/upload`). */
  readonly uploadDirectory: string;
  /** `<master_url>`, when given. */
  readonly masterUrl: string | undefined;
  /** `<host>`: the host BOINC's `bin/start` runs daemons on. */
  readonly host: string | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Reads `<project>/config.xml`; a missing or unreadable file is a `BoincProjectError` saying so. */
export async function readProjectConfig(projectHome: string): Promise<BoincProjectConfig> {
  const path = join(projectHome, 'config.xml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist (is this a BOINC project directory?)' : (error as Error).message;
    throw new BoincProjectError(`Cannot read ${path}: ${reason}`, { cause: error });
  }
  return parseProjectConfig(text, projectHome, path);
}

/** Parses the text of a project's `config.xml`. */
export function parseProjectConfig(text: string, projectHome: string, path = 'config.xml'): BoincProjectConfig {
  let document: unknown;
  try {
    document = parser.parse(text, true);
  } catch (error) {
    throw new BoincProjectError(`${path} is not well-formed XML: ${(error as Error).message}`, { cause: error });
  }
  const config = (document as { boinc?: { config?: unknown } } | undefined)?.boinc?.config;
  if (typeof config !== 'object' || config === null) throw new BoincProjectError(`${path} has no <boinc><config> element`);
  const field = (name: string): string | undefined => {
    const value = (config as Record<string, unknown>)[name];
    if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const fanoutText = field('uldl_dir_fanout');
  let fanout = DEFAULT_UPLOAD_DOWNLOAD_FANOUT;
  if (fanoutText !== undefined) {
    if (!/^\d{1,9}$/.test(fanoutText)) throw new BoincProjectError(`${path}: <uldl_dir_fanout> is ${JSON.stringify(fanoutText)}, not a whole number`);
    fanout = Number(fanoutText);
  }
  const directory = (name: string, fallback: string): string => {
    const value = field(name);
    if (value === undefined) return join(projectHome, fallback);
    return isAbsolute(value) ? resolve(value) : resolve(projectHome, value);
  };
  return {
    fanout,
    downloadDirectory: directory('download_dir', 'download'),
    uploadDirectory: directory('upload_dir', 'upload'),
    masterUrl: field('master_url'),
    host: field('host'),
  };
}
