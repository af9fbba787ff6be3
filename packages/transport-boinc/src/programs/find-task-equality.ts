import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_MAX_ENVELOPE_BYTES, decodeTaskEnvelope, indexTaskModule } from '@tsmw/core';
import { envelopeFileName, parseOutputFileName } from '../job-name.js';
import { dirHierPath } from '../on-server/dir-hier.js';
import { readProjectConfig } from '../on-server/project-config.js';
import { parseAppManifest } from '../project/app-manifest.js';
import { taskModuleFileName, tsmwProjectLayout } from '../project/tsmw-project-layout.js';

/** How two outputs of one task are compared. */
export type TaskEquality =
  /** With the task's own `equals` (defineTask's option), loaded from the deployed task module. */
  | { readonly kind: 'task'; readonly taskName: string; readonly equals: (a: unknown, b: unknown) => boolean }
  /** Structurally: the task defines no `equals`, or the outputs are not a tsmw job's (`reason` says which). */
  | { readonly kind: 'structural'; readonly reason: string }
  /** Not known now (the project's files cannot be read, the deployed module does not load): BOINC asks again later. */
  | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Finds how the outputs at `outputPath` (a result's output file, `upload/.../<job>_<n>_<i>`) are
 * compared: the output's name gives the job, the job's staged input envelope in `download/` gives
 * the task's name and module hash, the app manifests give the app version carrying that module,
 * and its bundled task module (`taskModuleFileName`, checked against the hash) gives the task's
 * `equals`, when it defines one. Loading the module runs it, as the volunteers' hosts do: it is
 * the project's own deployed code, never anything read from a result.
 */
export async function findTaskEquality(outputPath: string, projectHome: string | undefined): Promise<TaskEquality> {
  const output = parseOutputFileName(basename(outputPath));
  if (output === undefined) return { kind: 'structural', reason: `${basename(outputPath)} is not the output of a tsmw job` };
  if (projectHome === undefined) return { kind: 'structural', reason: 'no BOINC project found (give --project DIR, or set TSMW_PROJECT_HOME), so no task module to ask' };
  let taskName: string;
  let moduleHash: string;
  try {
    const config = await readProjectConfig(projectHome);
    const envelopePath = dirHierPath(config.downloadDirectory, envelopeFileName(output.jobName), config.fanout);
    const envelope = decodeTaskEnvelope(await readFile(envelopePath), { maxBytes: DEFAULT_MAX_ENVELOPE_BYTES });
    taskName = envelope.taskName;
    moduleHash = envelope.moduleHash;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'structural', reason: `the input of job ${output.jobName} is no longer staged, so its task is unknown` };
    return { kind: 'unknown', reason: `cannot read the input of job ${output.jobName}: ${(error as Error).message}` };
  }
  let modulePath: string | undefined;
  try {
    modulePath = await findTaskModule(projectHome, moduleHash);
  } catch (error) {
    return { kind: 'unknown', reason: `cannot look for task module ${moduleHash.slice(0, 12)}: ${(error as Error).message}` };
  }
  if (modulePath === undefined) return { kind: 'unknown', reason: `no deployed app version carries task module ${moduleHash.slice(0, 12)} (task ${taskName} of job ${output.jobName}): deploy it again with tsmw-setup deploy` };
  let definition;
  try {
    definition = indexTaskModule(await import(pathToFileURL(modulePath).href)).get(taskName);
  } catch (error) {
    return { kind: 'unknown', reason: `the task module ${modulePath} does not load: ${(error as Error).message}` };
  }
  if (definition === undefined) return { kind: 'structural', reason: `the task module ${basename(modulePath)} has no task ${taskName}` };
  const equals = definition.equals;
  if (typeof equals !== 'function') return { kind: 'structural', reason: `task ${taskName} defines no equals` };
  return { kind: 'task', taskName, equals: (a, b) => equals.call(definition, a as never, b as never) };
}

/** The bundled task module with this hash in an app version of the project, checked byte for byte against the hash. */
async function findTaskModule(projectHome: string, moduleHash: string): Promise<string | undefined> {
  const layout = tsmwProjectLayout(projectHome);
  let manifestNames: string[];
  try {
    manifestNames = (await readdir(layout.appsDirectory)).filter((name) => name.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  for (const name of manifestNames.sort()) {
    const app = name.slice(0, -'.json'.length);
    const manifest = parseAppManifest(await readFile(join(layout.appsDirectory, name), 'utf8'), app, join(layout.appsDirectory, name));
    for (const version of manifest.versions) {
      if (version.moduleHash !== moduleHash) continue;
      for (const platform of version.platforms) {
        const path = join(layout.appVersionDirectory(app, version.versionNum, platform), taskModuleFileName(moduleHash));
        let code: Buffer;
        try {
          code = await readFile(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        if (createHash('sha256').update(code).digest('hex') === moduleHash) return path;
      }
    }
  }
  return undefined;
}
