import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isTaskModuleHash } from '@tsmw/core';
import { BoincProjectError } from '../errors/boinc-project-error.js';
import { assertAppName, tsmwProjectLayout } from './tsmw-project-layout.js';

/** How the Node.js that runs the client runtime reaches a volunteer's host. */
export type NodeProvision =
  /** A Node.js binary for the platform ships in the app version (the default). */
  | { readonly mode: 'bundled'; readonly version: string }
  /** The host's own `node` is used; the launcher fails loudly when there is none. */
  | { readonly mode: 'host' };

/** One app version tsmw deployed. */
export interface TsmwAppVersionRecord {
  /** BOINC's version_num (102 for the directory `1.02`). */
  readonly versionNum: number;
  /** `hashTaskModule` of the bundled task module this version carries: what envelopes for it must name. */
  readonly moduleHash: string;
  /** The task names the bundled module exports. */
  readonly taskNames: readonly string[];
  /** The BOINC platforms the version was built for. */
  readonly platforms: readonly string[];
  readonly node: NodeProvision;
  /** The `@tsmw/client-runtime` version inside. */
  readonly runtimeVersion: string;
  /** When it was deployed (ISO 8601). */
  readonly createdAt: string;
}

/** `<project>/tsmw/apps/<app>.json`: what `tsmw-setup` deployed for an app; the transport reads it. */
export interface TsmwAppManifest {
  readonly format: 1;
  readonly app: string;
  /** Oldest first. Old versions stay until `tsmw-setup prune`, so workunits created for them can still run. */
  readonly versions: readonly TsmwAppVersionRecord[];
}

/** Reads an app's manifest; `undefined` when the app has none (never deployed by tsmw). */
export async function readAppManifest(projectHome: string, app: string): Promise<TsmwAppManifest | undefined> {
  const path = tsmwProjectLayout(projectHome).appManifestPath(app);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BoincProjectError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseAppManifest(text, app, path);
}

/** Parses and checks a manifest's text; every defect is a `BoincProjectError` naming the file. */
export function parseAppManifest(text: string, app: string, path = `tsmw/apps/${app}.json`): TsmwAppManifest {
  assertAppName(app);
  const fail = (what: string): never => {
    throw new BoincProjectError(`${path} is not a valid tsmw app manifest: ${what} (re-run tsmw-setup deploy to rewrite it)`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not an object');
  const manifest = value as Record<string, unknown>;
  if (manifest['format'] !== 1) return fail(`unknown format ${JSON.stringify(manifest['format'])}`);
  if (manifest['app'] !== app) return fail(`it is for app ${JSON.stringify(manifest['app'])}, not ${JSON.stringify(app)}`);
  if (!Array.isArray(manifest['versions'])) return fail('"versions" is not an array');
  const versions = (manifest['versions'] as unknown[]).map((entry, index): TsmwAppVersionRecord => {
    if (typeof entry !== 'object' || entry === null) return fail(`versions[${index}] is not an object`);
    const record = entry as Record<string, unknown>;
    const versionNum = record['versionNum'];
    if (typeof versionNum !== 'number' || !Number.isSafeInteger(versionNum) || versionNum < 1) return fail(`versions[${index}].versionNum is not a whole number >= 1`);
    if (!isTaskModuleHash(record['moduleHash'])) return fail(`versions[${index}].moduleHash is not a sha256`);
    const strings = (key: string): string[] => {
      const list = record[key];
      if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) return fail(`versions[${index}].${key} is not a list of strings`);
      return list as string[];
    };
    const node = record['node'] as Record<string, unknown> | null | undefined;
    let provision: NodeProvision;
    if (node?.['mode'] === 'host') provision = { mode: 'host' };
    else if (node?.['mode'] === 'bundled' && typeof node['version'] === 'string') provision = { mode: 'bundled', version: node['version'] };
    else return fail(`versions[${index}].node is neither {mode:"host"} nor {mode:"bundled",version}`);
    if (typeof record['runtimeVersion'] !== 'string') return fail(`versions[${index}].runtimeVersion is not a string`);
    if (typeof record['createdAt'] !== 'string') return fail(`versions[${index}].createdAt is not a string`);
    return {
      versionNum,
      moduleHash: record['moduleHash'] as string,
      taskNames: strings('taskNames'),
      platforms: strings('platforms'),
      node: provision,
      runtimeVersion: record['runtimeVersion'],
      createdAt: record['createdAt'],
    };
  });
  const seen = new Set<number>();
  for (const version of versions) {
    if (seen.has(version.versionNum)) return fail(`version_num ${version.versionNum} appears twice`);
    seen.add(version.versionNum);
  }
  return { format: 1, app, versions: [...versions].sort((a, b) => a.versionNum - b.versionNum) };
}

/** Writes an app's manifest atomically (a temporary file in the same directory, then a rename). */
export async function writeAppManifest(projectHome: string, manifest: TsmwAppManifest): Promise<void> {
  assertAppName(manifest.app);
  const path = tsmwProjectLayout(projectHome).appManifestPath(manifest.app);
  const text = formatAppManifest(manifest);
  parseAppManifest(text, manifest.app, path); // never write what could not be read back
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new BoincProjectError(`Cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The manifest as its file holds it: stable key order, two-space indentation, a final newline. */
export function formatAppManifest(manifest: TsmwAppManifest): string {
  const versions = [...manifest.versions]
    .sort((a, b) => a.versionNum - b.versionNum)
    .map((version) => ({
      versionNum: version.versionNum,
      moduleHash: version.moduleHash,
      taskNames: [...version.taskNames],
      platforms: [...version.platforms],
      node: version.node.mode === 'host' ? { mode: 'host' } : { mode: 'bundled', version: version.node.version },
      runtimeVersion: version.runtimeVersion,
      createdAt: version.createdAt,
    }));
  return `${JSON.stringify({ format: 1, app: manifest.app, versions }, null, 2)}\n`;
}

/** The deployed version that carries this task module (the newest, if several do), or undefined. */
export function findAppVersionForModule(manifest: TsmwAppManifest, moduleHash: string): TsmwAppVersionRecord | undefined {
  for (let index = manifest.versions.length - 1; index >= 0; index -= 1) {
    const version = manifest.versions[index]!;
    if (version.moduleHash === moduleHash) return version;
  }
  return undefined;
}
