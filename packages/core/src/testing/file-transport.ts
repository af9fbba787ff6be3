import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TaskKeyConflictError } from '../errors/task-key-conflict-error.js';
import { TransportError } from '../errors/transport-error.js';
import { assertBatchName } from '../master/batch-name.js';
import { indexTaskModule, type TaskRegistry } from '../task/task-module.js';
import type { TransportCapabilitiesV1 } from '../transport/capabilities.js';
import { createEventQueue, type EventQueue } from '../transport/event-queue.js';
import { toRecoveredTask } from '../transport/recovered-task.js';
import type { RecoveredTaskV1, SubmittedTaskV1, TransportEventV1, TransportStartOptionsV1, TransportV1 } from '../transport/transport-v1.js';
import { decodeValue } from '../wire/decode-value.js';
import { encodeValue } from '../wire/encode-value.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../wire/limits.js';
import { executeTaskEnvelope } from '../worker/execute-task-envelope.js';

export interface FileTransportOptions {
  /** Where batches live: `<directory>/<batch>/`. Created if missing. */
  readonly directory: string;
  /** How many tasks run at once in this process (default 2; 0: run none, leave them for `runFileTransportTasks`). */
  readonly concurrency?: number;
  /** The cap on one envelope with its files (default 64 MiB). */
  readonly maxEnvelopeBytes?: number;
  /**
   * fsync every file before it is renamed into place (default false). Renames alone keep the
   * batch whole when the process is killed at any moment; `sync` also survives a power cut, at
   * the price of a disk flush per task and per result.
   */
  readonly sync?: boolean;
}

/** The cap on a stored task (its envelope, files and record): what Node can read into one buffer. */
const STORED_TASK_MAX_BYTES = 2 ** 31 - 1;

/** One task as the batch directory keeps it (`tasks/<file>.task`, plain MessagePack). */
interface StoredTask {
  readonly taskId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly submittedAt: number;
  readonly key?: string;
  readonly inputHash?: string;
  readonly deadline?: number;
  readonly envelope: Uint8Array;
  readonly files: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array }>;
}

/** What the transport knows of a task of its batch. */
interface KnownTask {
  task: StoredTask;
  result: Uint8Array | undefined;
  acknowledged: boolean;
  cancelled: boolean;
}

/**
 * The durable reference transport: each batch is a directory; every task, result,
 * acknowledgement and cancel is a file written atomically (a temporary file, fsync, rename), so
 * a master killed at any moment loses nothing and a master started again with the same batch
 * finds everything. Tasks run in this process (core's executor, `concurrency` at a time) or, with
 * `concurrency: 0`, wait for `runFileTransportTasks` — a worker that runs while no master does.
 * Every creation of work is a file of its own (`tasks/<task>.<attempt>.<random>.task`, one
 * atomic rename), so tests can count duplicates from the directory alone.
 *
 * It is the yardstick of the durable conformance group; real durable transports (BOINC) keep
 * the same promises with their own stores.
 */
export function createFileTransport(options: FileTransportOptions): TransportV1 {
  if (typeof options?.directory !== 'string' || options.directory === '') throw new InvalidArgumentError('createFileTransport needs a directory');
  const concurrency = Math.max(0, Math.floor(options.concurrency ?? 2));
  const sync = options.sync === true;
  let maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  const capabilities: TransportCapabilitiesV1 = {
    cancel: true,
    progress: false,
    durable: true,
    checkpoint: false,
    files: true,
    latency: 'interactive',
    maxEnvelopeBytes,
    maxBatchSize: 512,
    maxInFlight: Number.POSITIVE_INFINITY,
  };
  const events: EventQueue<TransportEventV1> = createEventQueue();
  const known = new Map<string, KnownTask>();
  let batchDirectory = '';
  let registry: TaskRegistry | undefined;
  let moduleHash = '';
  let closed = false;
  const runner = createRunner();

  function createRunner() {
    const waiting: string[] = [];
    const running = new Map<string, AbortController>();
    let idle: (() => void) | undefined;
    const pump = (): void => {
      while (!closed && running.size < concurrency && waiting.length > 0) {
        const taskId = waiting.shift()!;
        const entry = known.get(taskId);
        if (entry === undefined || entry.cancelled || entry.result !== undefined || running.has(taskId)) continue;
        const controller = new AbortController();
        running.set(taskId, controller);
        void run(entry, controller).finally(() => {
          running.delete(taskId);
          pump();
        });
      }
      if (running.size === 0) idle?.();
    };
    const run = async (entry: KnownTask, controller: AbortController): Promise<void> => {
      const { task } = entry;
      const bytes = await executeTaskEnvelope(task.envelope, registry!, {
        signal: controller.signal,
        moduleHash,
        maxEnvelopeBytes,
        readFile: async (_taskId, name) => fileOf(task, name),
      });
      if (controller.signal.aborted || entry.cancelled || entry.task !== task) return; // cancelled, or replaced by a retry
      await writeAtomic(sync, batchDirectory, join('results', `${fileIdOf(task.taskId)}.result`), bytes);
      entry.result = bytes;
      if (!closed) events.push({ type: 'task-result', taskId: task.taskId, bytes });
    };
    return {
      add(taskId: string): void {
        if (concurrency === 0) return;
        waiting.push(taskId);
        pump();
      },
      cancel(taskId: string): void {
        running.get(taskId)?.abort();
      },
      async stop(force: boolean): Promise<void> {
        waiting.length = 0;
        if (force) for (const controller of running.values()) controller.abort();
        if (running.size > 0) await new Promise<void>((resolve) => (idle = resolve));
      },
    };
  }

  return {
    specificationVersion: 'v1',
    transportId: 'tsmw.file',
    capabilities,
    async doStart(start: TransportStartOptionsV1) {
      if (start.batch === undefined) throw new InvalidArgumentError('The file transport is durable: it needs a batch name');
      assertBatchName(start.batch);
      maxEnvelopeBytes = Math.min(maxEnvelopeBytes, start.maxEnvelopeBytes);
      batchDirectory = join(options.directory, start.batch);
      for (const folder of ['tasks', 'results', 'acknowledged', 'cancelled', 'tmp']) await mkdir(join(batchDirectory, folder), { recursive: true });
      await writeAtomic(sync, batchDirectory, 'module.msgpack', encodeValue({ url: start.taskModule.url, hash: start.taskModule.hash }));
      registry = indexTaskModule(await import(start.taskModule.url));
      moduleHash = start.taskModule.hash;
      const stored = await loadBatch(batchDirectory);
      const recovered: RecoveredTaskV1[] = [];
      for (const entry of stored) {
        known.set(entry.task.taskId, entry);
        if (entry.acknowledged || entry.cancelled) continue;
        const { task } = entry;
        recovered.push(toRecoveredTask(task));
        if (entry.result !== undefined) events.push({ type: 'task-result', taskId: task.taskId, bytes: entry.result });
        else runner.add(task.taskId);
      }
      return { recovered };
    },
    async doSubmit(tasks: readonly SubmittedTaskV1[]) {
      if (closed) throw new TransportError('The file transport is closed');
      for (const submitted of tasks) {
        const entry = known.get(submitted.taskId);
        if (entry !== undefined && !entry.cancelled && submitted.attempt <= entry.task.attempt) {
          // A task the batch holds: no new work.
          if (entry.task.taskName !== submitted.taskName || (submitted.inputHash !== undefined && entry.task.inputHash !== undefined && submitted.inputHash !== entry.task.inputHash)) {
            events.push({
              type: 'task-lost',
              taskId: submitted.taskId,
              error: new TaskKeyConflictError(submitted.key ?? submitted.taskId, `The key ${JSON.stringify(submitted.key ?? submitted.taskId)} already names another task or input in this batch`),
            });
          } else if (entry.result !== undefined) {
            events.push({ type: 'task-result', taskId: submitted.taskId, bytes: entry.result });
          }
          continue;
        }
        const files = await Promise.all(
          submitted.files.map(async (file) => ({ name: file.name, data: 'data' in file ? file.data : new Uint8Array(await readFile(file.path)) })),
        );
        const size = files.reduce((total, file) => total + file.data.byteLength, submitted.envelope.byteLength);
        if (size > maxEnvelopeBytes) {
          events.push({ type: 'task-lost', taskId: submitted.taskId, error: new EnvelopeTooLargeError(size, maxEnvelopeBytes) });
          continue;
        }
        const task: StoredTask = {
          taskId: submitted.taskId,
          taskName: submitted.taskName,
          attempt: submitted.attempt,
          submittedAt: Date.now(),
          envelope: submitted.envelope,
          files,
          ...(submitted.key === undefined ? {} : { key: submitted.key }),
          ...(submitted.inputHash === undefined ? {} : { inputHash: submitted.inputHash }),
          ...(submitted.deadline === undefined ? {} : { deadline: submitted.deadline }),
        };
        const fileId = fileIdOf(task.taskId);
        await rm(join(batchDirectory, 'results', `${fileId}.result`), { force: true });
        await rm(join(batchDirectory, 'cancelled', fileId), { force: true });
        // One rename creates the work and records it: a file per creation, never overwritten.
        const name = `${fileId}.${task.attempt}.${randomBytes(4).toString('hex')}.task`;
        await writeAtomic(sync, batchDirectory, join('tasks', name), encodeValue(task, STORED_TASK_MAX_BYTES, 'stored task'));
        known.set(task.taskId, { task, result: undefined, acknowledged: false, cancelled: false });
        runner.add(task.taskId);
      }
    },
    async doCancel(taskIds) {
      for (const taskId of taskIds) {
        const entry = known.get(taskId);
        if (entry === undefined || entry.result !== undefined) continue;
        entry.cancelled = true;
        await writeAtomic(sync, batchDirectory, join('cancelled', fileIdOf(taskId)), new Uint8Array(0));
        runner.cancel(taskId);
      }
    },
    async doAcknowledge(taskIds) {
      for (const taskId of taskIds) {
        const entry = known.get(taskId);
        if (entry === undefined || entry.acknowledged) continue;
        entry.acknowledged = true;
        await writeAtomic(sync, batchDirectory, join('acknowledged', fileIdOf(taskId)), new Uint8Array(0));
      }
    },
    doReceive() {
      return events;
    },
    async doClose({ force }) {
      await runner.stop(force);
      closed = true;
      events.end();
    },
  };
}

/**
 * Runs every task of a batch that has no result yet, in this process, and returns how many
 * ran: what a worker does while no master runs (a volunteer's host finishing work at night).
 */
export async function runFileTransportTasks(options: { readonly directory: string; readonly batch: string; readonly maxEnvelopeBytes?: number; readonly sync?: boolean }): Promise<number> {
  assertBatchName(options.batch);
  const batchDirectory = join(options.directory, options.batch);
  const module = decodeValue(await readFile(join(batchDirectory, 'module.msgpack'))) as { url: string; hash: string };
  const registry = indexTaskModule(await import(module.url));
  let ran = 0;
  for (const entry of await loadBatch(batchDirectory)) {
    if (entry.result !== undefined || entry.cancelled) continue;
    const { task } = entry;
    const bytes = await executeTaskEnvelope(task.envelope, registry, {
      moduleHash: module.hash,
      maxEnvelopeBytes: options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES,
      readFile: async (_taskId, name) => fileOf(task, name),
    });
    await writeAtomic(options.sync === true, batchDirectory, join('results', `${fileIdOf(task.taskId)}.result`), bytes);
    ran += 1;
  }
  return ran;
}

/** How many times work was created for each task id of a batch (each creation is a task file of its own). */
export async function countFileTransportWork(options: { readonly directory: string; readonly batch: string }): Promise<Map<string, number>> {
  assertBatchName(options.batch);
  const counts = new Map<string, number>();
  const tasksDirectory = join(options.directory, options.batch, 'tasks');
  let names: string[];
  try {
    names = await readdir(tasksDirectory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return counts;
    throw error;
  }
  for (const name of names) {
    if (!name.endsWith('.task')) continue;
    const task = decodeValue(await readFile(join(tasksDirectory, name)), STORED_TASK_MAX_BYTES, 'stored task') as StoredTask;
    counts.set(task.taskId, (counts.get(task.taskId) ?? 0) + 1);
  }
  return counts;
}

async function loadBatch(batchDirectory: string): Promise<KnownTask[]> {
  const names = await readdir(join(batchDirectory, 'tasks'));
  const results = new Set(await readdir(join(batchDirectory, 'results')));
  const acknowledged = new Set(await readdir(join(batchDirectory, 'acknowledged')));
  const cancelled = new Set(await readdir(join(batchDirectory, 'cancelled')));
  // The newest attempt of each task (`<task>.<attempt>.<random>.task`).
  const newest = new Map<string, { name: string; attempt: number }>();
  for (const name of names) {
    const match = /^([0-9a-f]{40})\.(\d+)\.[0-9a-f]+\.task$/.exec(name);
    if (match === null) continue;
    const attempt = Number(match[2]);
    const known = newest.get(match[1]!);
    if (known === undefined || attempt > known.attempt) newest.set(match[1]!, { name, attempt });
  }
  const entries: KnownTask[] = [];
  for (const [fileId, { name }] of newest) {
    const task = decodeValue(await readFile(join(batchDirectory, 'tasks', name)), STORED_TASK_MAX_BYTES, 'stored task') as StoredTask;
    const result = results.has(`${fileId}.result`) ? new Uint8Array(await readFile(join(batchDirectory, 'results', `${fileId}.result`))) : undefined;
    entries.push({ task, result, acknowledged: acknowledged.has(fileId), cancelled: cancelled.has(fileId) });
  }
  return entries.sort((a, b) => a.task.submittedAt - b.task.submittedAt);
}

function fileOf(task: StoredTask, name: string): Uint8Array {
  const file = task.files.find((candidate) => candidate.name === name);
  if (file === undefined) throw new TransportError(`Task ${task.taskId} has no data file ${name}`);
  return file.data;
}

/** A file name for a task id (ids may hold characters file systems dislike). */
function fileIdOf(taskId: string): string {
  return createHash('sha256').update(taskId).digest('hex').slice(0, 40);
}

/** Writes `bytes` to `<directory>/<name>` so that the file is either absent or whole after a kill (and, with `sync`, a power cut). */
async function writeAtomic(sync: boolean, directory: string, name: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(directory, 'tmp', `${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(bytes);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(directory, name));
}
