import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeBoincProject, startPhantomVolunteers, type FakeBoincProject, type FakeBoincProjectOptions, type PhantomVolunteerOptions, type PhantomVolunteers } from '@tsmw/boinc-test-server';
import {
  bundleTaskModule,
  renderInputTemplate,
  renderOutputTemplate,
  tsmwProgramNames,
  tsmwProgramPaths,
  tsmwProjectLayout,
  writeAppManifest,
  type TaskModuleBundle,
  type TsmwProgram,
} from '@tsmw/transport-boinc';

export interface TestProject {
  readonly project: FakeBoincProject;
  readonly directory: string;
  readonly bundle: TaskModuleBundle;
  readonly app: string;
  close(): Promise<void>;
}

export interface TestProjectOptions {
  /** The task module the master uses (deployed as the app version's bundle). */
  readonly tasks: string | URL;
  readonly app?: string;
  /** `trivial` (sample_trivial_validator) or `script` (script_validator with tsmw's programs). Default trivial. */
  readonly validator?: 'trivial' | 'script';
  /** Leave the assimilator out of config.xml (to test what happens then). */
  readonly withoutAssimilator?: boolean;
  readonly projectOptions?: Partial<FakeBoincProjectOptions>;
  /** Deploy the bundle in the app manifest (default true). */
  readonly deploy?: boolean;
}

/**
 * A fake BOINC project set up as `tsmw-setup` would: tsmw's programs in `<project>/tsmw/programs`
 * behind `bin/` launchers, the app's templates, the daemons in config.xml, and an app manifest
 * naming the bundle of the master's task module.
 */
export async function createTestProject(options: TestProjectOptions): Promise<TestProject> {
  const app = options.app ?? 'tsmw';
  const root = await mkdtemp(join(tmpdir(), 'tsmw-transport-boinc-'));
  const directory = join(root, 'project');
  const validator =
    options.validator === 'script'
      ? `script_validator -d 3 --app ${app} --init_script ${tsmwProgramNames.validatorInit} --compare_script ${tsmwProgramNames.validatorCompare}`
      : `sample_trivial_validator -d 3 --app ${app}`;
  const project = await createFakeBoincProject({
    directory,
    apps: [{ name: app, inputTemplate: renderInputTemplate(), outputTemplate: renderOutputTemplate({ maxNbytes: 64 * 1024 * 1024 }) }],
    // Two assimilators, each on half of the workunits (BOINC's `--mod 2 R`), as a project with
    // big batches runs them: tsmw's assimilator is a process per workunit.
    daemons: [validator, ...(options.withoutAssimilator === true ? [] : [0, 1].map((remainder) => `script_assimilator -d 3 --app ${app} --mod 2 ${remainder} --script ${tsmwProgramNames.assimilator}`))],
    daemonIntervalMs: 50,
    assimilatorRestartDelayMs: 200,
    ...options.projectOptions,
  });
  await installPrograms(directory);
  const bundle = await bundleTaskModule(options.tasks);
  if (options.deploy ?? true) {
    await writeAppManifest(directory, {
      format: 1,
      app,
      versions: [{ versionNum: 100, moduleHash: bundle.hash, taskNames: [], platforms: ['x86_64-pc-linux-gnu'], node: { mode: 'host' }, runtimeVersion: '0.1.0', createdAt: new Date().toISOString() }],
    });
  }
  return {
    project,
    directory,
    bundle,
    app,
    async close() {
      await project.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** What tsmw-setup does for the programs: copies under tsmw/programs, launchers in bin/ run them with this Node. */
export async function installPrograms(directory: string): Promise<void> {
  const layout = tsmwProjectLayout(directory);
  await mkdir(layout.programsDirectory, { recursive: true });
  const paths = tsmwProgramPaths();
  for (const program of Object.keys(tsmwProgramNames) as TsmwProgram[]) {
    const installed = join(layout.programsDirectory, `${tsmwProgramNames[program]}.mjs`);
    await copyFile(paths[program], installed);
    const launcher = layout.binPath(tsmwProgramNames[program]);
    await writeFile(launcher, `#!/bin/sh\nexec '${process.execPath}' '${installed}' "$@"\n`);
    await chmod(launcher, 0o755);
  }
}

export type FakeVolunteers = PhantomVolunteers;
export type FakeVolunteerOptions = Omit<PhantomVolunteerOptions, 'bundle'>;

/**
 * Phantom volunteers (tools/boinc-test-server) that run the deployed bundle for the project's
 * workunits. Fast stand-ins for the real client, which the e2e tests run.
 */
export function startFakeVolunteers(testProject: TestProject, options: FakeVolunteerOptions = {}): Promise<FakeVolunteers> {
  return startPhantomVolunteers(testProject.project, { ...options, bundle: testProject.bundle });
}
