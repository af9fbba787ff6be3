// @tsmw/setup-cli: `tsmw-setup` and the operations behind it, for scripts and tests.
export { runInit, checkPlatforms, type InitOptions } from './operations/init.js';
export { runDeploy, type DeployOptions } from './operations/deploy.js';
export { runRemove } from './operations/remove.js';
export { runStatus, type StatusOptions, type StatusReport, type StatusFinding, type AppStatus, type DaemonStatus, type AppVersionStatus } from './operations/status.js';
export type { ProjectCommandOptions } from './operations/project-context.js';
export type { SetupReport, AppVersionReport } from './operations/setup-report.js';
export type { NodeMode } from './operations/prepare-app-version.js';

// Project files, byte-preserving
export { readConfigXml, reconcileTsmwDaemons, tsmwDaemonSpecs, daemonsForApp, type ConfigXml, type DaemonEntry, type DaemonSpec } from './project-files/config-xml.js';
export { readProjectXml, addProjectApp, removeProjectApp, findProjectApp, type ProjectXml } from './project-files/project-xml.js';

// App versions
export { nodeReleases, defaultRegistry, type NodeRelease } from './app-version/node-releases.js';
export { defaultCacheDirectory, fetchNode, findCachedNode, type CachedNode } from './app-version/node-cache.js';
export { bundledNodeLauncher, hostNodeLauncher, windowsLauncherSource, runtimeOpenName, tasksOpenName } from './app-version/launchers.js';
export { buildSingleExecutable } from './app-version/single-executable.js';
export { formatVersionXml, tsmwApiVersion, type VersionFile } from './app-version/version-xml.js';
export { createWriteGuard, type WriteGuard } from './plan/write-guard.js';

// Errors
export { SetupUsageError } from './errors/setup-usage-error.js';
export { ProjectFileError } from './errors/project-file-error.js';
export { ProjectCommandError } from './errors/project-command-error.js';
export { ProjectLockError } from './errors/project-lock-error.js';
export { PathEscapeError } from './errors/path-escape-error.js';
export { NodeDownloadError } from './errors/node-download-error.js';
