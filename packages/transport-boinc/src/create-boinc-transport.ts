import {
  InvalidArgumentError,
  TaskKeyConflictError,
  TransportError,
  TsmwError,
  assertBatchName,
  toRecoveredTask,
  type RecoveredTaskV1,
  type SubmittedTaskV1,
  type TransportCapabilitiesV1,
  type TransportEventV1,
  type TransportStartOptionsV1,
  type TransportStartResultV1,
  type TransportV1,
} from '@tsmw/core';
import { join } from 'node:path';
import { checkJobOptions, createWorkArguments, resolveJobOptions, type BoincJobOptions } from './job-options.js';
import { formatJobName, jobKeyToken } from './job-name.js';
import { createOnServerBackend } from './on-server/on-server-backend.js';
import { createSubmitRpcClient } from './remote/submit-rpc-client.js';
import { createRemoteBackend } from './remote-mode/remote-backend.js';
import type { SubmitRpcClient } from './remote/submit-rpc-types.js';
import { assertAppName } from './project/tsmw-project-layout.js';
import { BatchStore, type NewTaskRecord, type StoredFailure, type StoredTask } from './store/batch-store.js';
import type { BoincBackend, ChunkOutcome, JobGroup, PlannedJob } from './transport/boinc-backend.js';
import { DeliveryQueue } from './transport/delivery-queue.js';
import { InboxReader, failureError } from './transport/inbox-reader.js';

/** Options shared by both ways into a project. */
export interface BoincTransportCommonOptions {
  /** The BOINC app the tasks run as (deployed with `tsmw-setup deploy`). A batch belongs to one app. */
  readonly app: string;
  /** Jobs per `create_work` run or `submit_batch` request (default 1,000: about 0.8 MB of BOINC's one-megabyte bulk insert). */
  readonly chunkSize?: number;
  /** How often the batch's inbox is scanned besides watching it, ms (default 5,000). */
  readonly scanIntervalMs?: number;
  /** Where warnings go (default `process.emitWarning` with type `TsmwBoincWarning`). */
  readonly onWarning?: (message: string) => void;
}

/** On the project's server host: files, `bin/create_work` and tsmw's assimilator. */
export interface BoincOnServerOptions extends BoincTransportCommonOptions {
  /** The project's home directory (where `config.xml`, `bin/` and `download/` are). */
  readonly projectHome: string;
  /** Make staged inputs durable before their jobs are created (default true): one file-system sync per chunk (`sync --file-system`), else an fdatasync per file. */
  readonly durableStaging?: boolean;
  /** Refuse to start when config.xml runs no tsmw assimilator or no validator for the app (default true). */
  readonly checkDaemons?: boolean;
  /**
   * The project's URL and an authenticator with submit rights: the batch's jobs are then created
   * in a BOINC batch of that account (`create_batch`, once) and cancelled tasks' jobs are aborted
   * on the server through BOINC's `abort_jobs` (BOINC's own command-line tools abort only by
   * database id, which `create_work --stdin` never reports; `abort_jobs` only jobs of the
   * account's batches). Without them (or `abortJobs`) a cancelled task's job goes on at BOINC and
   * its result is dropped. The authenticator is never logged or put in an error.
   */
  readonly url?: string | URL;
  readonly authenticator?: string;
  /** Aborts jobs by name at BOINC (instead of `url` and `authenticator`). */
  readonly abortJobs?: (jobNames: readonly string[]) => Promise<readonly string[]>;
}

/** From anywhere, through BOINC's remote job submission (`submit_rpc_handler.php`, `job_file.php`, `get_output2.php`). */
export interface BoincRemoteOptions extends BoincTransportCommonOptions {
  /** The project's URL (where `submit_rpc_handler.php` is). */
  readonly url: string | URL;
  /** An account's authenticator with submit rights; never logged, never in an error. */
  readonly authenticator: string;
  /** Where the batches' stores and inboxes live on this machine. */
  readonly stateDirectory: string;
  /** Run the jobs with this app version only (`tsmw-setup deploy` prints it); default any. */
  readonly appVersionNum?: number;
  /** First wait between polls while results are outstanding, ms (default 10,000); it doubles while nothing changes. */
  readonly pollIntervalMs?: number;
  /** The longest wait between polls, ms (default 300,000). */
  readonly maxPollIntervalMs?: number;
  /** The RPC client's time-out of one exchange, ms (default 60,000), and retries (default 3). */
  readonly timeoutMs?: number;
  readonly retries?: number;
}

export type BoincTransportOptions = BoincOnServerOptions | BoincRemoteOptions;

const defaultChunkSize = 1000;
const defaultScanIntervalMs = 5_000;
const maxEnvelopeBytes = 64 * 1024 * 1024;

/**
 * A transport that runs tasks as BOINC jobs, durably: every task of a batch is recorded in an
 * embedded store (SQLite) before BOINC hears of it, so a master killed at any moment and started
 * again with the same batch re-attaches to its tasks, gets the results that arrived meanwhile,
 * and never creates a second job for a key.
 *
 * ```ts
 * const transport = createBoincTransport({ app: 'pi', projectHome: '/home/boincadm/projects/test' }, { rscFpopsEst: 1e12 });
 * const master = await createMaster({ transport, tasks: './tasks.js', batch: 'pi-2026-11' });
 * ```
 */
export function createBoincTransport(options: BoincTransportOptions, jobOptions: BoincJobOptions = {}): TransportV1 {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createBoincTransport needs options: { app, projectHome }');
  assertAppName(options.app);
  const baseOptions = checkJobOptions(jobOptions as Readonly<Record<string, unknown>>, 'the job options of createBoincTransport');
  resolveJobOptions(baseOptions, {}, undefined, Date.now()); // refuse inconsistent quorum options now, not per task
  const chunkSize = options.chunkSize ?? defaultChunkSize;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new InvalidArgumentError(`chunkSize must be a whole number >= 1, not ${chunkSize}`);
  const scanIntervalMs = options.scanIntervalMs ?? defaultScanIntervalMs;
  if (!(scanIntervalMs > 0)) throw new InvalidArgumentError(`scanIntervalMs must be a positive number of milliseconds, not ${scanIntervalMs}`);
  const warn = options.onWarning ?? defaultWarning;
  if ('stateDirectory' in options && options.stateDirectory !== undefined) {
    if (typeof options.stateDirectory !== 'string' || options.stateDirectory === '') throw new InvalidArgumentError('stateDirectory must be a directory path');
    if (options.url === undefined || typeof options.authenticator !== 'string' || options.authenticator === '') {
      throw new InvalidArgumentError('The remote BOINC transport needs url (the project URL) and authenticator (an account with submit rights)');
    }
    const remote = createRemoteBackend({
      url: options.url,
      authenticator: options.authenticator,
      app: options.app,
      stateDirectory: options.stateDirectory,
      warn,
      ...(options.appVersionNum === undefined ? {} : { appVersionNum: options.appVersionNum }),
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      ...(options.maxPollIntervalMs === undefined ? {} : { maxPollIntervalMs: options.maxPollIntervalMs }),
      rpc: { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(options.retries === undefined ? {} : { retries: options.retries }) },
    });
    return new BoincTransport(remote, options.app, baseOptions, chunkSize, scanIntervalMs, warn);
  }
  if (!('projectHome' in options) || typeof options.projectHome !== 'string' || options.projectHome === '') {
    throw new InvalidArgumentError('createBoincTransport needs projectHome (on the project\'s server host) or url, authenticator and stateDirectory (remotely)');
  }
  let submitRpc: SubmitRpcClient | undefined;
  if (options.url !== undefined || options.authenticator !== undefined) {
    if (options.url === undefined || typeof options.authenticator !== 'string' || options.authenticator === '') {
      throw new InvalidArgumentError('To abort cancelled jobs on the server give both url (the project URL) and authenticator (an account with submit rights)');
    }
    submitRpc = createSubmitRpcClient({ url: options.url, authenticator: options.authenticator });
  }
  const backend = createOnServerBackend({
    projectHome: options.projectHome,
    app: options.app,
    ...(options.durableStaging === undefined ? {} : { durableStaging: options.durableStaging }),
    ...(options.checkDaemons === undefined ? {} : { checkDaemons: options.checkDaemons }),
    ...(options.abortJobs === undefined ? {} : { abortJobs: options.abortJobs }),
    ...(submitRpc === undefined ? {} : { submitRpc }),
  });
  return new BoincTransport(backend, options.app, baseOptions, chunkSize, scanIntervalMs, warn);
}

function defaultWarning(message: string): void {
  process.emitWarning(message, 'TsmwBoincWarning');
}

interface TaskToCreate {
  readonly submitted: SubmittedTaskV1;
  readonly record: NewTaskRecord;
  readonly retrySeq: number | undefined;
}

/** The transport over a backend (on the server host, or remote). */
export class BoincTransport implements TransportV1 {
  readonly specificationVersion = 'v1' as const;
  readonly transportId = 'tsmw.boinc';
  readonly capabilities: TransportCapabilitiesV1;

  private readonly queue = new DeliveryQueue();
  private store: BatchStore | undefined;
  private inbox: InboxReader | undefined;
  private batch = '';
  private submitting: Promise<void> = Promise.resolve();
  private readonly creatingChunks = new Set<number>();
  private closed = false;
  private stopSubmitting = false;
  private warnedAboutAborts = false;
  private started = false;

  constructor(
    private readonly backend: BoincBackend,
    private readonly app: string,
    private readonly jobOptions: BoincJobOptions,
    private readonly chunkSize: number,
    private readonly scanIntervalMs: number,
    private readonly warn: (message: string) => void,
  ) {
    this.capabilities = {
      cancel: true,
      progress: false,
      durable: true,
      checkpoint: true,
      files: true,
      latency: 'batch',
      maxEnvelopeBytes,
      maxBatchSize: 10_000,
      maxInFlight: Number.POSITIVE_INFINITY,
    };
  }

  async doStart(options: TransportStartOptionsV1): Promise<TransportStartResultV1> {
    if (this.started) throw new TransportError('This BOINC transport was started already: make one per master');
    this.started = true;
    const batch = options.batch;
    if (batch === undefined) throw new InvalidArgumentError('The BOINC transport is durable: the master needs a batch name (createMaster({ batch }))');
    assertBatchName(batch);
    this.batch = batch;
    const batchDirectory = this.backend.batchDirectory(batch);
    const store = BatchStore.open({ path: join(batchDirectory, 'batch.sqlite'), batch, app: this.app, mode: this.backend.mode, location: this.backend.location });
    try {
      store.claim();
      const started = await this.backend.start({ batch, taskModule: options.taskModule, maxEnvelopeBytes: options.maxEnvelopeBytes }, store);
      this.store = store;
      this.inbox = new InboxReader({
        batch,
        batchDirectory,
        store,
        maxEnvelopeBytes: options.maxEnvelopeBytes,
        push: (event) => this.queue.push(event),
        room: () => this.queue.room(),
        scanIntervalMs: this.scanIntervalMs,
        warn: this.warn,
      });
      await this.inbox.prepare();
      // Chunks a crash left in doubt are settled before anything else: then the store says
      // exactly which jobs exist.
      for (const chunk of store.unresolvedChunks()) this.settleChunk(chunk.id, await this.backend.resolve(chunk), false);
      const recovered: RecoveredTaskV1[] = [];
      for (const task of store.iterateOpenTasks()) recovered.push(toRecoveredTask(task));
      // Results in before this master: delivered right after start, page by page as taken.
      void this.deliverStored();
      this.inbox.start();
      this.backend.startCollecting?.(() => this.inbox?.nudge());
      void this.processCancels();
      return { recovered, taskModuleHash: started.taskModuleHash };
    } catch (error) {
      this.store = undefined;
      store.close();
      throw error;
    }
  }

  private async deliverStored(): Promise<void> {
    let after = 0;
    for (;;) {
      const store = this.store;
      if (store === undefined || this.closed) return;
      const page = store.deliverablePage(after, 256);
      if (page.length === 0) return;
      for (const task of page) await this.inbox!.deliver(task);
      after = page[page.length - 1]!.seq;
      await this.queue.room();
    }
  }

  doSubmit(tasks: readonly SubmittedTaskV1[]): Promise<void> {
    const run = this.submitting.then(() => this.submitNow(tasks));
    this.submitting = run.catch(() => {});
    return run;
  }

  private requireStore(): BatchStore {
    if (this.store === undefined) throw new TransportError(this.closed ? 'The BOINC transport is closed' : 'The BOINC transport was not started');
    return this.store;
  }

  private async submitNow(tasks: readonly SubmittedTaskV1[]): Promise<void> {
    const store = this.requireStore();
    if (this.stopSubmitting) throw new TransportError('The BOINC transport is closing');
    const now = Date.now();
    const lost: Array<{ taskId: string; error: TsmwError }> = [];
    const groups = new Map<string, { group: JobGroup; tasks: TaskToCreate[] }>();
    const deliveries: StoredTask[] = [];
    let accepted = 0;
    for (const submitted of tasks) {
      let hints: BoincJobOptions;
      let options: BoincJobOptions;
      try {
        hints = checkJobOptions(submitted.hints, `the hints of task ${submitted.taskId}`);
        options = resolveJobOptions(this.jobOptions, hints, submitted.deadline, now);
      } catch (error) {
        lost.push({ taskId: submitted.taskId, error: error as TsmwError });
        continue;
      }
      const stored = store.taskByKey(submitted.key, submitted.taskId);
      let generation = 1;
      let retrySeq: number | undefined;
      if (stored !== undefined) {
        if (stored.taskName !== submitted.taskName || (submitted.inputHash !== undefined && stored.inputHash !== undefined && stored.inputHash !== submitted.inputHash)) {
          const key = submitted.key ?? submitted.taskId;
          lost.push({
            taskId: submitted.taskId,
            error: new TaskKeyConflictError(
              key,
              `The key ${JSON.stringify(key)} of batch ${this.batch} already names ${stored.taskName === submitted.taskName ? 'a task with another input' : `a "${stored.taskName}" task`}: a key names one piece of work (use another key, or another batch for new work)`,
            ),
          });
          continue;
        }
        const settled = stored.state === 'returned' || stored.state === 'failed';
        const runAgain = stored.state === 'cancelled' || (settled && submitted.attempt > stored.attempt);
        if (!runAgain) {
          accepted += 1;
          if (stored.taskId !== submitted.taskId) store.bindTaskId(stored.seq, submitted.taskId);
          if (settled) deliveries.push({ ...stored, taskId: submitted.taskId });
          continue;
        }
        generation = stored.generation + 1;
        retrySeq = stored.seq;
      }
      const jobName = formatJobName(this.batch, jobKeyToken(submitted.key, submitted.taskId), generation);
      const dataFileNames = submitted.files.map((file) => file.name);
      const groupKey = JSON.stringify([createWorkArguments(options), options.maxNbytes ?? null, dataFileNames]);
      let entry = groups.get(groupKey);
      if (entry === undefined) {
        entry = { group: { options, dataFileNames }, tasks: [] };
        groups.set(groupKey, entry);
      }
      entry.tasks.push({
        submitted,
        retrySeq,
        record: {
          key: submitted.key,
          taskId: submitted.taskId,
          taskName: submitted.taskName,
          inputHash: submitted.inputHash,
          attempt: submitted.attempt,
          generation,
          jobName,
          deadline: submitted.deadline,
          submittedAt: now,
        },
      });
    }

    // Chunks are staged and recorded one after another while the previous chunk's create_work
    // runs (one create_work at a time: BOINC's bulk inserts need not compete).
    let firstStagingError: TsmwError | undefined;
    let creating: Promise<void> = Promise.resolve();
    for (const { group, tasks: toCreate } of groups.values()) {
      for (let start = 0; start < toCreate.length; start += this.chunkSize) {
        const chunk = toCreate.slice(start, start + this.chunkSize);
        if (this.stopSubmitting) {
          for (const task of chunk) lost.push({ taskId: task.submitted.taskId, error: new TransportError('The BOINC transport closed before this task was handed to BOINC', { retryable: true }) });
          continue;
        }
        let plan: unknown;
        try {
          const jobs: PlannedJob[] = chunk.map((task) => ({ jobName: task.record.jobName, envelope: task.submitted.envelope, files: task.submitted.files }));
          plan = await this.backend.stage(jobs, group);
        } catch (error) {
          const failure = TsmwError.isInstance(error)
            ? error
            : new TransportError(`Staging ${chunk.length} tasks for BOINC failed: ${(error as Error).message}`, { cause: error, retryable: true });
          firstStagingError ??= failure;
          for (const task of chunk) lost.push({ taskId: task.submitted.taskId, error: failure });
          continue;
        }
        // Write-ahead: the chunk is in the store before BOINC hears of it.
        const chunkId = store.recordChunk(
          plan,
          chunk.map((task) => task.record),
          new Map(chunk.filter((task) => task.retrySeq !== undefined).map((task) => [task.record.jobName, task.retrySeq!])),
        );
        accepted += chunk.length;
        this.creatingChunks.add(chunkId);
        const jobNames = chunk.map((task) => task.record.jobName);
        creating = creating.then(async () => {
          try {
            this.settleChunk(chunkId, await this.backend.create(chunkId, plan, jobNames), true);
          } finally {
            this.creatingChunks.delete(chunkId);
          }
        });
      }
    }
    await creating;
    if (accepted === 0 && lost.length === tasks.length && firstStagingError !== undefined) throw firstStagingError;
    for (const { taskId, error } of lost) this.queue.push({ type: 'task-lost', taskId, error });
    for (const task of deliveries) await this.inbox!.deliver(task);
    if (this.store !== undefined && store.pendingCancels().length > 0) void this.processCancels();
  }

  /** Records a chunk's outcome; failed jobs' tasks are lost (unless cancelled meanwhile). */
  private settleChunk(chunkId: number, outcome: ChunkOutcome, fresh: boolean): void {
    const store = this.requireStore();
    if (outcome.failed.size === 0) store.chunkCreated(chunkId, outcome.detail);
    else store.chunkSettled(chunkId, outcome.created, outcome.failed, outcome.detail);
    for (const [jobName, failure] of outcome.failed) {
      const job = store.job(jobName);
      if (job === undefined || job.task.jobName !== jobName || job.task.state !== 'failed') continue;
      if (fresh) this.queue.push({ type: 'task-lost', taskId: job.task.taskId, error: failureError(jobName, failure) });
      // After a restart the failure is delivered with the other stored results.
    }
  }

  async doCancel(taskIds: readonly string[]): Promise<void> {
    const store = this.store;
    if (store === undefined) return;
    const seqs: number[] = [];
    for (const taskId of taskIds) for (const task of store.tasksById(taskId)) seqs.push(task.seq);
    if (seqs.length === 0) return;
    store.requestCancel(seqs);
    await this.processCancels();
  }

  private cancelling: Promise<void> | undefined;
  private cancelAgain = false;

  /**
   * Aborts at BOINC the jobs of cancelled tasks that exist there (once their chunk is created).
   * One run at a time; a request during a run makes it look again when done.
   */
  private processCancels(): Promise<void> {
    if (this.cancelling !== undefined) {
      this.cancelAgain = true;
      return this.cancelling;
    }
    this.cancelling = (async () => {
      try {
        do {
          this.cancelAgain = false;
          await this.abortOwed();
        } while (this.cancelAgain && this.store !== undefined);
      } finally {
        this.cancelling = undefined;
      }
    })();
    return this.cancelling;
  }

  private async abortOwed(): Promise<void> {
    const store = this.store;
    if (store === undefined) return;
    const owed = store.pendingCancels().filter((task) => !this.creatingChunks.has(task.chunkId));
    if (owed.length === 0) return;
    if (!this.backend.abortsJobs) {
      store.cancelDone(owed.map((task) => task.seq));
      if (!this.warnedAboutAborts) {
        this.warnedAboutAborts = true;
        this.warn(
          `Cancelled tasks of batch ${this.batch} are dropped by the master, but their BOINC jobs go on: give the transport abortJobs (BOINC's remote abort_jobs, with the project URL and an authenticator) to abort them on the server`,
        );
      }
      return;
    }
    let aborted: readonly string[] = [];
    try {
      aborted = await this.backend.abort(owed.map((task) => task.jobName));
    } catch (error) {
      this.warn(`Aborting ${owed.length} cancelled BOINC jobs of batch ${this.batch} failed (tried again at the next cancel or start): ${(error as Error).message}`);
      return;
    }
    const done = new Set(aborted);
    if (this.store !== undefined) store.cancelDone(owed.filter((task) => done.has(task.jobName)).map((task) => task.seq));
  }

  doReceive(): AsyncIterable<readonly TransportEventV1[]> {
    return this.queue;
  }

  async doAcknowledge(taskIds: readonly string[]): Promise<void> {
    this.store?.acknowledge(taskIds);
  }

  async doClose(options: { readonly force: boolean }): Promise<void> {
    if (this.closed) return;
    this.stopSubmitting = options.force;
    // A chunk being created is finished (its create_work runs in a process group of its own and
    // would finish anyway): the store then knows its outcome.
    await this.submitting;
    // Aborts still owed stay in the store and are made by the next master; a forced close does
    // not wait for a slow server.
    if (!options.force) await this.cancelling;
    this.closed = true;
    await this.inbox?.stop();
    await this.backend.close();
    this.queue.end();
    this.store?.close();
    this.store = undefined;
  }
}


