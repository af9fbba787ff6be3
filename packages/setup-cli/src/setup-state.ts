import { join } from 'node:path';
import type { TsmwProjectLayout } from '@tsmw/transport-boinc';
import { ProjectFileError } from './errors/project-file-error.js';
import { readIfExists } from './plan/change-plan.js';

/** What tsmw-setup knows about a project file it edited for an app. */
export interface EditedFileRecord {
  /** sha256 of the file before tsmw first edited it for this app. */
  readonly original: string;
  /** sha256 of the file as tsmw last wrote it for this app. */
  readonly written: string;
  /** Project-relative path of the copy of the original. */
  readonly backup: string;
}

/** `tsmw/setup/<app>.json`: what tsmw-setup added for an app, so that `remove` takes out only that. */
export interface SetupState {
  readonly format: 1;
  readonly app: string;
  /** Whether tsmw-setup added the app to project.xml (else it was there and stays). */
  readonly addedProjectApp: boolean;
  readonly files: { readonly 'config.xml'?: EditedFileRecord; readonly 'project.xml'?: EditedFileRecord };
}

export interface SetupPaths {
  readonly directory: string;
  readonly lock: string;
  readonly backups: string;
  state(app: string): string;
  pending(app: string): string;
}

export function setupPaths(layout: TsmwProjectLayout): SetupPaths {
  const directory = join(layout.tsmwDirectory, 'setup');
  return {
    directory,
    lock: join(directory, 'lock'),
    backups: join(directory, 'backups'),
    state: (app) => join(directory, `${app}.json`),
    pending: (app) => join(directory, `${app}.pending.json`),
  };
}

export async function readSetupState(paths: SetupPaths, app: string): Promise<SetupState | undefined> {
  const bytes = await readIfExists(paths.state(app));
  if (bytes === undefined) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as SetupState;
    if (value.format !== 1 || value.app !== app || typeof value.addedProjectApp !== 'boolean' || typeof value.files !== 'object') throw new Error('unexpected shape');
    return value;
  } catch (error) {
    throw new ProjectFileError(`${paths.state(app)} is not a tsmw-setup state file (${(error as Error).message}); move it away and run again`);
  }
}

export function formatSetupState(state: SetupState): string {
  const files: Record<string, EditedFileRecord> = {};
  for (const name of ['config.xml', 'project.xml'] as const) {
    const record = state.files[name];
    if (record !== undefined) files[name] = { original: record.original, written: record.written, backup: record.backup };
  }
  return `${JSON.stringify({ format: 1, app: state.app, addedProjectApp: state.addedProjectApp, files }, null, 2)}\n`;
}
