import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFakeBoincProject, dirHierPath, type FakeBoincProject, type FakeBoincProjectOptions, type FakeWorkunitView } from '@tsmw/boinc-test-server';
import { executeTaskEnvelope, indexTaskModule, type TaskRegistry } from '@tsmw/core';
import {
  bundleTaskModule,
  readProjectConfig,
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

export interface FakeVolunteers {
  /** Workunits run so far. */
  readonly ran: ReadonlySet<string>;
  /** Workunits to leave alone (neither run nor failed): they stay in progress. */
  hold(name: string): void;
  stop(): void;
}

export interface FakeVolunteerOptions {
  /** Runs each job with this host outcome instead (by workunit name). */
  readonly outcome?: (workunitName: string) => 'success' | 'client-error' | 'no-reply';
  /** Run only workunits whose name matches. */
  readonly only?: (workunitName: string) => boolean;
}

/**
 * Phantom volunteers for the fake project: each new workunit's envelope is run in this process
 * with the deployed bundle (checked against the envelope's module hash, as the client runtime
 * does) and its result handed to the project as a host's upload; the project's validator and
 * tsmw's real assimilator do the rest. Fast stand-ins for the real client, which the e2e tests run.
 */
export async function startFakeVolunteers(testProject: TestProject, options: FakeVolunteerOptions = {}): Promise<FakeVolunteers> {
  const registry = await loadBundle(testProject.bundle);
  const config = await readProjectConfig(testProject.directory);
  const ran = new Set<string>();
  const held = new Set<string>();
  let stopped = false;
  /** Runs one job and hands its result to the project; jobs run side by side, as on many hosts. */
  const runJob = async (name: string, record: FakeWorkunitView['record']): Promise<void> => {
    const copies = Math.max(1, record.targetNresults);
    const files = new Map(record.inputFiles.map((file) => [file.openName, dirHierPath(file.name, config.downloadDirectory, config.fanout)]));
    const buffer = await readFile(files.get('in')!);
    const envelope = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    // As the client runtime does with the command line BOINC hands it.
    const cap = /--max-envelope-bytes (\d+)/.exec(record.commandLine)?.[1];
    const result = await executeTaskEnvelope(envelope, registry, {
      moduleHash: testProject.bundle.hash,
      ...(cap === undefined ? {} : { maxEnvelopeBytes: Number(cap) }),
      readFile: async (_taskId, fileName) => {
        const path = files.get(fileName);
        if (path === undefined) throw new Error(`no input file opened as ${fileName}`);
        const data = await readFile(path);
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      },
    });
    if (!stopped) testProject.project.injectResultFault(name, { outcome: 'success', outputs: [result] }, copies);
  };
  // Synchronous (jobs are started, not awaited), so one tick never overlaps the next.
  const tick = (): void => {
    if (stopped) return;
    for (const workunit of testProject.project.workunits()) {
      const name = workunit.name;
      if (ran.has(name) || held.has(name) || workunit.errorMask !== 0 || workunit.canonicalResultId !== 0) continue;
      if (options.only !== undefined && !options.only(name)) continue;
      ran.add(name);
      const outcome = options.outcome?.(name) ?? 'success';
      if (outcome !== 'success') {
        testProject.project.injectResultFault(name, { outcome, ...(outcome === 'client-error' ? { stderr: `phantom host: ${name} crashed\n` } : {}) }, workunit.record.maxErrorResults + 1);
        continue;
      }
      // Not awaited: a long task (a 60 s sleep left by a forced close) must not hold up the others.
      runJob(name, workunit.record).catch((error: unknown) => {
        if (!stopped) testProject.project.injectResultFault(name, { outcome: 'client-error', stderr: `phantom host: ${String(error)}\n` }, workunit.record.maxErrorResults + 1);
      });
    }
  };
  const timer = setInterval(tick, 20);
  return {
    ran,
    hold: (name) => void held.add(name),
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

async function loadBundle(bundle: TaskModuleBundle): Promise<TaskRegistry> {
  const directory = await mkdtemp(join(tmpdir(), 'tsmw-volunteer-'));
  const path = join(directory, `tasks-${randomBytes(4).toString('hex')}.mjs`);
  await writeFile(path, bundle.code);
  try {
    return indexTaskModule(await import(pathToFileURL(path).href));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
