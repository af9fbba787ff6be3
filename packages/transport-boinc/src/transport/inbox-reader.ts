import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvelopeTooLargeError, type TransportEventV1 } from '@tsmw/core';
import { BoincJobFailedError } from '../errors/boinc-job-failed-error.js';
import { CreateWorkError } from '../errors/create-work-error.js';
import { formatJobFailure } from '../error-mask.js';
import { parseJobName } from '../job-name.js';
import type { InboxErrorRecord } from '../programs/run-assimilator.js';
import type { BatchStore, StoredFailure, StoredTask } from '../store/batch-store.js';

const entryPattern = /^(tsmw_[A-Za-z0-9_.-]+)\.(out|error)$/;
const groupSize = 256;

export interface InboxReaderOptions {
  readonly batch: string;
  readonly batchDirectory: string;
  readonly store: BatchStore;
  readonly maxEnvelopeBytes: number;
  /** Hands events to the master. */
  readonly push: (event: TransportEventV1) => void;
  /** Resolves when the master has taken what was pushed (so results are read as fast as they are consumed). */
  readonly room: () => Promise<void>;
  /** Periodic scan interval (the inbox is also watched). */
  readonly scanIntervalMs: number;
  readonly warn: (message: string) => void;
}

/**
 * The only reader of a batch's inbox. The assimilator (on the server) or the remote poller puts
 * `<job>.out` (a result envelope) and `<job>.error` (JSON) there; the reader records each in the
 * store, moves outputs to `results/`, and delivers them. Watched (fs events) and scanned
 * periodically; a scan runs at most once at a time. An entry is recorded before it is moved or
 * removed, so a crash in between leaves it to the next scan, which finds it recorded and only
 * finishes the move: nothing is delivered twice as new, nothing is lost.
 */
export class InboxReader {
  readonly inbox: string;
  readonly resultsDirectory: string;
  private readonly rejectedDirectory: string;
  private watcher: FSWatcher | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: InboxReaderOptions) {
    this.inbox = join(options.batchDirectory, 'inbox');
    this.resultsDirectory = join(options.batchDirectory, 'results');
    this.rejectedDirectory = join(options.batchDirectory, 'rejected');
  }

  async prepare(): Promise<void> {
    await mkdir(this.inbox, { recursive: true });
    await mkdir(this.resultsDirectory, { recursive: true });
  }

  /** Starts watching and scanning. */
  start(): void {
    try {
      this.watcher = watch(this.inbox, { persistent: false }, () => this.nudge());
      this.watcher.on('error', (error) => this.options.warn(`watching ${this.inbox} failed (${error.message}); scanning every ${this.options.scanIntervalMs} ms only`));
    } catch (error) {
      this.options.warn(`cannot watch ${this.inbox} (${(error as Error).message}); scanning every ${this.options.scanIntervalMs} ms only`);
    }
    this.timer = setInterval(() => this.nudge(), this.options.scanIntervalMs);
    this.nudge();
  }

  /** Asks for a scan (now, or right after the one running). */
  nudge(): void {
    if (this.stopped) return;
    if (this.scanning !== undefined) {
      this.again = true;
      return;
    }
    this.scanning = this.scanLoop().finally(() => (this.scanning = undefined));
  }

  /** Scans until nothing new is found; resolves when idle. */
  async scanNow(): Promise<void> {
    this.nudge();
    while (this.scanning !== undefined) await this.scanning;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.scanning?.catch(() => {});
  }

  private async scanLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.scanOnce();
      } catch (error) {
        this.options.warn(`reading the inbox ${this.inbox} failed: ${(error as Error).message} (tried again at the next scan)`);
      }
    } while (this.again && !this.stopped);
  }

  private async scanOnce(): Promise<void> {
    const names = (await readdir(this.inbox)).filter((name) => entryPattern.test(name)).sort();
    for (let start = 0; start < names.length && !this.stopped; start += groupSize) {
      await this.processGroup(names.slice(start, start + groupSize));
      await this.options.room();
    }
  }

  private async processGroup(names: readonly string[]): Promise<void> {
    const store = this.options.store;
    type Arrival = { name: string; jobName: string; task: StoredTask; kind: 'out' | 'error'; failure?: StoredFailure };
    const arrivals: Arrival[] = [];
    for (const name of names) {
      const [, jobName, kind] = entryPattern.exec(name) as unknown as [string, string, 'out' | 'error'];
      const parts = parseJobName(jobName);
      const job = parts?.batch === this.options.batch ? store.job(jobName) : undefined;
      if (job === undefined) {
        await this.reject(name, 'it is not a job of this batch');
        continue;
      }
      const task = job.task;
      if (task.jobName !== jobName || (task.state !== 'creating' && task.state !== 'created')) {
        await this.settleLate(name, jobName, kind, task);
        continue;
      }
      const arrival: Arrival = { name, jobName, task, kind };
      if (kind === 'error') arrival.failure = await this.readErrorRecord(name, jobName);
      arrivals.push(arrival);
    }
    if (arrivals.length === 0) return;
    const recorded = store.recordArrivals(
      arrivals.map((arrival) =>
        arrival.kind === 'out'
          ? { seq: arrival.task.seq, jobName: arrival.jobName, resultFile: `results/${arrival.jobName}.out` }
          : { seq: arrival.task.seq, jobName: arrival.jobName, failure: arrival.failure! },
      ),
    );
    for (let index = 0; index < arrivals.length; index += 1) {
      const arrival = arrivals[index]!;
      if (!recorded[index]) continue; // settled meanwhile (a cancel): dropped by settleLate at the next scan
      if (arrival.kind === 'out') {
        await rename(join(this.inbox, arrival.name), join(this.resultsDirectory, `${arrival.jobName}.out`));
        await this.deliver({ ...arrival.task, state: 'returned', resultFile: `results/${arrival.jobName}.out` });
      } else {
        await rm(join(this.inbox, arrival.name), { force: true });
        this.options.push({ type: 'task-lost', taskId: arrival.task.taskId, error: failureError(arrival.jobName, arrival.failure!) });
      }
    }
  }

  /** An entry for a task that is not waiting for it: a stale job, a cancelled task, or one the store recorded before a crash. */
  private async settleLate(name: string, jobName: string, kind: 'out' | 'error', task: StoredTask): Promise<void> {
    const target = join(this.resultsDirectory, `${jobName}.out`);
    if (kind === 'out' && task.jobName === jobName && task.state === 'returned' && task.resultFile === `results/${jobName}.out`) {
      // Recorded, then the process died before the move: finish it (the result is delivered
      // with the other unacknowledged results at start).
      const present = await stat(target).then(() => true, () => false);
      if (!present) {
        await rename(join(this.inbox, name), target);
        return;
      }
    }
    await rm(join(this.inbox, name), { force: true });
  }

  private async reject(name: string, why: string): Promise<void> {
    await mkdir(this.rejectedDirectory, { recursive: true });
    await rename(join(this.inbox, name), join(this.rejectedDirectory, name)).catch(() => rm(join(this.inbox, name), { force: true }));
    this.options.warn(`${name} in ${this.inbox}: ${why}; moved to ${this.rejectedDirectory}`);
  }

  private async readErrorRecord(name: string, jobName: string): Promise<StoredFailure> {
    let record: Partial<InboxErrorRecord>;
    try {
      const text = await readFile(join(this.inbox, name), 'utf8');
      record = JSON.parse(text.length > 1_000_000 ? '{}' : text) as Partial<InboxErrorRecord>;
    } catch (error) {
      return { kind: 'output', message: `BOINC job ${jobName} failed, and its error record cannot be read: ${(error as Error).message}` };
    }
    const errorMask = typeof record.errorMask === 'number' ? record.errorMask : 0;
    const stderr = typeof record.stderr === 'string' ? record.stderr : undefined;
    if (record.kind === 'missing-output') {
      return { kind: 'output', message: `BOINC job ${jobName} finished but its output is missing on the server: ${record.detail ?? 'no detail'}`, errorMask };
    }
    return { kind: 'job-failed', message: formatJobFailure(jobName, errorMask, stderr), errorMask, ...(stderr === undefined ? {} : { stderr }) };
  }

  /**
   * Delivers a settled task's result or failure (again): after start, on a re-submission of its
   * key, or as it arrives. A result file that has gone is a lost task.
   */
  async deliver(task: StoredTask): Promise<void> {
    if (task.state === 'failed') {
      this.options.push({ type: 'task-lost', taskId: task.taskId, error: failureError(task.jobName, task.failure ?? { kind: 'output', message: `BOINC job ${task.jobName} failed` }) });
      return;
    }
    if (task.state !== 'returned' || task.resultFile === undefined) return;
    const path = join(this.options.batchDirectory, task.resultFile);
    let bytes: Uint8Array;
    try {
      const size = (await stat(path).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await rename(join(this.inbox, `${task.jobName}.out`), path); // recorded, not yet moved
        return stat(path);
      })).size;
      if (size > this.options.maxEnvelopeBytes) {
        this.options.push({ type: 'task-lost', taskId: task.taskId, error: new EnvelopeTooLargeError(size, this.options.maxEnvelopeBytes, `result of BOINC job ${task.jobName}`) });
        return;
      }
      const buffer = await readFile(path);
      // A plain Uint8Array over the same memory: bytes decoded from a Buffer would come back as Buffers.
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      const message = `The result of BOINC job ${task.jobName} was recorded but cannot be read from ${path}: ${(error as Error).message}`;
      this.options.push({ type: 'task-lost', taskId: task.taskId, error: new BoincJobFailedError(message, task.jobName, 0, undefined, { cause: error, retryable: true }) });
      return;
    }
    this.options.push({ type: 'task-result', taskId: task.taskId, bytes });
  }
}

/** The typed error of a stored failure. */
export function failureError(jobName: string, failure: StoredFailure): BoincJobFailedError | CreateWorkError {
  if (failure.kind === 'create-work') return new CreateWorkError(`BOINC job ${jobName} could not be created: ${failure.message}`, failure.exitStatus ?? null, failure.message);
  // BOINC already retried a job it gave up on (max_error_results, max_total_results); an output
  // missing on the server, or a chunk that could not be created for a passing reason, may succeed
  // when run again.
  const retryable = failure.kind === 'output';
  return new BoincJobFailedError(failure.message, jobName, failure.errorMask ?? 0, failure.stderr, { retryable });
}
