import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChangePlan, PendingStep } from './change-plan.js';
import { projectRelative } from './change-plan.js';
import { copyFileAtomic, writeFileAtomic } from './atomic-write.js';
import { runProjectCommand, type ProjectCommandResult } from './run-project-command.js';
import type { WriteGuard } from './write-guard.js';

export interface ApplyPlanOptions {
  readonly guard: WriteGuard;
  /** A file that lists the commands still to run while they are pending (gone when all succeeded). */
  readonly pendingPath: string;
  /** Called before each step that may take a while. */
  readonly onStep?: (description: string) => void;
}

export interface AppliedPlan {
  readonly written: string[];
  readonly deleted: string[];
  /** Backups made, project-relative. */
  readonly backups: string[];
  readonly commands: ProjectCommandResult[];
}

/** The steps a previous run left pending (its commands failed or it was killed). */
export async function readPendingSteps(pendingPath: string): Promise<PendingStep[]> {
  try {
    const value = JSON.parse(await readFile(pendingPath, 'utf8')) as { pending?: unknown };
    return Array.isArray(value.pending) ? value.pending.filter((step): step is PendingStep => ['xadd', 'update_versions', 'stop', 'start'].includes(step as string)) : [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    return ['xadd', 'update_versions', 'stop', 'start'];
  }
}

async function ensureDirectory(guard: WriteGuard, directory: string): Promise<void> {
  await guard.check(directory);
  await mkdir(directory, { recursive: true });
}

/** A backup name for `fileName` in `directory` that does not exist yet: `config.xml.20261126T103012Z`. */
export async function freeBackupPath(directory: string, fileName: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let index = 0; ; index += 1) {
    const candidate = join(directory, `${fileName}.${stamp}${index === 0 ? '' : `.${index}`}`);
    try {
      await stat(candidate);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
      throw error;
    }
  }
}

async function writePending(guard: WriteGuard, pendingPath: string, steps: readonly PendingStep[]): Promise<void> {
  if (steps.length === 0) {
    await rm(pendingPath, { force: true });
    return;
  }
  await ensureDirectory(guard, dirname(pendingPath));
  await guard.check(pendingPath);
  await writeFileAtomic(pendingPath, new TextEncoder().encode(`${JSON.stringify({ pending: steps })}\n`), 0o644);
}

/**
 * Carries out a plan: each write atomically (after a backup when asked), each deletion, then the
 * commands in order, each recorded as pending until it succeeds, so that a failed or killed run
 * is finished by the next one. Every path is checked by the guard first.
 */
export async function applyPlan(plan: ChangePlan, options: ApplyPlanOptions): Promise<AppliedPlan> {
  const { guard } = options;
  const applied: AppliedPlan = { written: [], deleted: [], backups: [], commands: [] };
  // Check every path before changing anything.
  for (const write of plan.writes) await guard.check(write.path);
  for (const deletion of plan.deletes) await guard.check(deletion.path);
  for (const write of plan.writes) {
    await ensureDirectory(guard, dirname(write.path));
    if (write.backupPath !== undefined && write.exists) {
      await ensureDirectory(guard, dirname(write.backupPath));
      await guard.check(write.backupPath);
      await copyFile(write.path, write.backupPath, constants.COPYFILE_EXCL);
      applied.backups.push(projectRelative(plan, write.backupPath));
    }
    if (write.content.kind === 'bytes') await writeFileAtomic(write.path, write.content.bytes, write.mode);
    else {
      options.onStep?.(`copying ${write.content.origin} to ${projectRelative(plan, write.path)}`);
      await copyFileAtomic(write.content.source, write.path, write.mode);
    }
    applied.written.push(projectRelative(plan, write.path));
  }
  for (const deletion of plan.deletes) {
    await rm(deletion.path, { force: true });
    applied.deleted.push(projectRelative(plan, deletion.path));
  }
  for (const directory of plan.emptyDirectories) {
    await guard.check(directory);
    try {
      await rmdir(directory);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  }
  const remaining = plan.commands.map((command) => command.step);
  await writePending(guard, options.pendingPath, remaining);
  for (const command of plan.commands) {
    options.onStep?.(`running ${[command.program, ...command.args].join(' ')}`);
    applied.commands.push(await runProjectCommand(plan.projectHome, command.program, command.args));
    remaining.shift();
    await writePending(guard, options.pendingPath, remaining);
  }
  return applied;
}
