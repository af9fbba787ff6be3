import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatVersionNum, readAppManifest } from '@tsmw/transport-boinc';
import { createChangePlan, planDelete, planWrite, readIfExists, sha256Bytes, type ChangePlan } from '../plan/change-plan.js';
import { freeBackupPath } from '../plan/apply-plan.js';
import { reconcileTsmwDaemons } from '../project-files/config-xml.js';
import { removeProjectApp } from '../project-files/project-xml.js';
import { readSetupState, type EditedFileRecord } from '../setup-state.js';
import { planProgramRemoval } from './project-programs.js';
import { finishPlan, openProject, planCommand, withSetupLock, type ProjectCommandOptions, type ProjectContext } from './project-context.js';
import type { SetupReport } from './setup-report.js';

/**
 * The file as it should be without tsmw's edit: the original bytes from the backup when the
 * file is exactly as tsmw last wrote it (nothing else changed since), else `surgical` (tsmw's
 * elements taken out, every other byte kept).
 */
async function withoutTsmw(context: ProjectContext, current: string, record: EditedFileRecord | undefined, surgical: () => string): Promise<string> {
  if (record !== undefined && sha256Bytes(new TextEncoder().encode(current)) === record.written) {
    const original = await readIfExists(join(context.layout.projectHome, record.backup));
    if (original !== undefined && sha256Bytes(original) === record.original) return new TextDecoder().decode(original);
  }
  return surgical();
}

async function listFiles(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch {
    return [];
  }
}

async function planAppVersionRemoval(plan: ChangePlan, context: ProjectContext, app: string): Promise<void> {
  const manifest = await readAppManifest(context.layout.projectHome, app);
  for (const version of manifest?.versions ?? []) {
    for (const platform of version.platforms) {
      const directory = context.layout.appVersionDirectory(app, version.versionNum, platform);
      for (const name of await listFiles(directory)) {
        if (name === 'version.xml' || name.startsWith('tsmw_')) await planDelete(plan, join(directory, name), { text: name === 'version.xml' });
      }
      plan.emptyDirectories.push(directory);
    }
    plan.emptyDirectories.push(join(context.layout.projectHome, 'apps', app, formatVersionNum(version.versionNum)));
  }
  plan.emptyDirectories.push(join(context.layout.projectHome, 'apps', app));
  await planDelete(plan, context.layout.appManifestPath(app), { text: true });
  plan.emptyDirectories.push(context.layout.appsDirectory);
}

/**
 * `tsmw-setup remove`: takes out only what tsmw-setup added for the app: its daemons (config.xml
 * back to its original bytes when nothing else changed it), the app in project.xml if tsmw
 * added it, the templates, the app versions' files, the manifest, and tsmw's programs when no
 * other tsmw app is left. BOINC's database keeps the app and its versions (BOINC has no tool to
 * delete them) and `download/` keeps their staged files; batches are never touched.
 */
export async function runRemove(options: ProjectCommandOptions): Promise<SetupReport> {
  const dryRun = options.dryRun === true;
  return withSetupLock(options.projectHome, 'remove', dryRun, async () => {
    const context = await openProject(options.projectHome, options.app);
    const { layout, paths } = context;
    const { app } = options;
    const plan = createChangePlan(layout.projectHome);
    const state = await readSetupState(paths, app);

    const configAfter = await withoutTsmw(context, context.configText, state?.files['config.xml'], () => reconcileTsmwDaemons(context.config, app, []));
    if (configAfter !== context.configText) {
      await planWrite(plan, layout.configPath, configAfter, { backupPath: await freeBackupPath(paths.backups, 'config.xml'), mode: 0o644 });
      planCommand(plan, 'stop', `the daemons of ${app} were taken out of config.xml`);
      planCommand(plan, 'start', `the daemons of ${app} were taken out of config.xml`);
    }
    if (state?.addedProjectApp === true) {
      const projectAfter = await withoutTsmw(context, context.projectText, state.files['project.xml'], () => removeProjectApp(context.projectXml, app));
      if (projectAfter !== context.projectText) await planWrite(plan, layout.projectXmlPath, projectAfter, { backupPath: await freeBackupPath(paths.backups, 'project.xml'), mode: 0o644 });
      plan.notes.push(`app ${app} stays in BOINC's database (bin/xadd added it; BOINC has no tool to delete an app): deprecate it on the project's admin pages if it should get no more work`);
    }
    if (state !== undefined) {
      await planDelete(plan, join(layout.projectHome, layout.inputTemplateName(app)), { text: true });
      await planDelete(plan, join(layout.projectHome, layout.outputTemplateName(app)), { text: true });
      // The transport's own templates for the app (content-addressed, one per job group).
      const transportTemplate = new RegExp(`^tsmw_${app.replaceAll('.', '\\.')}_(in|out)_[0-9a-f]{16}$`);
      for (const name of await listFiles(join(layout.projectHome, 'templates'))) {
        if (transportTemplate.test(name)) await planDelete(plan, join(layout.projectHome, 'templates', name), { text: true });
      }
    }
    await planAppVersionRemoval(plan, context, app);
    await planDelete(plan, paths.state(app), { text: true });
    await planDelete(plan, paths.pending(app));
    const otherApps = (await listFiles(paths.directory)).filter((name) => name.endsWith('.json') && !name.endsWith('.pending.json') && name !== `${app}.json`);
    if (otherApps.length === 0) await planProgramRemoval(plan, layout);
    plan.emptyDirectories.push(paths.directory, layout.tsmwDirectory);
    if (plan.deletes.some((deletion) => deletion.path.startsWith(join(layout.projectHome, 'apps')))) {
      plan.notes.push("the app versions stay in BOINC's database and their files in download/ (clients may still be running them)");
    }
    const inboxes = await waitingInboxes(context);
    if (inboxes.length > 0) plan.warnings.push(`results wait in ${inboxes.join(', ')}: they are kept; run their masters to collect them`);
    return finishPlan('remove', context, plan, options);
  });
}

async function waitingInboxes(context: ProjectContext): Promise<string[]> {
  const waiting: string[] = [];
  for (const batch of await listFiles(context.layout.batchesDirectory)) {
    const inbox = join(context.layout.batchesDirectory, batch, 'inbox');
    if ((await listFiles(inbox)).some((name) => !name.startsWith('.'))) waiting.push(`tsmw/batches/${batch}/inbox`);
  }
  return waiting;
}

