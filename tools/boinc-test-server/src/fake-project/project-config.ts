import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { BoincTestServerError } from '../boinc-test-server-error.js';
import { childText, findChild, findChildren, textOf, tryParseXml } from '../parse-xml.js';
import type { XmlElement } from '../parse-xml.js';
import { DEFAULT_FANOUT } from './dir-hier.js';

/** One `<daemon>` or `<task>` of config.xml. */
export interface ProjectDaemonConfig {
  readonly cmd: string;
  /** The daemon's own `<host>`, else the project's. */
  readonly host: string;
  readonly disabled: boolean;
}

/** What the double reads from a project's config.xml (the fields BOINC's programs use). */
export interface ProjectConfig {
  readonly masterUrl: string;
  readonly downloadUrl: string;
  readonly uploadUrl: string;
  readonly downloadDir: string;
  readonly uploadDir: string;
  readonly keyDir: string;
  readonly fanout: number;
  readonly host: string;
  readonly cacheMd5Info: boolean;
  readonly daemons: readonly ProjectDaemonConfig[];
}

/** `hostname -s`, as `bin/start` computes it (`socket.gethostname().split('.')[0]`). */
export function shortHostname(): string {
  return process.env['TSMW_FAKE_BOINC_HOSTNAME'] ?? hostname().split('.')[0] ?? '';
}

function flag(parent: XmlElement, name: string): boolean {
  const child = findChild(parent, name);
  if (!child) return false;
  const text = textOf(child).trim();
  return text === '' || (Number.parseInt(text, 10) || 0) > 0 || text === 'true';
}

/** Parses config.xml text; throws `TSMW_BOINC_FAKE_PROJECT_INVALID` when it has no `<config>`. */
export function parseProjectConfig(text: string, projectDirectory: string): ProjectConfig {
  const document = tryParseXml(text);
  const boinc = document && findChild(document, 'boinc');
  const config = boinc && findChild(boinc, 'config');
  if (!boinc || !config) {
    throw new BoincTestServerError('TSMW_BOINC_FAKE_PROJECT_INVALID', `config.xml in ${projectDirectory} has no <boinc><config>.`);
  }
  const host = childText(config, 'host') ?? '';
  const fanoutText = childText(config, 'uldl_dir_fanout');
  const daemonsElement = findChild(boinc, 'daemons');
  return {
    masterUrl: childText(config, 'master_url') ?? '',
    downloadUrl: childText(config, 'download_url') ?? '',
    uploadUrl: childText(config, 'upload_url') ?? '',
    downloadDir: childText(config, 'download_dir') ?? join(projectDirectory, 'download'),
    uploadDir: childText(config, 'upload_dir') ?? join(projectDirectory, 'upload'),
    keyDir: childText(config, 'key_dir') ?? join(projectDirectory, 'keys'),
    fanout: fanoutText === undefined ? DEFAULT_FANOUT : Number.parseInt(fanoutText, 10) || 0,
    host,
    cacheMd5Info: flag(config, 'cache_md5_info'),
    daemons: daemonsElement
      ? findChildren(daemonsElement, 'daemon').map((daemon) => ({
          cmd: childText(daemon, 'cmd') ?? '',
          host: childText(daemon, 'host') ?? host,
          disabled: flag(daemon, 'disabled'),
        }))
      : [],
  };
}

export function readProjectConfig(projectDirectory: string, configDirectory = projectDirectory): ProjectConfig {
  const path = join(configDirectory, 'config.xml');
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    throw new BoincTestServerError('TSMW_BOINC_FAKE_PROJECT_INVALID', `Cannot read ${path}.`, { cause: error });
  }
  return parseProjectConfig(text, projectDirectory);
}

function isProjectDirectory(directory: string): boolean {
  try {
    return statSync(join(directory, 'config.xml')).isFile() && statSync(join(directory, 'cgi-bin')).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The project directory as BOINC's `SCHED_CONFIG::project_path()` finds it: `$BOINC_PROJECT_DIR`,
 * else the working directory, else its parent, when it holds config.xml and cgi-bin/. Returns an
 * error message (BOINC's words) when none qualifies.
 */
export function findProjectDirectory(cwd: string, environment: NodeJS.ProcessEnv): { directory: string } | { error: string } {
  const fromEnvironment = environment['BOINC_PROJECT_DIR'];
  if (fromEnvironment !== undefined) {
    return isProjectDirectory(fromEnvironment) ? { directory: resolve(cwd, fromEnvironment) } : { error: 'BOINC_PROJECT_DIR env var exists but is not a project dir' };
  }
  if (isProjectDirectory(cwd)) return { directory: cwd };
  if (isProjectDirectory(join(cwd, '..'))) return { directory: resolve(cwd, '..') };
  return { error: 'Not in a project directory or subdirectory' };
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}
