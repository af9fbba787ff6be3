import { readAppManifest } from '@tsmw/transport-boinc';
import { ProjectFileError } from '../errors/project-file-error.js';
import { defaultCacheDirectory } from '../app-version/node-cache.js';
import { createChangePlan } from '../plan/change-plan.js';
import type { ProgressReporter } from '../progress.js';
import { readSetupState } from '../setup-state.js';
import { checkPlatforms } from './init.js';
import { prepareAppVersion, type NodeMode } from './prepare-app-version.js';
import { finishPlan, openProject, planPendingCommands, withSetupLock, type ProjectCommandOptions } from './project-context.js';
import type { SetupReport } from './setup-report.js';

export interface DeployOptions extends ProjectCommandOptions {
  readonly tasks: string;
  /** Default: the platforms of the app's newest version. */
  readonly platforms?: readonly string[];
  /** Default: as the app's newest version. */
  readonly node?: NodeMode;
  readonly cacheDirectory?: string;
  readonly registry?: string;
  readonly progress?: ProgressReporter;
}

/**
 * `tsmw-setup deploy`: a new app version for a changed task module (the version number goes up;
 * older versions stay, so workunits created for them still run). An unchanged module changes
 * nothing. Needs an app set up by `init`.
 */
export async function runDeploy(options: DeployOptions): Promise<SetupReport> {
  const dryRun = options.dryRun === true;
  const cacheDirectory = options.cacheDirectory ?? defaultCacheDirectory();
  return withSetupLock(options.projectHome, 'deploy', dryRun, async () => {
    const context = await openProject(options.projectHome, options.app);
    const state = await readSetupState(context.paths, options.app);
    const manifest = await readAppManifest(context.layout.projectHome, options.app);
    const latest = manifest?.versions.at(-1);
    if (state === undefined || latest === undefined) {
      throw new ProjectFileError(`app ${options.app} was not set up by tsmw-setup in ${context.layout.projectHome}: run tsmw-setup init first`);
    }
    const platforms = checkPlatforms(options.platforms ?? latest.platforms);
    const node = options.node ?? latest.node.mode;
    const plan = createChangePlan(context.layout.projectHome);
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
    planPendingCommands(plan, context.pending);
    return finishPlan('deploy', context, plan, { ...options, cacheDirectory }, appVersion);
  });
}
