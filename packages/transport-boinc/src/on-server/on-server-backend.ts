import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { access, constants, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskFileV1 } from '@tsmw/core';
import { XMLParser } from 'fast-xml-parser';
import { AppVersionNotDeployedError } from '../errors/app-version-not-deployed-error.js';
import { BoincProjectError } from '../errors/boinc-project-error.js';
import { createWorkArguments } from '../job-options.js';
import { runtimeCommandLine } from '../runtime-command-line.js';
import { dataFileName, envelopeFileName } from '../job-name.js';
import { findAppVersionForModule, readAppManifest } from '../project/app-manifest.js';
import { bundleTaskModule } from '../project/bundle-task-module.js';
import { tsmwProgramNames, tsmwProjectLayout, type TsmwProjectLayout } from '../project/tsmw-project-layout.js';
import type { SubmitRpcClient } from '../remote/submit-rpc-types.js';
import type { BatchStore, ChunkRecord, StoredFailure } from '../store/batch-store.js';
import type { BackendStartContext, BackendStarted, BoincBackend, ChunkOutcome, JobGroup, PlannedJob } from '../transport/boinc-backend.js';
import { formatCreateWorkLine, runCreateWork, waitForProcessExit, type CreateWorkRun } from './create-work.js';
import { renderInputTemplate, renderOutputTemplate } from './job-templates.js';
import { readProjectConfig, type BoincProjectConfig } from './project-config.js';
import { createDownloadStager, type DownloadStager } from './stage-files.js';

export interface OnServerBackendOptions {
  readonly projectHome: string;
  readonly app: string;
  /** Make staged files durable before their jobs are created (default true; see `DownloadStager.flushUnreferenced`). */
  readonly durableStaging?: boolean;
  /** Check config.xml's daemons for tsmw's assimilator and a validator of the app (default true). */
  readonly checkDaemons?: boolean;
  /** Aborts jobs at BOINC by name (BOINC's tools abort only by database id). */
  readonly abortJobs?: (jobNames: readonly string[]) => Promise<readonly string[]>;
  /**
   * BOINC's remote job submission, when configured: the batch's jobs are then created in a BOINC
   * batch of the submitting account (`create_batch`, once per batch, its id kept in the store),
   * which `abort_jobs` requires ("job is not part of a batch"), and cancelled jobs are aborted with it.
   */
  readonly submitRpc?: Pick<SubmitRpcClient, 'createBatch' | 'abortJobs'>;
  /** How long to wait for a `create_work` an earlier master left running (default 10 minutes). */
  readonly orphanWaitMs?: number;
}

/** The plan of one chunk, as recorded in the store: enough to run its `create_work` again. */
interface CreateWorkPlan {
  readonly arguments: readonly string[];
  readonly lines: readonly string[];
}

const stagingConcurrency = 16;

/**
 * The backend on the project's server host: stages envelopes (and each data file once per batch,
 * named by its content) into `download/` with the project's fan-out, writes content-addressed
 * templates, and creates each chunk with one `bin/create_work --stdin` pinned to the app version
 * that carries the master's task module (`--app_version_num`). Results come back through tsmw's
 * assimilator into the batch's inbox.
 */
export function createOnServerBackend(options: OnServerBackendOptions): BoincBackend {
  const layout: TsmwProjectLayout = tsmwProjectLayout(options.projectHome);
  const projectHome = layout.projectHome;
  const app = options.app;
  let config: BoincProjectConfig | undefined;
  let stager: DownloadStager | undefined;
  let store: BatchStore | undefined;
  let batch = '';
  let appVersionNum = 0;
  let boincBatchId: number | undefined;
  const abortJobs = options.abortJobs ?? (options.submitRpc === undefined ? undefined : (names: readonly string[]) => options.submitRpc!.abortJobs(names));
  let maxEnvelopeBytes = 0;
  const templates = new Map<string, string>();

  const writeTemplate = async (kind: 'in' | 'out', text: string): Promise<string> => {
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    const name = `templates/tsmw_${app}_${kind}_${hash}`;
    if (templates.has(name)) return name;
    const path = join(projectHome, name);
    if (!existsSync(path) || (await readFile(path, 'utf8')) !== text) {
      await mkdir(join(projectHome, 'templates'), { recursive: true });
      const temporary = `${path}.${process.pid}.tsmw-tmp`;
      await writeFile(temporary, text, { mode: 0o644 });
      await rename(temporary, path);
    }
    templates.set(name, text);
    return name;
  };

  const failAll = (jobNames: readonly string[], failure: StoredFailure): Map<string, StoredFailure> => new Map(jobNames.map((name) => [name, failure]));

  const run = (chunkId: number | undefined, plan: CreateWorkPlan, lines: readonly string[] = plan.lines): Promise<CreateWorkRun> =>
    runCreateWork({
      projectHome,
      app,
      arguments: plan.arguments,
      lines,
      workDirectory: join(layout.batchDirectory(batch), 'chunks'),
      ...(chunkId === undefined || store === undefined ? {} : { onSpawn: (pid: number) => store!.chunkStarted(chunkId, pid) }),
    });

  const describeRun = (outcome: CreateWorkRun): string => {
    const status = outcome.exitStatus === null ? (outcome.signal === null ? 'could not start' : `was killed by ${outcome.signal}`) : `exited with status ${outcome.exitStatus}`;
    const output = outcome.output.trim();
    return `bin/create_work ${status}${output === '' ? '' : `: ${output.length > 2000 ? `...${output.slice(-2000)}` : output}`}`;
  };

  /**
   * Settles jobs whose creation is in doubt, one `create_work` each: created now (exit 0), or
   * created before (the database refuses the duplicate name), or failed.
   */
  const settleOneByOne = async (plan: CreateWorkPlan, jobNames: readonly string[], lines: readonly string[], created: string[], failed: Map<string, StoredFailure>): Promise<void> => {
    for (let index = 0; index < jobNames.length; index += 1) {
      const outcome = await run(undefined, plan, [lines[index]!]);
      if (outcome.exitStatus === 0 || outcome.duplicate) created.push(jobNames[index]!);
      else failed.set(jobNames[index]!, { kind: 'create-work', message: describeRun(outcome), exitStatus: outcome.exitStatus });
    }
  };

  /**
   * The rule for a chunk that may already exist in part: `create_work` inserts its jobs in the
   * order of its lines (one multi-row INSERT per megabyte), so what an interrupted run created is
   * a prefix of the chunk. Rerun whole: success means none existed. A duplicate means a prefix
   * exists: if the last job alone is a duplicate too, all exist; otherwise each job is settled on
   * its own. No job is ever created twice (the names are unique) and none is left out.
   */
  const createOrResolve = async (chunkId: number, plan: CreateWorkPlan, jobNames: readonly string[]): Promise<ChunkOutcome> => {
    const whole = await run(chunkId, plan);
    if (whole.exitStatus === 0) return { created: [...jobNames], failed: new Map(), detail: 'created' };
    if (!whole.duplicate) {
      return { created: [], failed: failAll(jobNames, { kind: 'create-work', message: describeRun(whole), exitStatus: whole.exitStatus }), detail: describeRun(whole) };
    }
    const created: string[] = [];
    const failed = new Map<string, StoredFailure>();
    const lastIndex = jobNames.length - 1;
    const last = await run(undefined, plan, [plan.lines[lastIndex]!]);
    if (last.duplicate) return { created: [...jobNames], failed, detail: 'created by an earlier run' };
    if (last.exitStatus === 0) created.push(jobNames[lastIndex]!);
    else failed.set(jobNames[lastIndex]!, { kind: 'create-work', message: describeRun(last), exitStatus: last.exitStatus });
    await settleOneByOne(plan, jobNames.slice(0, lastIndex), plan.lines.slice(0, lastIndex), created, failed);
    return { created, failed, detail: `settled job by job: ${created.length} exist, ${failed.size} failed` };
  };

  return {
    mode: 'on-server',
    location: projectHome,
    abortsJobs: abortJobs !== undefined,

    batchDirectory(name) {
      return layout.batchDirectory(name);
    },

    async start(context: BackendStartContext, batchStore: BatchStore): Promise<BackendStarted> {
      batch = context.batch;
      store = batchStore;
      maxEnvelopeBytes = context.maxEnvelopeBytes;
      config = await readProjectConfig(projectHome);
      stager = createDownloadStager({ downloadDirectory: config.downloadDirectory, fanout: config.fanout, durable: options.durableStaging ?? true });
      try {
        await access(join(projectHome, 'bin', 'create_work'), constants.X_OK);
      } catch {
        throw new BoincProjectError(`${projectHome} has no executable bin/create_work: is it a BOINC project made by make_project?`);
      }
      if (options.checkDaemons ?? true) await checkDaemons(layout, app);
      const manifest = await readAppManifest(projectHome, app);
      const tasksPath = context.taskModule.url.startsWith('file:') ? fileURLToPath(context.taskModule.url) : context.taskModule.url;
      const deploy = `tsmw-setup deploy --project ${projectHome} --app ${app} --tasks ${tasksPath}`;
      const bundle = await bundleTaskModule(context.taskModule.url);
      if (manifest === undefined) {
        throw new AppVersionNotDeployedError(app, bundle.hash, `The app ${app} of ${projectHome} has no tsmw app version: run ${deploy}`);
      }
      const version = findAppVersionForModule(manifest, bundle.hash);
      if (version === undefined) {
        throw new AppVersionNotDeployedError(
          app,
          bundle.hash,
          `No app version of ${app} carries this task module (bundle ${bundle.hash.slice(0, 12)}; deployed: ${manifest.versions.map((entry) => `${entry.versionNum} ${entry.moduleHash.slice(0, 12)}`).join(', ') || 'none'}): the code changed since the last deploy; run ${deploy}`,
        );
      }
      appVersionNum = version.versionNum;
      if (options.submitRpc !== undefined) {
        const known = batchStore.meta('boinc_batch_id');
        if (known !== undefined) boincBatchId = Number(known);
        else {
          boincBatchId = (await options.submitRpc.createBatch({ appName: app, batchName: `tsmw_${batch}` })).batchId;
          batchStore.setMeta('boinc_batch_id', String(boincBatchId));
        }
      }
      return { taskModuleHash: bundle.hash, appVersionNum };
    },

    async stage(jobs: readonly PlannedJob[], group: JobGroup): Promise<CreateWorkPlan> {
      if (stager === undefined || store === undefined) throw new BoincProjectError('The on-server backend was not started');
      const dataNames = new Map<TaskFileV1, string>();
      const newlyStaged: Array<{ physicalName: string; sha256: string; nbytes: number }> = [];
      const seen = new Map<string, Promise<void>>();
      const stageData = async (file: TaskFileV1): Promise<void> => {
        const { sha256, nbytes } = 'data' in file ? { sha256: createHash('sha256').update(file.data).digest('hex'), nbytes: file.data.byteLength } : await hashFile(file.path);
        const physicalName = dataFileName(batch, sha256);
        dataNames.set(file, physicalName);
        if (!seen.has(physicalName)) {
          seen.set(
            physicalName,
            (async () => {
              if (store!.stagedFile(physicalName) !== undefined && existsSync(stager!.pathOf(physicalName))) return;
              if ('data' in file) await stager!.write(physicalName, file.data);
              else await stager!.copy(physicalName, file.path);
              newlyStaged.push({ physicalName, sha256, nbytes });
            })(),
          );
        }
        await seen.get(physicalName);
      };
      const work: Array<() => Promise<unknown>> = [];
      const envelopePaths: string[] = [];
      for (const job of jobs) {
        // The envelope's name is its job's, which no job at BOINC has yet (the chunk is recorded and
        // created after staging; a job created before is in the store and never staged again).
        work.push(async () => envelopePaths.push(await stager!.writeUnreferenced(envelopeFileName(job.jobName), job.envelope)));
        for (const file of job.files) work.push(() => stageData(file));
      }
      await runLimited(work, stagingConcurrency);
      // Durable before the chunk is recorded and handed to create_work: one flush for the chunk.
      await stager.flushUnreferenced(envelopePaths);
      if (newlyStaged.length > 0) store.recordStagedFiles(newlyStaged);
      const inputTemplate = await writeTemplate('in', renderInputTemplate({ dataFileNames: group.dataFileNames }));
      const outputTemplate = await writeTemplate('out', renderOutputTemplate({ maxNbytes: group.options.maxNbytes ?? maxEnvelopeBytes }));
      const lines = jobs.map((job) => {
        const byName = new Map(job.files.map((file) => [file.name, dataNames.get(file)!]));
        return formatCreateWorkLine(job.jobName, [envelopeFileName(job.jobName), ...group.dataFileNames.map((name) => byName.get(name)!)]);
      });
      return {
        arguments: [
          ...createWorkArguments(group.options),
          '--command_line',
          runtimeCommandLine(maxEnvelopeBytes),
          '--app_version_num',
          String(appVersionNum),
          ...(boincBatchId === undefined ? [] : ['--batch', String(boincBatchId)]),
          '--wu_template',
          inputTemplate,
          '--result_template',
          outputTemplate,
        ],
        lines,
      };
    },

    async create(chunkId, plan, jobNames) {
      return createOrResolve(chunkId, plan as CreateWorkPlan, jobNames);
    },

    async resolve(chunk: ChunkRecord) {
      if (chunk.pid !== undefined) await waitForProcessExit(chunk.pid, chunk.pidStartTime, options.orphanWaitMs ?? 600_000);
      return createOrResolve(chunk.id, chunk.plan as CreateWorkPlan, chunk.jobNames);
    },

    async abort(jobNames) {
      if (abortJobs === undefined || jobNames.length === 0) return [];
      return abortJobs(jobNames);
    },

    async close() {
      // Nothing runs between calls: every create_work is awaited by the call that started it.
    },
  };
}

async function hashFile(path: string): Promise<{ sha256: string; nbytes: number }> {
  const hash = createHash('sha256');
  let nbytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    nbytes += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), nbytes };
}

async function runLimited(work: ReadonlyArray<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const index = next++;
      await work[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, work.length) }, worker));
}

const daemonParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, isArray: (name) => name === 'daemon' });

/**
 * Results reach the master only through tsmw's assimilator, and only after a validator passed
 * them: without both in config.xml's `<daemons>` for the app, every result would wait forever
 * (a classic BOINC trap). Refuse to start then, saying what to add.
 */
async function checkDaemons(layout: TsmwProjectLayout, app: string): Promise<void> {
  let document: unknown;
  try {
    document = daemonParser.parse(await readFile(layout.configPath, 'utf8'));
  } catch (error) {
    throw new BoincProjectError(`Cannot read the daemons of ${layout.configPath}: ${(error as Error).message}`, { cause: error });
  }
  const daemons = ((document as { boinc?: { daemons?: { daemon?: Array<{ cmd?: unknown; disabled?: unknown }> } } }).boinc?.daemons?.daemon ?? [])
    .filter((daemon) => String(daemon.disabled ?? '0') !== '1')
    .map((daemon) => (typeof daemon.cmd === 'string' ? daemon.cmd.split(/\s+/) : []));
  const forApp = (tokens: string[]): boolean => tokens.some((token, index) => (token === '--app' || token === '-app') && tokens[index + 1] === app);
  const assimilator = daemons.some((tokens) => /(^|\/)script_assimilator$/.test(tokens[0] ?? '') && forApp(tokens) && tokens.some((token) => token.replace(/^["']|["']$/g, '') === tsmwProgramNames.assimilator));
  const validator = daemons.some((tokens) => /validator/.test(tokens[0] ?? '') && forApp(tokens));
  const missing = [
    ...(assimilator ? [] : [`<daemon><cmd>script_assimilator --app ${app} --script ${tsmwProgramNames.assimilator}</cmd></daemon>`]),
    ...(validator ? [] : [`a validator for the app (for example <daemon><cmd>script_validator --app ${app} --init_script ${tsmwProgramNames.validatorInit} --compare_script ${tsmwProgramNames.validatorCompare}</cmd></daemon>)`]),
  ];
  if (missing.length > 0) {
    throw new BoincProjectError(
      `${layout.configPath} runs no ${missing.length === 2 ? 'assimilator or validator' : assimilator ? 'validator' : 'tsmw assimilator'} for app ${app}, so no result would ever reach the master. Add ${missing.join(' and ')} (tsmw-setup deploy does), then restart the daemons (bin/stop; bin/start); or pass checkDaemons: false if they run elsewhere.`,
    );
  }
}
