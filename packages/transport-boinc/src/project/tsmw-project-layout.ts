import { isAbsolute, join, resolve } from 'node:path';
import { assertBatchName, InvalidArgumentError } from '@tsmw/core';

/**
 * The programs tsmw installs into a project's `bin/` (by `tsmw-setup`), run by BOINC's daemons:
 * - `assimilator`: run by `script_assimilator --app APP --script tsmw_assimilator` as
 *   `tsmw_assimilator WU_ID FILES...` (success) or
 *   `tsmw_assimilator --error ERRMASK WU_NAME WU_ID BATCH` (failure); it moves the output into
 *   the inbox of the workunit's batch, or records the error there.
 * - `validatorInit` / `validatorCompare`: run by `script_validator --app APP
 *   --init_script tsmw_validate --compare_script tsmw_compare` in their default argument forms
 *   (`files`; `files files2`): exit 0 valid / match, 1 invalid / no match, 3 transient.
 */
export const tsmwProgramNames = {
  assimilator: 'tsmw_assimilator',
  validatorInit: 'tsmw_validate',
  validatorCompare: 'tsmw_compare',
} as const;

export type TsmwProgram = keyof typeof tsmwProgramNames;

/**
 * The physical name of a bundled task module in an app version (`tsmw_tasks_<first 16 hex of its
 * sha256>.mjs`, content-addressed as BOINC's files are immutable): where `tsmw-setup deploy`
 * puts it, in `appVersionDirectory(...)`, and where tsmw's compare program loads it from.
 */
export function taskModuleFileName(moduleHash: string): string {
  if (!/^[0-9a-f]{64}$/.test(moduleHash)) throw new InvalidArgumentError('taskModuleFileName needs a task module hash (sha256 in lowercase hex)');
  return `tsmw_tasks_${moduleHash.slice(0, 16)}.mjs`;
}

/** BOINC platform names tsmw builds app versions for. */
export const tsmwPlatforms = ['x86_64-pc-linux-gnu', 'aarch64-unknown-linux-gnu', 'windows_x86_64', 'x86_64-apple-darwin'] as const;
export type TsmwPlatform = (typeof tsmwPlatforms)[number];

/** What a BOINC app name may look like for tsmw (a file name part in `templates/` and `apps/`). */
export const appNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function assertAppName(app: unknown): asserts app is string {
  if (typeof app !== 'string' || !appNamePattern.test(app)) {
    throw new InvalidArgumentError(`app ${JSON.stringify(app)} is not a valid app name: use 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit`);
  }
}

/**
 * Where tsmw keeps things in a BOINC project: the one place both the transport (on the server
 * host) and `tsmw-setup` learn the layout from. Everything tsmw owns beyond BOINC's own
 * directories lives under `<project>/tsmw/`.
 */
export interface TsmwProjectLayout {
  /** The project's home directory (absolute). */
  readonly projectHome: string;
  /** `<project>/tsmw`: tsmw's own directory. */
  readonly tsmwDirectory: string;
  /** `<project>/tsmw/programs`: the self-contained programs behind the `bin/` launchers. */
  readonly programsDirectory: string;
  /** `<project>/tsmw/apps`: one manifest per app (`<app>.json`), written by `tsmw-setup`. */
  readonly appsDirectory: string;
  /** `<project>/tsmw/batches`: one directory per batch. */
  readonly batchesDirectory: string;
  /** `<project>/config.xml`. */
  readonly configPath: string;
  /** `<project>/project.xml`. */
  readonly projectXmlPath: string;
  /** `<project>/tsmw/apps/<app>.json`. */
  appManifestPath(app: string): string;
  /** `<project>/tsmw/batches/<batch>`. */
  batchDirectory(batch: string): string;
  /** `<project>/tsmw/batches/<batch>/inbox`: where the assimilator puts the batch's outputs and errors; the transport is its only reader. */
  batchInbox(batch: string): string;
  /** `<project>/tsmw/batches/<batch>/results`: result envelopes the transport took from the inbox and recorded (kept while the batch is). */
  batchResultsDirectory(batch: string): string;
  /** `<project>/tsmw/batches/<batch>/batch.sqlite`: the batch's durable store. */
  batchStorePath(batch: string): string;
  /** `<project>/tsmw/unrouted`: outputs and errors of workunits whose name is not a tsmw job name (kept for an administrator). */
  readonly unroutedDirectory: string;
  /** `templates/<app>_in`, relative to the project (as `create_work --wu_template` takes it). */
  inputTemplateName(app: string): string;
  /** `templates/<app>_out`, relative to the project. */
  outputTemplateName(app: string): string;
  /** `<project>/apps/<app>/<version>/<platform>`, with `version` as BOINC writes it (`1.02` for version_num 102). */
  appVersionDirectory(app: string, versionNum: number, platform: string): string;
  /** `<project>/bin/<name>`. */
  binPath(name: string): string;
}

/** The layout of the project at `projectHome` (resolved against the working directory). */
export function tsmwProjectLayout(projectHome: string): TsmwProjectLayout {
  if (typeof projectHome !== 'string' || projectHome === '') throw new InvalidArgumentError('projectHome must be the path of a BOINC project directory');
  const home = isAbsolute(projectHome) ? resolve(projectHome) : resolve(process.cwd(), projectHome);
  const tsmwDirectory = join(home, 'tsmw');
  const batchesDirectory = join(tsmwDirectory, 'batches');
  const appsDirectory = join(tsmwDirectory, 'apps');
  return {
    projectHome: home,
    tsmwDirectory,
    programsDirectory: join(tsmwDirectory, 'programs'),
    appsDirectory,
    batchesDirectory,
    configPath: join(home, 'config.xml'),
    projectXmlPath: join(home, 'project.xml'),
    appManifestPath(app) {
      assertAppName(app);
      return join(appsDirectory, `${app}.json`);
    },
    batchDirectory(batch) {
      assertBatchName(batch);
      return join(batchesDirectory, batch);
    },
    batchInbox(batch) {
      assertBatchName(batch);
      return join(batchesDirectory, batch, 'inbox');
    },
    batchResultsDirectory(batch) {
      assertBatchName(batch);
      return join(batchesDirectory, batch, 'results');
    },
    batchStorePath(batch) {
      assertBatchName(batch);
      return join(batchesDirectory, batch, 'batch.sqlite');
    },
    unroutedDirectory: join(tsmwDirectory, 'unrouted'),
    inputTemplateName(app) {
      assertAppName(app);
      return `templates/${app}_in`;
    },
    outputTemplateName(app) {
      assertAppName(app);
      return `templates/${app}_out`;
    },
    appVersionDirectory(app, versionNum, platform) {
      assertAppName(app);
      if (!/^[A-Za-z0-9_.-]+$/.test(platform)) throw new InvalidArgumentError(`platform ${JSON.stringify(platform)} is not a BOINC platform name`);
      return join(home, 'apps', app, formatVersionNum(versionNum), platform);
    },
    binPath(name) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') throw new InvalidArgumentError(`${JSON.stringify(name)} is not a program name`);
      return join(home, 'bin', name);
    },
  };
}

/** BOINC's version directory name for a version_num: 102 -> `1.02`, 100 -> `1.00`, 1234 -> `12.34`. */
export function formatVersionNum(versionNum: number): string {
  if (!Number.isSafeInteger(versionNum) || versionNum < 1) throw new InvalidArgumentError(`version_num must be a whole number >= 1, not ${versionNum}`);
  return `${Math.floor(versionNum / 100)}.${String(versionNum % 100).padStart(2, '0')}`;
}

/** The inverse of `formatVersionNum`: `1.02` -> 102; undefined for anything else. */
export function parseVersionDirectory(name: string): number | undefined {
  const match = /^(\d{1,6})\.(\d{2})$/.exec(name);
  if (match === null) return undefined;
  const versionNum = Number(match[1]) * 100 + Number(match[2]);
  return versionNum >= 1 ? versionNum : undefined;
}
