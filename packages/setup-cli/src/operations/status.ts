import { access, constants, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashTaskModule } from '@tsmw/core';
import { formatVersionNum, parseVersionDirectory, readAppManifest, tsmwPlatforms, tsmwProgramNames, type TsmwAppManifest } from '@tsmw/transport-boinc';
import { daemonsForApp, type DaemonEntry } from '../project-files/config-xml.js';
import { findProjectApp } from '../project-files/project-xml.js';
import { hostWarning, openProject, shortHostname, type ProjectContext } from './project-context.js';

export type FindingSeverity = 'error' | 'warning' | 'info';

/** One thing `status` found; `code` is stable for scripts. */
export interface StatusFinding {
  readonly severity: FindingSeverity;
  readonly code:
    | 'not-set-up'
    | 'app-not-in-project-xml'
    | 'no-validator'
    | 'no-assimilator'
    | 'daemon-disabled'
    | 'daemon-not-running'
    | 'host-mismatch'
    | 'no-app-version'
    | 'app-version-incomplete'
    | 'unknown-module-hash'
    | 'program-missing'
    | 'template-missing'
    | 'commands-pending'
    | 'results-waiting';
  readonly app?: string;
  readonly message: string;
}

export interface DaemonStatus {
  readonly cmd: string;
  readonly role: string;
  readonly disabled: boolean;
  /** undefined when it cannot be told from here (another host). */
  readonly running: boolean | undefined;
}

export interface AppVersionStatus {
  readonly versionNum: number;
  readonly version: string;
  readonly platforms: readonly string[];
  readonly moduleHash: string | undefined;
  readonly inManifest: boolean;
}

export interface AppStatus {
  readonly app: string;
  readonly inProjectXml: boolean;
  readonly daemons: readonly DaemonStatus[];
  readonly versions: readonly AppVersionStatus[];
}

export interface StatusReport {
  readonly projectHome: string;
  readonly host: { readonly config: string | undefined; readonly here: string };
  readonly apps: readonly AppStatus[];
  readonly findings: readonly StatusFinding[];
  /** No finding of severity `error`. */
  readonly ok: boolean;
}

export interface StatusOptions {
  readonly projectHome: string;
  /** One app; default every app tsmw set up in the project. */
  readonly app?: string;
}

async function entries(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).filter((name) => !name.startsWith('.'));
  } catch {
    return [];
  }
}

async function exists(path: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Whether a daemon runs, as BOINC's `bin/start --status` tells: its pid file in `pid_<host>/` names a live process. */
async function daemonRunning(context: ProjectContext, daemon: DaemonEntry): Promise<boolean | undefined> {
  const here = shortHostname();
  if ((daemon.host ?? context.config.host) !== here) return undefined;
  const pidFile = join(context.layout.projectHome, `pid_${here}`, daemon.pidFile ?? `${daemon.program}.pid`);
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tsmwApps(context: ProjectContext): Promise<string[]> {
  const names = new Set<string>();
  for (const name of await entries(context.layout.appsDirectory)) if (name.endsWith('.json')) names.add(name.slice(0, -'.json'.length));
  for (const name of await entries(context.paths.directory)) if (name.endsWith('.json') && !name.endsWith('.pending.json')) names.add(name.slice(0, -'.json'.length));
  return [...names].sort();
}

/**
 * `tsmw-setup status`: what is installed, and every reason results would not arrive: no
 * validator or assimilator for the app, daemons not running, config.xml's `<host>` not this
 * host, an app version missing for a platform, an app version whose task module the manifest
 * does not know, tsmw's programs or templates missing, commands left pending, results waiting
 * in a batch's inbox. Reads only.
 */
export async function runStatus(options: StatusOptions): Promise<StatusReport> {
  const context = await openProject(options.projectHome, options.app);
  const { layout, config } = context;
  const findings: StatusFinding[] = [];
  const here = shortHostname();
  const warning = hostWarning(config);
  if (warning !== undefined) findings.push({ severity: 'error', code: 'host-mismatch', message: warning });
  const apps = options.app === undefined ? await tsmwApps(context) : [options.app];
  if (apps.length === 0) findings.push({ severity: 'info', code: 'not-set-up', message: 'no app of this project was set up by tsmw-setup (run tsmw-setup init)' });
  const appStatuses: AppStatus[] = [];
  for (const app of apps) {
    let manifest: TsmwAppManifest | undefined;
    try {
      manifest = await readAppManifest(layout.projectHome, app);
    } catch (error) {
      findings.push({ severity: 'error', code: 'unknown-module-hash', app, message: (error as Error).message });
    }
    const pending = await readFile(context.paths.pending(app), 'utf8').catch(() => undefined);
    if (manifest === undefined && !(await exists(context.paths.state(app)))) {
      findings.push({ severity: 'error', code: 'not-set-up', app, message: `app ${app} was not set up by tsmw-setup: run tsmw-setup init --app ${app}` });
    }
    if (pending !== undefined) findings.push({ severity: 'error', code: 'commands-pending', app, message: `an earlier run left commands pending (${pending.trim()}): run tsmw-setup init again to finish them` });
    const inProjectXml = findProjectApp(context.projectXml, app) !== undefined;
    if (!inProjectXml) findings.push({ severity: 'error', code: 'app-not-in-project-xml', app, message: `project.xml has no app ${app}: BOINC cannot create its workunits (run tsmw-setup init)` });

    // Daemons: a validator and an assimilator, enabled and running; and the feeder and transitioner.
    const appDaemons = daemonsForApp(config, app);
    const daemonStatuses: DaemonStatus[] = [];
    for (const role of ['validator', 'assimilator'] as const) {
      const ofRole = appDaemons.filter((daemon) => daemon.role === role);
      const enabled = ofRole.filter((daemon) => !daemon.disabled);
      if (ofRole.length === 0) {
        findings.push({
          severity: 'error',
          code: role === 'validator' ? 'no-validator' : 'no-assimilator',
          app,
          message: `config.xml runs no ${role} for app ${app}: ${role === 'validator' ? 'results are never validated, so never assimilated' : 'validated results are never handed to tsmw'} (run tsmw-setup init)`,
        });
      } else if (enabled.length === 0) {
        findings.push({ severity: 'error', code: 'daemon-disabled', app, message: `the ${role} for app ${app} is disabled in config.xml (${ofRole[0]!.cmd})` });
      }
    }
    const core = config.daemons.filter((daemon) => daemon.program === 'feeder' || daemon.program === 'transitioner');
    for (const daemon of [...core, ...appDaemons]) {
      const running = daemon.disabled ? false : await daemonRunning(context, daemon);
      daemonStatuses.push({ cmd: daemon.cmd, role: daemon.role === 'other' ? daemon.program : daemon.role, disabled: daemon.disabled, running });
      if (!daemon.disabled && running === false) {
        findings.push({ severity: 'error', code: 'daemon-not-running', app, message: `${daemon.program} is not running (${daemon.cmd}): run bin/start in ${layout.projectHome}` });
      }
    }

    // App versions: one per platform, each carrying a task module the manifest knows.
    const versionStatuses: AppVersionStatus[] = [];
    const appDirectory = join(layout.projectHome, 'apps', app);
    const platformsWithVersion = new Set<string>();
    for (const versionName of await entries(appDirectory)) {
      const versionNum = parseVersionDirectory(versionName);
      if (versionNum === undefined) continue;
      const record = manifest?.versions.find((version) => version.versionNum === versionNum);
      const platforms: string[] = [];
      let moduleHash: string | undefined;
      for (const platform of await entries(join(appDirectory, versionName))) {
        const directory = join(appDirectory, versionName, platform);
        if (!(await stat(directory)).isDirectory()) continue;
        const files = await entries(directory);
        if (!files.includes('version.xml')) {
          findings.push({ severity: 'error', code: 'app-version-incomplete', app, message: `apps/${app}/${versionName}/${platform} has no version.xml: update_versions cannot publish it (run tsmw-setup deploy)` });
          continue;
        }
        platforms.push(platform);
        platformsWithVersion.add(platform);
        const tasksFile = files.find((name) => /^tsmw_tasks_[0-9a-f]{16}\.mjs$/.test(name));
        if (tasksFile === undefined) continue;
        const hash = hashTaskModule(await readFile(join(directory, tasksFile))); // core's one module hash
        moduleHash = hash;
        if (record === undefined || record.moduleHash !== hash) {
          findings.push({
            severity: 'error',
            code: 'unknown-module-hash',
            app,
            message: `apps/${app}/${versionName}/${platform} carries task module ${hash.slice(0, 16)}…, which tsmw/apps/${app}.json does not list for version ${versionName}: a master cannot use it (run tsmw-setup deploy)`,
          });
        }
      }
      versionStatuses.push({ versionNum, version: versionName, platforms, moduleHash, inManifest: record !== undefined });
    }
    for (const record of manifest?.versions ?? []) {
      for (const platform of record.platforms) {
        if (!(await exists(join(layout.appVersionDirectory(app, record.versionNum, platform), 'version.xml')))) {
          findings.push({ severity: 'error', code: 'app-version-incomplete', app, message: `tsmw/apps/${app}.json lists version ${formatVersionNum(record.versionNum)} for ${platform}, but apps/${app}/${formatVersionNum(record.versionNum)}/${platform}/version.xml is missing` });
        }
      }
    }
    for (const platform of tsmwPlatforms) {
      if (!platformsWithVersion.has(platform)) {
        findings.push({ severity: 'warning', code: 'no-app-version', app, message: `no app version of ${app} for ${platform}: its volunteers get no work (tsmw-setup deploy --platforms ${platform})` });
      }
    }

    // tsmw's programs and templates.
    const needed = [tsmwProgramNames.assimilator, ...(appDaemons.some((daemon) => daemon.program === 'script_validator') ? [tsmwProgramNames.validatorInit, tsmwProgramNames.validatorCompare] : [])];
    for (const name of needed) {
      if (!(await exists(layout.binPath(name), constants.X_OK))) findings.push({ severity: 'error', code: 'program-missing', app, message: `bin/${name} is missing or not executable: the daemons cannot run it (run tsmw-setup init)` });
    }
    for (const template of [layout.inputTemplateName(app), layout.outputTemplateName(app)]) {
      if (!(await exists(join(layout.projectHome, template)))) findings.push({ severity: 'error', code: 'template-missing', app, message: `${template} is missing: the transport cannot create workunits (run tsmw-setup init)` });
    }
    appStatuses.push({ app, inProjectXml, daemons: daemonStatuses, versions: versionStatuses });
  }

  // Results waiting in a batch's inbox: the assimilator delivered them, no master collected them.
  for (const batch of await entries(layout.batchesDirectory)) {
    const waiting = (await entries(join(layout.batchesDirectory, batch, 'inbox'))).length;
    if (waiting > 0) findings.push({ severity: 'warning', code: 'results-waiting', message: `${waiting} result${waiting === 1 ? '' : 's'} wait${waiting === 1 ? 's' : ''} in tsmw/batches/${batch}/inbox: run the master of batch ${batch} to collect them` });
  }
  return { projectHome: layout.projectHome, host: { config: config.host, here }, apps: appStatuses, findings, ok: !findings.some((finding) => finding.severity === 'error') };
}
