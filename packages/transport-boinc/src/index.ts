// @tsmw/transport-boinc: runs tsmw tasks on a BOINC project.
export { dirHierDirectory, dirHierPath, DEFAULT_UPLOAD_DOWNLOAD_FANOUT } from './on-server/dir-hier.js';

// The layout and records tsmw keeps in a BOINC project, shared with tsmw-setup.
export {
  tsmwProjectLayout,
  tsmwProgramNames,
  tsmwPlatforms,
  appNamePattern,
  assertAppName,
  formatVersionNum,
  parseVersionDirectory,
  type TsmwProjectLayout,
  type TsmwProgram,
  type TsmwPlatform,
} from './project/tsmw-project-layout.js';
export {
  readAppManifest,
  parseAppManifest,
  writeAppManifest,
  formatAppManifest,
  findAppVersionForModule,
  type TsmwAppManifest,
  type TsmwAppVersionRecord,
  type NodeProvision,
} from './project/app-manifest.js';
export { bundleTaskModule, listBundleTasks, taskModuleBundleTarget, type TaskModuleBundle } from './project/bundle-task-module.js';

// Errors
export { BoincProjectError } from './errors/boinc-project-error.js';
export { TaskModuleBundleError } from './errors/task-module-bundle-error.js';
