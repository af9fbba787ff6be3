import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '@tsmw/core';
import { assertAppName, tsmwProjectLayout, type TsmwProjectLayout } from '@tsmw/transport-boinc';
import { SetupUsageError } from '../errors/setup-usage-error.js';
import { applyPlan, readPendingSteps } from '../plan/apply-plan.js';
import type { ChangePlan, PendingStep, PlannedCommand } from '../plan/change-plan.js';
import { formatPlan, planSummary } from '../plan/format-plan.js';
import { withProjectLock } from '../plan/project-lock.js';
import { createWriteGuard } from '../plan/write-guard.js';
import { readConfigXml, type ConfigXml } from '../project-files/config-xml.js';
import { readProjectXml, type ProjectXml } from '../project-files/project-xml.js';
import { setupPaths, type SetupPaths } from '../setup-state.js';
import type { AppVersionReport, SetupReport } from './setup-report.js';

/** Options every command that changes a project takes. */
export interface ProjectCommandOptions {
  /** The BOINC project's home directory (with config.xml and project.xml). */
  readonly projectHome: string;
  readonly app: string;
  /** Print what would change; change nothing. */
  readonly dryRun?: boolean;
  /** Called before each step that may take a while (for a log line). */
  readonly onStep?: (description: string) => void;
}

export interface ProjectContext {
  readonly layout: TsmwProjectLayout;
  readonly paths: SetupPaths;
  readonly configText: string;
  readonly projectText: string;
  readonly config: ConfigXml;
  readonly projectXml: ProjectXml;
  readonly pending: readonly PendingStep[];
}

/** The short host name, as BOINC's `bin/start` compares it with config.xml's `<host>`. */
export function shortHostname(): string {
  return hostname().split('.')[0] ?? '';
}

/**
 * Checks the app name (when the command is about one app) and that `projectHome` is a BOINC
 * project; reads and checks both project files.
 */
export async function openProject(projectHome: string, app: string | undefined): Promise<ProjectContext> {
  try {
    if (app !== undefined) assertAppName(app);
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) throw new SetupUsageError(error.message);
    throw error;
  }
  const home = resolve(projectHome);
  try {
    if (!(await stat(home)).isDirectory()) throw new SetupUsageError(`--project ${projectHome} is not a directory`);
  } catch (error) {
    if (SetupUsageError.isInstance(error)) throw error;
    throw new SetupUsageError(`--project ${projectHome} does not exist`);
  }
  const layout = tsmwProjectLayout(home);
  const read = async (path: string, name: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SetupUsageError(`${home} is not a BOINC project directory: it has no ${name}`);
      throw error;
    }
  };
  const configText = await read(layout.configPath, 'config.xml');
  const projectText = await read(layout.projectXmlPath, 'project.xml');
  const config = readConfigXml(configText);
  const projectXml = readProjectXml(projectText);
  const paths = setupPaths(layout);
  return { layout, paths, configText, projectText, config, projectXml, pending: app === undefined ? [] : await readPendingSteps(paths.pending(app)) };
}

/** The warning `init` and `status` give when `bin/start` would start no daemon on this host. */
export function hostWarning(config: ConfigXml): string | undefined {
  const here = shortHostname();
  if (config.host === undefined) return `config.xml has no <config><host>: bin/start starts daemons only on the host named there (this host is ${here})`;
  if (config.host !== here) return `config.xml's <host> is ${JSON.stringify(config.host)} but this host is ${JSON.stringify(here)}: bin/start starts no daemon here, so no result would be validated or assimilated. Set <host>${here}</host> if this is the project's server`;
  return undefined;
}

const commandOrder: Record<PendingStep, number> = { xadd: 0, update_versions: 1, stop: 2, start: 3 };

/** Adds a command unless the plan has it; keeps BOINC's order (xadd, update_versions, stop, start). */
export function planCommand(plan: ChangePlan, step: PendingStep, reason: string): void {
  if (plan.commands.some((command) => command.step === step)) return;
  const command: PlannedCommand =
    step === 'xadd'
      ? { step, program: 'bin/xadd', args: [], reason }
      : step === 'update_versions'
        ? { step, program: 'bin/update_versions', args: ['--noconfirm'], reason }
        : { step, program: `bin/${step}`, args: [], reason };
  plan.commands.push(command);
  plan.commands.sort((a, b) => commandOrder[a.step] - commandOrder[b.step]);
}

/** Re-plans the commands a previous run left pending. */
export function planPendingCommands(plan: ChangePlan, pending: readonly PendingStep[]): void {
  for (const step of pending) planCommand(plan, step, 'left pending by an earlier run that did not finish');
}

/**
 * Ends a command: with `dryRun`, the report of the plan; otherwise the plan carried out under the
 * project's lock (which is taken before planning by `withSetupLock`).
 */
export async function finishPlan(
  command: SetupReport['command'],
  context: ProjectContext,
  plan: ChangePlan,
  options: ProjectCommandOptions & { readonly cacheDirectory?: string },
  appVersion?: AppVersionReport,
): Promise<SetupReport> {
  const summary = planSummary(plan);
  const base = {
    command,
    projectHome: context.layout.projectHome,
    app: options.app,
    dryRun: options.dryRun === true,
    changed: summary.changes.length > 0 || summary.commands.length > 0,
    diff: formatPlan(plan),
    changes: summary.changes,
    commands: summary.commands,
    warnings: plan.warnings,
    notes: plan.notes,
    ...(appVersion === undefined ? {} : { appVersion }),
  };
  if (options.dryRun === true) return { ...base, commandsRun: [], backups: [] };
  const roots = [context.layout.projectHome, ...(options.cacheDirectory === undefined ? [] : [options.cacheDirectory])];
  const guard = await createWriteGuard(roots);
  const applied = await applyPlan(plan, { guard, pendingPath: context.paths.pending(options.app), ...(options.onStep === undefined ? {} : { onStep: options.onStep }) });
  return { ...base, commandsRun: applied.commands.map((result) => [result.program, ...result.args].join(' ')), backups: applied.backups };
}

/** Runs `body` under the project's lock, except for a dry run (which writes nothing). */
export async function withSetupLock<T>(projectHome: string, command: string, dryRun: boolean, body: () => Promise<T>): Promise<T> {
  const home = resolve(projectHome);
  try {
    await stat(resolve(home, 'config.xml'));
  } catch {
    throw new SetupUsageError(`${home} is not a BOINC project directory: it has no config.xml`);
  }
  if (dryRun) return body();
  const paths = setupPaths(tsmwProjectLayout(resolve(projectHome)));
  const guard = await createWriteGuard([resolve(projectHome)]);
  await guard.check(paths.lock);
  return withProjectLock(paths.lock, `tsmw-setup ${command}`, body);
}

