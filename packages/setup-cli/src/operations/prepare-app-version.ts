import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { runtimeBundlePath } from '@tsmw/client-runtime';
import {
  bundleTaskModule,
  formatAppManifest,
  formatVersionNum,
  listBundleTasks,
  readAppManifest,
  TaskModuleBundleError,
  type NodeProvision,
  type TsmwAppManifest,
  type TsmwAppVersionRecord,
  type TsmwPlatform,
} from '@tsmw/transport-boinc';
import { NodeDownloadError } from '../errors/node-download-error.js';
import { SetupUsageError } from '../errors/setup-usage-error.js';
import { appVersionFiles, planAppVersion, versionDirectoryFits, type AppVersionFile, type ShippedNode } from '../app-version/app-version-files.js';
import { fetchNode, findCachedNode } from '../app-version/node-cache.js';
import { defaultRegistry, hostNodeRelease, nodeReleases, type NodeRelease } from '../app-version/node-releases.js';
import { windowsLauncherSource } from '../app-version/launchers.js';
import { buildSingleExecutable } from '../app-version/single-executable.js';
import { planWrite, sha256Bytes, type ChangePlan } from '../plan/change-plan.js';
import { createWriteGuard } from '../plan/write-guard.js';
import { silentProgress, type ProgressReporter } from '../progress.js';
import { planCommand, type ProjectContext } from './project-context.js';
import type { AppVersionReport } from './setup-report.js';

export type NodeMode = 'bundled' | 'host';

export interface AppVersionOptions {
  readonly app: string;
  /** The task module (TypeScript or JavaScript); bundled with its imports. */
  readonly tasks: string;
  readonly platforms: readonly TsmwPlatform[];
  readonly node: NodeMode;
  readonly cacheDirectory: string;
  readonly registry?: string;
  readonly dryRun: boolean;
  readonly progress?: ProgressReporter;
  /** The clock of the manifest record's `createdAt` (tests fix it). */
  readonly now?: () => Date;
}

function nodeFileName(release: NodeRelease): string {
  return `tsmw_node-v${release.version}-${release.packageName.replace(/^node-/, '')}`;
}

function nodeProvision(node: NodeMode, platforms: readonly TsmwPlatform[]): NodeProvision {
  if (node === 'host') return { mode: 'host' };
  const versions = new Map<string, TsmwPlatform[]>();
  for (const platform of platforms) {
    const version = nodeReleases[platform].version;
    versions.set(version, [...(versions.get(version) ?? []), platform]);
  }
  const sorted = [...versions.entries()].sort((a, b) => b[1].length - a[1].length);
  const [main] = sorted[0]!;
  const others = sorted.slice(1).map(([version, where]) => `${where.join(', ')}: ${version}`);
  return { mode: 'bundled', version: others.length === 0 ? main : `${main} (${others.join('; ')})` };
}

function sameProvision(a: NodeProvision, b: NodeProvision): boolean {
  return a.mode === b.mode && (a.mode === 'host' || (b.mode === 'bundled' && a.version === b.version));
}

async function readRuntime(): Promise<{ bytes: Uint8Array; version: string }> {
  const path = runtimeBundlePath();
  const bytes = await readFile(path);
  const manifest = JSON.parse(await readFile(join(dirname(path), '..', 'package.json'), 'utf8')) as { version: string };
  return { bytes, version: manifest.version };
}

/** The Node.js binaries to ship, downloaded (and for Windows made a launcher) unless this is a dry run. */
async function prepareNodes(options: AppVersionOptions): Promise<{ nodes: Map<TsmwPlatform, ShippedNode>; notes: string[] }> {
  const nodes = new Map<TsmwPlatform, ShippedNode>();
  const notes: string[] = [];
  if (options.node === 'host') return { nodes, notes };
  const progress = options.progress ?? silentProgress;
  const registry = options.registry ?? defaultRegistry();
  const guard = await createWriteGuard([options.cacheDirectory]);
  const fetchRelease = async (release: NodeRelease) => {
    const cached = await findCachedNode(options.cacheDirectory, release);
    if (cached !== undefined || options.dryRun) return cached;
    const step = progress.step(`downloading ${release.packageName}@${release.version}`);
    try {
      return await fetchNode(release, { cacheDirectory: options.cacheDirectory, registry, guard, onProgress: (received, total) => step.update(received, total) });
    } finally {
      step.end();
    }
  };
  for (const platform of options.platforms) {
    const release = nodeReleases[platform];
    const origin = `${release.packageName}@${release.version}`;
    if (release.os === 'win32') {
      const scriptHash = sha256Bytes(new TextEncoder().encode(windowsLauncherSource)).slice(0, 12);
      const fileName = `${nodeFileName(release)}-sea-${scriptHash}.exe`;
      const target = await fetchRelease(release);
      const builderRelease = hostNodeRelease();
      if (builderRelease === undefined || builderRelease.version !== release.version) {
        throw new SetupUsageError(`the Windows app version embeds its launcher into node.exe, which needs Node.js ${release.version} for this machine (${process.platform}-${process.arch}); tsmw-setup has it for Linux x64 and arm64. Run it on such a host, or leave windows_x86_64 out of --platforms`);
      }
      const builder = await fetchRelease(builderRelease);
      if (target === undefined || builder === undefined) {
        notes.push(`would download ${origin}${builder === undefined && builderRelease !== release ? ` and ${builderRelease.packageName}@${builderRelease.version}` : ''} into ${options.cacheDirectory} and embed the launcher into node.exe`);
        nodes.set(platform, { path: '', size: 0, sha256: '', fileName, isLauncher: true, origin: `${origin} with the tsmw launcher embedded` });
        continue;
      }
      const step = progress.step(`embedding the launcher into ${origin}`);
      try {
        const built = await buildSingleExecutable(target, builder, windowsLauncherSource, { cacheDirectory: options.cacheDirectory, guard });
        nodes.set(platform, { path: built.path, size: built.size, sha256: built.sha256, fileName, isLauncher: true, origin: `${origin} with the tsmw launcher embedded` });
      } finally {
        step.end();
      }
      continue;
    }
    const cached = await fetchRelease(release);
    if (cached === undefined) {
      notes.push(`would download ${origin} into ${options.cacheDirectory}`);
      nodes.set(platform, { path: '', size: 0, sha256: '', fileName: nodeFileName(release), isLauncher: false, origin });
      continue;
    }
    nodes.set(platform, { path: cached.path, size: cached.size, sha256: cached.sha256, fileName: nodeFileName(release), isLauncher: false, origin });
  }
  return { nodes, notes };
}

/** Bundles the task module and checks it exports tasks; a broken module is a usage error (exit 2). */
export async function bundleTasks(tasks: string, progress: ProgressReporter): Promise<{ bundle: Awaited<ReturnType<typeof bundleTaskModule>>; taskNames: string[] }> {
  const path = resolve(tasks);
  try {
    if (!(await stat(path)).isFile()) throw new SetupUsageError(`--tasks ${tasks} is not a file`);
  } catch (error) {
    if (SetupUsageError.isInstance(error)) throw error;
    throw new SetupUsageError(`--tasks ${tasks} does not exist`);
  }
  const step = progress.step(`bundling ${tasks}`);
  try {
    const bundle = await bundleTaskModule(path);
    const taskNames = await listBundleTasks(bundle, tasks);
    return { bundle, taskNames };
  } catch (error) {
    if (TaskModuleBundleError.isInstance(error)) throw new SetupUsageError(error.message, { cause: error });
    throw error;
  } finally {
    step.end();
  }
}

/**
 * Plans the app version for the task module: none when the newest version already carries
 * exactly these files (same module, runtime, Node.js, platforms), else the next version number,
 * its files per platform, the app manifest with the new record, and `bin/update_versions`.
 */
export async function prepareAppVersion(context: ProjectContext, plan: ChangePlan, options: AppVersionOptions): Promise<AppVersionReport> {
  const progress = options.progress ?? silentProgress;
  const { bundle, taskNames } = await bundleTasks(options.tasks, progress);
  const runtime = await readRuntime();
  const { nodes, notes } = await prepareNodes(options);
  plan.notes.push(...notes);
  const platforms = [...options.platforms].sort();
  const filesByPlatform = new Map<TsmwPlatform, AppVersionFile[]>(
    platforms.map((platform) => [platform, appVersionFiles({ platforms, node: options.node, bundle, runtime, shippedNodes: nodes }, platform)]),
  );
  const provision = nodeProvision(options.node, platforms);
  const manifest: TsmwAppManifest = (await readAppManifest(context.layout.projectHome, options.app)) ?? { format: 1, app: options.app, versions: [] };
  const latest = manifest.versions.at(-1);
  const matches =
    latest !== undefined &&
    latest.moduleHash === bundle.hash &&
    latest.runtimeVersion === runtime.version &&
    sameProvision(latest.node, provision) &&
    [...latest.platforms].sort().join(',') === platforms.join(',') &&
    (await versionDirectoryFits(context.layout, options.app, latest.versionNum, filesByPlatform)) === 'fits';
  let versionNum: number;
  let created: boolean;
  if (matches) {
    versionNum = latest.versionNum;
    created = false;
    // Complete the directory if files went missing; a published version's files never change.
    if (await planAppVersion(plan, context.layout, options.app, versionNum, filesByPlatform)) planCommand(plan, 'update_versions', `complete app version ${formatVersionNum(versionNum)}`);
  } else {
    versionNum = (latest?.versionNum ?? 99) + 1;
    for (;;) {
      const fits = await versionDirectoryFits(context.layout, options.app, versionNum, filesByPlatform);
      if (fits !== 'taken') break;
      versionNum += 1; // a directory of someone else's (or another module's) files: never touched
    }
    created = true;
    await planAppVersion(plan, context.layout, options.app, versionNum, filesByPlatform);
    const record: TsmwAppVersionRecord = {
      versionNum,
      moduleHash: bundle.hash,
      taskNames,
      platforms,
      node: provision,
      runtimeVersion: runtime.version,
      createdAt: (options.now?.() ?? new Date()).toISOString(),
    };
    await planWrite(plan, context.layout.appManifestPath(options.app), formatAppManifest({ ...manifest, versions: [...manifest.versions, record] }));
    planCommand(plan, 'update_versions', `publish app version ${formatVersionNum(versionNum)} of ${options.app}`);
  }
  if (options.node === 'bundled' && !options.dryRun) {
    for (const [platform, node] of nodes) if (node.path === '') throw new NodeDownloadError(`no Node.js binary for ${platform}`);
  }
  return {
    versionNum,
    version: formatVersionNum(versionNum),
    created,
    moduleHash: bundle.hash,
    taskNames,
    platforms,
    node: provision.mode === 'host' ? 'host' : `bundled ${provision.version}`,
  };
}
