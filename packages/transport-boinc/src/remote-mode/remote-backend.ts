import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TsmwError } from '@tsmw/core';
import type { InboxErrorRecord } from '../programs/run-assimilator.js';
import { bundleTaskModule } from '../project/bundle-task-module.js';
import { formatJobInputTemplate, formatJobOutputTemplate } from '../remote/job-templates.js';
import { jobFileName } from '../remote/job-file-name.js';
import { createSubmitRpcClient } from '../remote/submit-rpc-client.js';
import type { SubmitRpcClient, SubmitRpcClientOptions } from '../remote/submit-rpc-types.js';
import type { BatchStore, ChunkRecord, StoredFailure } from '../store/batch-store.js';
import type { BackendStartContext, BackendStarted, BoincBackend, ChunkOutcome, JobGroup, PlannedJob } from '../transport/boinc-backend.js';
import { envelopeOpenName, resultOpenName } from '../on-server/job-templates.js';
import { runtimeCommandLine } from '../runtime-command-line.js';

export interface RemoteBackendOptions {
  readonly url: string | URL;
  readonly authenticator: string;
  readonly app: string;
  /** Where the batch stores and inboxes live on the master's machine. */
  readonly stateDirectory: string;
  /** Run the jobs with this app version only (the one carrying the task module). */
  readonly appVersionNum?: number;
  /** First wait between polls of `query_batch2` while results are outstanding, ms (default 10,000); doubles while nothing changes. */
  readonly pollIntervalMs?: number;
  /** The longest wait between polls, ms (default 300,000). */
  readonly maxPollIntervalMs?: number;
  /** Time-outs and retries of the RPC client. */
  readonly rpc?: Pick<SubmitRpcClientOptions, 'timeoutMs' | 'retries' | 'backoff' | 'fetch' | 'log'>;
  readonly warn: (message: string) => void;
}

/** What a remote chunk's record holds: enough to submit it again. */
interface RemotePlan {
  readonly jobs: ReadonlyArray<{ readonly name: string; readonly files: readonly string[] }>;
  readonly inputTemplate: string;
  readonly outputTemplate: string;
  readonly priority: number | undefined;
  /** For the client runtime (absent in plans recorded before it was added). */
  readonly commandLine?: string;
}

/**
 * The backend from anywhere, through BOINC's remote job submission: every input (envelope, data
 * file) is uploaded once by content (`job_file.php`, `jf_<md5>`), each chunk is one
 * `submit_batch` into a BOINC batch of its own (`tsmw_<batch>_c<chunk>`: BOINC adds jobs only to
 * a batch in state init), with a job-level template carrying the quorum and bounds. While results
 * are outstanding, `query_batch2` is polled (only the jobs changed since the last poll) with
 * back-off; finished outputs are downloaded into the batch's inbox, failures recorded there with
 * `query_completed_job`'s stderr; the same inbox reader as on the server takes them from there.
 */
export function createRemoteBackend(options: RemoteBackendOptions): BoincBackend {
  const client: SubmitRpcClient = createSubmitRpcClient({ url: options.url, authenticator: options.authenticator, ...options.rpc });
  const initialPoll = options.pollIntervalMs ?? 10_000;
  const maxPoll = options.maxPollIntervalMs ?? 300_000;
  let store: BatchStore | undefined;
  let batch = '';
  let maxEnvelopeBytes = 0;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<void> | undefined;
  let interval = initialPoll;
  let minModTime = 0;
  let stopped = false;
  let nudge: () => void = () => {};
  const chunkBatchName = (chunkId: number): string => `tsmw_${batch}_c${chunkId}`;

  const submit = async (chunkId: number, plan: RemotePlan, names: ReadonlySet<string>): Promise<void> => {
    await client.submitBatch({
      appName: options.app,
      batchName: chunkBatchName(chunkId),
      jobs: plan.jobs
        .filter((job) => names.has(job.name))
        .map((job) => ({
          name: job.name,
          inputFiles: job.files.map((physicalName) => ({ kind: 'staged' as const, physicalName })),
          inputTemplate: plan.inputTemplate,
          outputTemplate: plan.outputTemplate,
          ...(plan.priority === undefined ? {} : { priority: plan.priority }),
          ...(plan.commandLine === undefined ? {} : { commandLine: plan.commandLine }),
        })),
      ...(options.appVersionNum === undefined ? {} : { appVersionNum: options.appVersionNum }),
    });
  };

  /** The chunk's jobs BOINC has, from `query_batch` (none when the batch does not exist). */
  const existing = async (chunkId: number): Promise<Set<string> | undefined> => {
    try {
      return new Set((await client.queryBatch({ batchName: chunkBatchName(chunkId) })).jobs.map((job) => job.name));
    } catch (error) {
      if (TsmwError.isInstance(error) && error.code === 'TSMW_BOINC_RPC') return undefined; // no such batch
      throw error;
    }
  };

  const createOrResolve = async (chunkId: number, plan: RemotePlan, jobNames: readonly string[], knownAbsent: boolean): Promise<ChunkOutcome> => {
    const created = knownAbsent ? new Set<string>() : ((await existing(chunkId)) ?? new Set<string>());
    const missing = new Set(jobNames.filter((name) => !created.has(name)));
    if (missing.size === 0) return { created: [...jobNames], failed: new Map(), detail: 'created by an earlier request' };
    if (created.size > 0) {
      // submit_batch creates a batch's jobs with one create_work: a batch with some of them is
      // not something BOINC makes. Leave the others failed rather than guess.
      const failure: StoredFailure = { kind: 'create-work', message: `BOINC batch ${chunkBatchName(chunkId)} holds only part of its jobs`, exitStatus: null };
      return { created: [...created], failed: new Map([...missing].map((name) => [name, failure])), detail: 'partial batch' };
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await submit(chunkId, plan, missing);
        return { created: [...jobNames], failed: new Map(), detail: 'created' };
      } catch (error) {
        lastError = error;
        // A reply lost, a 500, a time-out: the batch may or may not exist. Look before trying again.
        const retryable = TsmwError.isInstance(error) && (error.isRetryable || (error as { outcomeUnknown?: boolean }).outcomeUnknown === true);
        if (!retryable) break;
        const now = await existing(chunkId).catch(() => undefined);
        if (now !== undefined && now.size > 0) {
          if (jobNames.every((name) => now.has(name))) return { created: [...jobNames], failed: new Map(), detail: 'created (found after a failed reply)' };
          break;
        }
      }
    }
    const failure: StoredFailure = { kind: 'create-work', message: `submit_batch failed: ${(lastError as Error).message}`, exitStatus: null };
    return { created: [], failed: new Map(jobNames.map((name) => [name, failure])), detail: failure.message };
  };

  const writeAtomically = async (directory: string, name: string, data: Uint8Array | string): Promise<void> => {
    const temporary = join(directory, `.${name}.${randomBytes(6).toString('hex')}.tsmw-tmp`);
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(directory, name)).catch(async (error: unknown) => {
      await rm(temporary, { force: true });
      throw error;
    });
  };

  /** `retire_batch` for each chunk whose every result is in the store (BOINC may then delete its files). */
  const retireSettled = async (batchStore: BatchStore): Promise<void> => {
    const open = new Set(batchStore.openChunkIds());
    for (const id of batchStore.createdChunkIds()) {
      if (open.has(id) || batchStore.meta(`retired:${id}`) !== undefined || stopped) continue;
      await client.retireBatch({ batchName: chunkBatchName(id) });
      batchStore.setMeta(`retired:${id}`, new Date().toISOString());
    }
  };

  /** One poll: changed jobs of the open chunks; outputs and failures into the inbox. */
  const pollOnce = async (): Promise<boolean> => {
    const batchStore = store;
    if (batchStore === undefined) return false;
    const chunks = batchStore.openChunkIds();
    if (chunks.length === 0) {
      await retireSettled(batchStore);
      return false;
    }
    const inbox = join(join(options.stateDirectory, 'batches', batch), 'inbox');
    const changes = await client.queryBatchChanges({ batchNames: chunks.map(chunkBatchName), minModTime });
    let delivered = false;
    for (const changed of changes.batches) {
      const finished = changed.jobs.filter((job) => job.status === 'done' || job.status === 'error');
      const waiting = finished.filter((job) => {
        const known = batchStore.job(job.name);
        return known !== undefined && known.task.jobName === job.name && known.task.state === 'created';
      });
      if (waiting.length === 0) continue;
      const details = new Map((await client.queryBatch({ batchName: changed.batchName })).jobs.map((job) => [job.name, job]));
      for (const job of waiting) {
        if (stopped) return delivered;
        const present = await stat(join(inbox, `${job.name}.out`)).then(() => true, () => false);
        if (present) continue;
        const instance = details.get(job.name)?.canonicalInstanceId;
        if (job.status === 'done' && instance !== undefined) {
          const bytes = await client.downloadOutput({ resultId: instance, fileIndex: 0 });
          if (bytes.byteLength > maxEnvelopeBytes) {
            const record: InboxErrorRecord = { format: 1, job: job.name, kind: 'missing-output', errorMask: 0, detail: `the output is ${bytes.byteLength} bytes, above the cap of ${maxEnvelopeBytes}`, at: new Date().toISOString() };
            await writeAtomically(inbox, `${job.name}.error`, JSON.stringify(record));
          } else {
            await writeAtomically(inbox, `${job.name}.out`, bytes);
          }
        } else if (job.status === 'error') {
          const completed = await client.queryCompletedJob(job.name);
          const record: InboxErrorRecord = {
            format: 1,
            job: job.name,
            kind: 'job-failed',
            errorMask: completed.errorMask,
            ...(completed.stderrOut === undefined ? {} : { stderr: completed.stderrOut }),
            at: new Date().toISOString(),
          };
          await writeAtomically(inbox, `${job.name}.error`, JSON.stringify(record));
        } else continue;
        delivered = true;
      }
    }
    minModTime = changes.nextMinModTime;
    if (delivered) nudge();
    await retireSettled(batchStore);
    return delivered || changes.batches.some((changed) => changed.jobs.length > 0);
  };

  const schedulePoll = (delay: number): void => {
    if (stopped) return;
    if (pollTimer !== undefined) clearTimeout(pollTimer);
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      polling = (async () => {
        let changed = false;
        try {
          changed = await pollOnce();
        } catch (error) {
          options.warn(`Polling BOINC for the results of batch ${batch} failed (tried again later): ${(error as Error).message}`);
        }
        interval = changed ? initialPoll : Math.min(interval * 2, maxPoll);
        polling = undefined;
        schedulePoll(interval);
      })();
    }, delay);
  };

  return {
    mode: 'remote',
    location: client.url,
    abortsJobs: true,

    batchDirectory(name) {
      return join(options.stateDirectory, 'batches', name);
    },

    async start(context: BackendStartContext, batchStore: BatchStore): Promise<BackendStarted> {
      batch = context.batch;
      store = batchStore;
      maxEnvelopeBytes = context.maxEnvelopeBytes;
      await client.ping();
      await mkdir(join(options.stateDirectory, 'batches', batch, 'inbox'), { recursive: true });
      // Remotely the app manifest cannot be read: the bundle's hash is what envelopes carry, and
      // the client runtime refuses a task whose module differs from the one it runs.
      const bundle = await bundleTaskModule(context.taskModule.url);
      return { taskModuleHash: bundle.hash, appVersionNum: options.appVersionNum ?? 0 };
    },

    async stage(jobs: readonly PlannedJob[], group: JobGroup): Promise<RemotePlan> {
      const uploads = new Map<string, { physicalName: string; data: Uint8Array } | { physicalName: string; path: string }>();
      const planned = [];
      for (const job of jobs) {
        const envelopeName = jobFileName(createHash('md5').update(job.envelope).digest('hex'));
        uploads.set(envelopeName, { physicalName: envelopeName, data: job.envelope });
        const byName = new Map<string, string>();
        for (const file of job.files) {
          const md5 = 'data' in file ? createHash('md5').update(file.data).digest('hex') : await md5OfFile(file.path);
          const physicalName = jobFileName(md5);
          byName.set(file.name, physicalName);
          if (!uploads.has(physicalName)) uploads.set(physicalName, 'data' in file ? { physicalName, data: file.data } : { physicalName, path: file.path });
        }
        planned.push({ name: job.jobName, files: [envelopeName, ...group.dataFileNames.map((name) => byName.get(name)!)] });
      }
      await client.uploadFiles([...uploads.values()]);
      const options_ = group.options;
      return {
        jobs: planned,
        inputTemplate: formatJobInputTemplate({
          files: [{ openName: envelopeOpenName }, ...group.dataFileNames.map((openName) => ({ openName }))],
          workunit: {
            ...(options_.rscFpopsEst === undefined ? {} : { rscFpopsEst: options_.rscFpopsEst }),
            ...(options_.rscFpopsBound === undefined ? {} : { rscFpopsBound: options_.rscFpopsBound }),
            ...(options_.rscMemoryBound === undefined ? {} : { rscMemoryBound: options_.rscMemoryBound }),
            ...(options_.rscDiskBound === undefined ? {} : { rscDiskBound: options_.rscDiskBound }),
            ...(options_.delayBound === undefined ? {} : { delayBound: options_.delayBound }),
            ...(options_.minQuorum === undefined ? {} : { minQuorum: options_.minQuorum }),
            ...(options_.targetNresults === undefined ? {} : { targetNresults: options_.targetNresults }),
            ...(options_.maxErrorResults === undefined ? {} : { maxErrorResults: options_.maxErrorResults }),
            ...(options_.maxTotalResults === undefined ? {} : { maxTotalResults: options_.maxTotalResults }),
            ...(options_.maxSuccessResults === undefined ? {} : { maxSuccessResults: options_.maxSuccessResults }),
          },
        }),
        outputTemplate: formatJobOutputTemplate({ files: [{ openName: resultOpenName, maxNbytes: options_.maxNbytes ?? maxEnvelopeBytes }] }),
        priority: options_.priority,
        commandLine: runtimeCommandLine(maxEnvelopeBytes),
      };
    },

    async create(chunkId, plan, jobNames) {
      const outcome = await createOrResolve(chunkId, plan as RemotePlan, jobNames, true);
      schedulePoll(Math.min(interval, initialPoll));
      return outcome;
    },

    async resolve(chunk: ChunkRecord) {
      return createOrResolve(chunk.id, chunk.plan as RemotePlan, chunk.jobNames, false);
    },

    async abort(jobNames) {
      if (jobNames.length === 0) return [];
      await client.abortJobs(jobNames);
      // BOINC's reply names the aborted jobs in a malformed element; an error reply throws. Jobs
      // already finished cannot be aborted and need not be.
      return jobNames;
    },

    startCollecting(nudgeInbox) {
      nudge = nudgeInbox;
      schedulePoll(0);
    },

    async close() {
      stopped = true;
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      await polling;
    },
  };
}

async function md5OfFile(path: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
