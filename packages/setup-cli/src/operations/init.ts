import { join } from 'node:path';
import { tsmwPlatforms, type TsmwPlatform } from '@tsmw/transport-boinc';
import { SetupUsageError } from '../errors/setup-usage-error.js';
import { defaultCacheDirectory } from '../app-version/node-cache.js';
import { createChangePlan, planWrite, sha256Bytes } from '../plan/change-plan.js';
import { freeBackupPath } from '../plan/apply-plan.js';
import { reconcileTsmwDaemons, tsmwDaemonSpecs } from '../project-files/config-xml.js';
import { addProjectApp, findProjectApp } from '../project-files/project-xml.js';
import { formatSetupState, readSetupState, type EditedFileRecord, type SetupState } from '../setup-state.js';
import type { ProgressReporter } from '../progress.js';
import { planPrograms, planTemplates } from './project-programs.js';
import { prepareAppVersion, type NodeMode } from './prepare-app-version.js';
import { finishPlan, hostWarning, openProject, planCommand, planPendingCommands, withSetupLock, type ProjectCommandOptions } from './project-context.js';
import type { SetupReport } from './setup-report.js';

export interface InitOptions extends ProjectCommandOptions {
  /** The task module file (TypeScript or JavaScript). */
  readonly tasks: string;
  /** BOINC platform names; default all four tsmw builds for. */
  readonly platforms?: readonly string[];
  /** `bundled` (default): ship Node.js in the app version; `host`: use the volunteer's. */
  readonly node?: NodeMode;
  /** Results that must agree before one is valid (default 1). */
  readonly minQuorum?: number;
  /** Results created per workunit (default: the quorum). */
  readonly targetNresults?: number;
  /** Where Node.js downloads are kept; default `defaultCacheDirectory()`. */
  readonly cacheDirectory?: string;
  /** The npm registry to download Node.js from; default the configured or public one. */
  readonly registry?: string;
  readonly progress?: ProgressReporter;
}

export function checkPlatforms(platforms: readonly string[] | undefined): TsmwPlatform[] {
  if (platforms === undefined || platforms.length === 0) return [...tsmwPlatforms];
  const unknown = platforms.filter((platform) => !(tsmwPlatforms as readonly string[]).includes(platform));
  if (unknown.length > 0) throw new SetupUsageError(`unknown platform ${unknown.map((name) => JSON.stringify(name)).join(', ')}: tsmw builds for ${tsmwPlatforms.join(', ')}`);
  return [...new Set(platforms as TsmwPlatform[])];
}

function checkCount(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new SetupUsageError(`${name} must be a whole number >= 1, not ${value}`);
  return value;
}

function editedRecord(previous: EditedFileRecord | undefined, original: string, written: string, backup: string): EditedFileRecord {
  return previous === undefined ? { original: sha256Bytes(new TextEncoder().encode(original)), written: sha256Bytes(new TextEncoder().encode(written)), backup } : { ...previous, written: sha256Bytes(new TextEncoder().encode(written)) };
}

/**
 * `tsmw-setup init`: everything a BOINC project needs to run an app's tsmw tasks, converging on
 * it: daemons in config.xml, the app in project.xml (then `bin/xadd`), templates, tsmw's
 * programs in `bin/`, an app version per platform (then `bin/update_versions --noconfirm`), and
 * `bin/stop` + `bin/start` when the daemons changed. What is already right is left alone: a
 * second run with the same arguments changes no byte and runs no command.
 */
export async function runInit(options: InitOptions): Promise<SetupReport> {
  const platforms = checkPlatforms(options.platforms);
  const node = options.node ?? 'bundled';
  if (node !== 'bundled' && node !== 'host') throw new SetupUsageError(`--node must be "bundled" or "host", not ${JSON.stringify(node)}`);
  if (node === 'host' && platforms.includes('windows_x86_64')) {
    throw new SetupUsageError('--node host cannot serve windows_x86_64: a BOINC client on Windows cannot start a batch-file launcher, so the Windows app version must ship Node.js (--node bundled) or be left out of --platforms');
  }
  const minQuorum = checkCount('--min-quorum', options.minQuorum, 1);
  const targetNresults = checkCount('--target-nresults', options.targetNresults, minQuorum);
  if (targetNresults < minQuorum) throw new SetupUsageError(`--target-nresults (${targetNresults}) must be at least --min-quorum (${minQuorum})`);
  const cacheDirectory = options.cacheDirectory ?? defaultCacheDirectory();
  const dryRun = options.dryRun === true;
  return withSetupLock(options.projectHome, 'init', dryRun, async () => {
    const context = await openProject(options.projectHome, options.app);
    const { layout, paths, config, projectXml } = context;
    const plan = createChangePlan(layout.projectHome);
    const warning = hostWarning(config);
    if (warning !== undefined) plan.warnings.push(warning);
    const previous = await readSetupState(paths, options.app);

    // 1. config.xml: tsmw's validator and assimilator for the app.
    const configAfter = reconcileTsmwDaemons(config, options.app, tsmwDaemonSpecs(options.app, minQuorum));
    let configRecord = previous?.files['config.xml'];
    if (configAfter !== context.configText) {
      const backupPath = await freeBackupPath(paths.backups, 'config.xml');
      await planWrite(plan, layout.configPath, configAfter, { backupPath, mode: 0o644 });
      configRecord = editedRecord(configRecord, context.configText, configAfter, backupPath.slice(layout.projectHome.length + 1));
      planCommand(plan, 'stop', 'the daemons in config.xml changed');
      planCommand(plan, 'start', 'the daemons in config.xml changed');
    }

    // 2. project.xml: the app, then bin/xadd.
    let addedProjectApp = previous?.addedProjectApp ?? false;
    let projectRecord = previous?.files['project.xml'];
    if (findProjectApp(projectXml, options.app) === undefined) {
      const projectAfter = addProjectApp(projectXml, options.app, `${options.app} (tsmw)`);
      const backupPath = await freeBackupPath(paths.backups, 'project.xml');
      await planWrite(plan, layout.projectXmlPath, projectAfter, { backupPath, mode: 0o644 });
      projectRecord = editedRecord(projectRecord, context.projectText, projectAfter, backupPath.slice(layout.projectHome.length + 1));
      addedProjectApp = true;
      planCommand(plan, 'xadd', `add app ${options.app} to the database`);
    }

    // 3. Templates and 4. tsmw's programs in bin/.
    await planTemplates(plan, layout, options.app);
    if (targetNresults !== minQuorum) plan.notes.push(`create workunits with targetNresults ${targetNresults} and minQuorum ${minQuorum} (transport job options): BOINC takes them per workunit, not from the project`);
    await planPrograms(plan, layout);

    // 5. The app version.
    const appVersion = await prepareAppVersion(context, plan, {
      app: options.app,
      tasks: options.tasks,
      platforms,
      node,
      cacheDirectory,
      dryRun,
      ...(options.registry === undefined ? {} : { registry: options.registry }),
      ...(options.progress === undefined ? {} : { progress: options.progress }),
    });

    // 6. What tsmw-setup added, for `remove`.
    const state: SetupState = {
      format: 1,
      app: options.app,
      addedProjectApp,
      files: { ...(configRecord === undefined ? {} : { 'config.xml': configRecord }), ...(projectRecord === undefined ? {} : { 'project.xml': projectRecord }) },
    };
    await planWrite(plan, paths.state(options.app), formatSetupState(state));
    planPendingCommands(plan, context.pending);
    if (!plan.commands.some((command) => command.step === 'start') && plan.writes.some((write) => write.path.startsWith(join(layout.projectHome, 'bin')))) {
      plan.notes.push('tsmw programs in bin/ changed; the daemons run them afresh for each result, no restart needed');
    }
    return finishPlan('init', context, plan, { ...options, cacheDirectory }, appVersion);
  });
}
