import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { BatchInUseError } from '../errors/batch-in-use-error.js';
import { BatchStoreError } from '../errors/batch-store-error.js';
import { loadSqliteEngine, openSqliteDatabase, type SqliteDatabase, type SqliteEngine, type SqliteEngineName } from './sqlite-database.js';

/**
 * Where a task is, as the batch store records it:
 * - `creating`: recorded and staged; its chunk's `create_work` (or `submit_batch`) has not been
 *   seen to succeed. A chunk in this state after a crash is resolved at the next start.
 * - `created`: BOINC has the job.
 * - `returned`: the result envelope is in the batch's `results/` (`resultFile`).
 * - `failed`: BOINC gave up on the job, or creating it failed (`failure`).
 * - `cancelled`: the master cancelled it; its result, if one comes, is dropped.
 */
export type StoredTaskState = 'creating' | 'created' | 'returned' | 'failed' | 'cancelled';

/** Why a task's job failed, as stored (and re-delivered as a typed error). */
export interface StoredFailure {
  /** `job-failed` (a BOINC error mask), `create-work` (creating the job failed), `output` (the output is missing or unreadable). */
  readonly kind: 'job-failed' | 'create-work' | 'output';
  readonly message: string;
  readonly errorMask?: number;
  readonly stderr?: string;
  readonly exitStatus?: number | null;
}

export interface StoredTask {
  /** Row number: the order tasks were first recorded in. */
  readonly seq: number;
  /** The key given to `submit`, or undefined for a task submitted without one. */
  readonly key: string | undefined;
  /** The task id results are delivered under (the latest submission that attached to it). */
  readonly taskId: string;
  readonly taskName: string;
  readonly inputHash: string | undefined;
  /** The master's attempt number of the latest submission (what its envelope carries). */
  readonly attempt: number;
  /** How many jobs were created for this task: the `_a<n>` of its job name (a retry, or a resubmission after a cancel, is a new job). */
  readonly generation: number;
  /** The job (workunit) of the current generation. */
  readonly jobName: string;
  readonly state: StoredTaskState;
  readonly deadline: number | undefined;
  readonly submittedAt: number;
  /** The result file, relative to the batch directory, once `returned`. */
  readonly resultFile: string | undefined;
  readonly failure: StoredFailure | undefined;
  /** The master handed the result to its user: not recovered or re-delivered unasked. */
  readonly acknowledged: boolean;
  /** A server-side abort is still owed (`requested`) or was done (`done`). */
  readonly cancel: 'none' | 'requested' | 'done';
  /** The chunk that created the current attempt's job. */
  readonly chunkId: number;
}

/** One task of a chunk about to be created. */
export interface NewTaskRecord {
  readonly key: string | undefined;
  readonly taskId: string;
  readonly taskName: string;
  readonly inputHash: string | undefined;
  readonly attempt: number;
  readonly generation: number;
  readonly jobName: string;
  readonly deadline: number | undefined;
  readonly submittedAt: number;
}

/** A chunk: the jobs of one `create_work --stdin` run (or one `submit_batch` request). */
export interface ChunkRecord {
  readonly id: number;
  readonly state: 'creating' | 'created' | 'failed';
  /** The backend's description of the run (for `create_work`: its batch-level arguments). */
  readonly plan: unknown;
  /** The job names, in their order in the run. */
  readonly jobNames: readonly string[];
  readonly pid: number | undefined;
  readonly pidStartTime: string | undefined;
}

export interface BatchStoreOptions {
  /** The store's file (`<batch directory>/batch.sqlite`). */
  readonly path: string;
  readonly batch: string;
  readonly app: string;
  /** `on-server` or `remote`: a batch is run one way. */
  readonly mode: 'on-server' | 'remote';
  /** The project home (on the server) or the project URL (remote): a batch belongs to one project. */
  readonly location: string;
  /** Reading only (tools, tests): no claim, no schema changes. */
  readonly readOnly?: boolean;
  /** The SQLite engine (tests); default `node:sqlite` where this Node has it, else better-sqlite3. */
  readonly engine?: SqliteEngine;
}

export interface BatchCounts {
  readonly total: number;
  readonly creating: number;
  readonly created: number;
  readonly returned: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly acknowledged: number;
}

const storeFormat = '1';

/** Stores claimed by this process (two masters of one process on one batch would read its inbox twice). */
const claimedHere = new Set<string>();

const schema = `
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('creating', 'created', 'failed')),
  plan TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  finished_at INTEGER,
  pid INTEGER,
  pid_start_time TEXT,
  detail TEXT
);
CREATE TABLE IF NOT EXISTS tasks (
  seq INTEGER PRIMARY KEY,
  task_key TEXT NOT NULL UNIQUE,
  keyed INTEGER NOT NULL CHECK (keyed IN (0, 1)),
  task_id TEXT NOT NULL,
  task_name TEXT NOT NULL,
  input_hash TEXT,
  attempt INTEGER NOT NULL CHECK (attempt >= 1),
  generation INTEGER NOT NULL CHECK (generation >= 1),
  job_name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('creating', 'created', 'returned', 'failed', 'cancelled')),
  deadline INTEGER,
  submitted_at INTEGER NOT NULL,
  result_file TEXT,
  failure TEXT,
  acknowledged INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1)),
  cancel TEXT NOT NULL DEFAULT 'none' CHECK (cancel IN ('none', 'requested', 'done')),
  chunk_id INTEGER NOT NULL REFERENCES chunks (id),
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_task_id ON tasks (task_id);
CREATE INDEX IF NOT EXISTS tasks_open ON tasks (acknowledged, state);
CREATE INDEX IF NOT EXISTS tasks_by_chunk ON tasks (chunk_id);
CREATE TABLE IF NOT EXISTS jobs (
  job_name TEXT PRIMARY KEY,
  task_seq INTEGER NOT NULL REFERENCES tasks (seq),
  attempt INTEGER NOT NULL,
  chunk_id INTEGER NOT NULL REFERENCES chunks (id),
  position INTEGER NOT NULL,
  remote_id INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_by_chunk ON jobs (chunk_id, position);
CREATE TABLE IF NOT EXISTS staged_files (
  physical_name TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,
  nbytes INTEGER NOT NULL,
  staged_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

interface TaskRow {
  seq: number;
  task_key: string;
  keyed: number;
  task_id: string;
  task_name: string;
  input_hash: string | null;
  attempt: number;
  generation: number;
  job_name: string;
  state: StoredTaskState;
  deadline: number | null;
  submitted_at: number;
  result_file: string | null;
  failure: string | null;
  acknowledged: number;
  cancel: 'none' | 'requested' | 'done';
  chunk_id: number;
}

/** The key a task is stored under: its own key, or (no key) its task id, kept apart by a prefix. */
export function storedTaskKey(key: string | undefined, taskId: string): string {
  return key === undefined ? `id:${taskId}` : `key:${key}`;
}

/**
 * The durable record of one batch (SQLite, in WAL mode with `synchronous=FULL`, through Node's
 * built-in `node:sqlite` or, on Node 20, better-sqlite3: see `sqlite-database.ts`): every task with its key, input hash, task id, job name, attempt, state,
 * deadline, result file and acknowledgement; every chunk of jobs handed to BOINC, recorded
 * BEFORE it is handed over (write-ahead), so that a crash at any moment leaves a record of
 * everything that may exist at BOINC. One master holds a batch at a time (`claim`).
 */
export class BatchStore {
  readonly path: string;
  readonly batch: string;
  /** The SQLite engine the store runs on (`node:sqlite`, or better-sqlite3 where this Node has none). */
  readonly engine: SqliteEngineName;
  private readonly database: SqliteDatabase;
  private readonly statements: ReturnType<BatchStore['prepareStatements']>;
  private claimed = false;

  private constructor(database: SqliteDatabase, options: BatchStoreOptions) {
    this.database = database;
    this.path = options.path;
    this.batch = options.batch;
    this.engine = database.engine;
    this.statements = this.prepareStatements();
  }

  /** Opens (creating when absent) the store of a batch, checking it belongs to this app, mode and project. */
  static open(options: BatchStoreOptions): BatchStore {
    // Without SQLite nothing can start: that error (SqliteUnavailableError) says what to install.
    const engine = options.engine ?? loadSqliteEngine();
    let database: SqliteDatabase;
    try {
      if (options.readOnly !== true) mkdirSync(dirname(options.path), { recursive: true });
      database = openSqliteDatabase(options.path, { readOnly: options.readOnly === true, busyTimeoutMs: 15_000, engine });
    } catch (error) {
      throw new BatchStoreError(`Cannot open the store of batch ${options.batch} (${options.path}): ${(error as Error).message}`, { cause: error });
    }
    try {
      if (options.readOnly !== true) {
        database.exec('PRAGMA journal_mode = WAL');
        database.exec('PRAGMA synchronous = FULL');
        database.exec('PRAGMA foreign_keys = ON');
        database.exec(schema);
      }
      const store = new BatchStore(database, options);
      if (options.readOnly !== true) store.checkIdentity(options);
      return store;
    } catch (error) {
      database.close();
      if (error instanceof BatchStoreError) throw error;
      throw new BatchStoreError(`The store of batch ${options.batch} (${options.path}) cannot be used: ${(error as Error).message}`, { cause: error });
    }
  }

  private checkIdentity(options: BatchStoreOptions): void {
    const expected: Record<string, string> = { format: storeFormat, batch: options.batch, app: options.app, mode: options.mode, location: options.location };
    this.database.transaction(() => {
      const rows = this.database.prepare('SELECT name, value FROM meta').all() as Array<{ name: string; value: string }>;
      const meta = new Map(rows.map((row) => [row.name, row.value]));
      if (meta.size === 0) {
        const insert = this.database.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
        for (const [name, value] of Object.entries(expected)) insert.run(name, value);
        insert.run('created_at', new Date().toISOString());
        return;
      }
      if (meta.get('format') !== storeFormat) {
        throw new BatchStoreError(`${options.path} has store format ${JSON.stringify(meta.get('format'))}; this version of @tsmw/transport-boinc reads format ${storeFormat}`);
      }
      for (const name of ['batch', 'app', 'mode', 'location'] as const) {
        if (meta.get(name) !== expected[name]) {
          const what = name === 'location' ? (options.mode === 'remote' ? 'project URL' : 'project') : name;
          throw new BatchStoreError(
            `Batch ${options.batch} belongs to ${what} ${JSON.stringify(meta.get(name))}, not ${JSON.stringify(expected[name])}: a batch is run by one app on one project in one mode; use another batch name`,
          );
        }
      }
    });
  }

  private prepareStatements() {
    const database = this.database;
    return {
      taskByKey: database.prepare('SELECT * FROM tasks WHERE task_key = ?'),
      taskBySeq: database.prepare('SELECT * FROM tasks WHERE seq = ?'),
      tasksById: database.prepare('SELECT * FROM tasks WHERE task_id = ?'),
      job: database.prepare('SELECT job_name, task_seq, attempt, chunk_id, position, remote_id FROM jobs WHERE job_name = ?'),
      insertChunk: database.prepare('INSERT INTO chunks (state, plan, recorded_at) VALUES (\'creating\', ?, ?)'),
      insertTask: database.prepare(
        `INSERT INTO tasks (task_key, keyed, task_id, task_name, input_hash, attempt, generation, job_name, state, deadline, submitted_at, chunk_id, updated_at)
         VALUES (@taskKey, @keyed, @taskId, @taskName, @inputHash, @attempt, @generation, @jobName, 'creating', @deadline, @submittedAt, @chunkId, @now)`,
      ),
      retryTask: database.prepare(
        `UPDATE tasks SET task_id = @taskId, task_name = @taskName, input_hash = @inputHash, attempt = @attempt, generation = @generation, job_name = @jobName, state = 'creating',
           deadline = @deadline, result_file = NULL, failure = NULL, acknowledged = 0, cancel = 'none', chunk_id = @chunkId, updated_at = @now
         WHERE seq = @seq`,
      ),
      insertJob: database.prepare('INSERT INTO jobs (job_name, task_seq, attempt, chunk_id, position) VALUES (?, ?, ?, ?, ?)'),
      chunk: database.prepare('SELECT * FROM chunks WHERE id = ?'),
      chunkJobs: database.prepare('SELECT job_name FROM jobs WHERE chunk_id = ? ORDER BY position'),
      unresolvedChunks: database.prepare('SELECT * FROM chunks WHERE state = \'creating\' ORDER BY id'),
      chunkStarted: database.prepare('UPDATE chunks SET pid = ?, pid_start_time = ? WHERE id = ?'),
      finishChunk: database.prepare('UPDATE chunks SET state = ?, finished_at = ?, detail = ? WHERE id = ?'),
      chunkTasksCreated: database.prepare('UPDATE tasks SET state = \'created\', updated_at = ? WHERE chunk_id = ? AND state = \'creating\''),
      jobTaskCreated: database.prepare(
        'UPDATE tasks SET state = \'created\', updated_at = ? WHERE seq = (SELECT task_seq FROM jobs WHERE job_name = ?) AND job_name = ? AND state = \'creating\'',
      ),
      setState: database.prepare('UPDATE tasks SET state = ?, result_file = ?, failure = ?, updated_at = ? WHERE seq = ?'),
      bindTaskId: database.prepare('UPDATE tasks SET task_id = ?, updated_at = ? WHERE seq = ?'),
      acknowledge: database.prepare('UPDATE tasks SET acknowledged = 1, updated_at = ? WHERE task_id = ? AND state IN (\'returned\', \'failed\', \'cancelled\')'),
      openTasks: database.prepare('SELECT * FROM tasks WHERE acknowledged = 0 AND state <> \'cancelled\' ORDER BY seq'),
      deliverable: database.prepare('SELECT * FROM tasks WHERE acknowledged = 0 AND state IN (\'returned\', \'failed\') ORDER BY seq'),
      deliverablePage: database.prepare('SELECT * FROM tasks WHERE acknowledged = 0 AND state IN (\'returned\', \'failed\') AND seq > ? ORDER BY seq LIMIT ?'),
      requestCancel: database.prepare(
        'UPDATE tasks SET state = \'cancelled\', cancel = CASE WHEN state IN (\'creating\', \'created\') THEN \'requested\' ELSE cancel END, updated_at = ? WHERE seq = ? AND state IN (\'creating\', \'created\')',
      ),
      createdChunkIds: database.prepare('SELECT id FROM chunks WHERE state = \'created\' ORDER BY id'),
      openChunkIds: database.prepare('SELECT DISTINCT chunk_id FROM tasks WHERE state = \'created\' ORDER BY chunk_id'),
      pendingCancels: database.prepare('SELECT * FROM tasks WHERE cancel = \'requested\' ORDER BY seq'),
      cancelDone: database.prepare('UPDATE tasks SET cancel = \'done\', updated_at = ? WHERE seq = ? AND cancel = \'requested\''),
      setRemoteId: database.prepare('UPDATE jobs SET remote_id = ? WHERE job_name = ?'),
      stagedFile: database.prepare('SELECT physical_name, sha256, nbytes FROM staged_files WHERE physical_name = ?'),
      recordStagedFile: database.prepare('INSERT OR REPLACE INTO staged_files (physical_name, sha256, nbytes, staged_at) VALUES (?, ?, ?, ?)'),
      counts: database.prepare(
        `SELECT COUNT(*) AS total,
           SUM(state = 'creating') AS creating, SUM(state = 'created') AS created, SUM(state = 'returned') AS returned,
           SUM(state = 'failed') AS failed, SUM(state = 'cancelled') AS cancelled, SUM(acknowledged) AS acknowledged
         FROM tasks`,
      ),
      meta: database.prepare('SELECT value FROM meta WHERE name = ?'),
      setMeta: database.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)'),
      deleteMeta: database.prepare('DELETE FROM meta WHERE name = ?'),
    };
  }

  // ---- ownership ----------------------------------------------------------------------------

  /**
   * Makes this process the batch's only master. Throws `BatchInUseError` while another live
   * process on this host holds it (or any process on another host: its liveness cannot be
   * checked from here). A holder that died (crashed, SIGKILLed) is taken over.
   */
  claim(): void {
    if (this.claimed) return;
    const path = resolve(this.path);
    if (claimedHere.has(path)) {
      throw new BatchInUseError(this.batch, { pid: process.pid, host: hostname() }, `Batch ${this.batch} is held by another master of this process: close it first, or give this master another batch name`);
    }
    const me = { pid: process.pid, host: hostname(), start: processStartTime(process.pid) ?? '' };
    this.database.transaction(() => {
      const holder = this.readHolder();
      if (holder !== undefined && !(holder.pid === me.pid && holder.host === me.host && holder.start === me.start)) {
        const alive = holder.host === me.host ? processStartTime(holder.pid) === holder.start && holder.start !== '' : true;
        if (alive) {
          const where = holder.host === me.host ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.host}`;
          throw new BatchInUseError(
            this.batch,
            { pid: holder.pid, host: holder.host },
            `Batch ${this.batch} is held by another master (${where}): stop it first, or give this master another batch name`,
          );
        }
      }
      this.statements.setMeta.run('holder', JSON.stringify(me));
    }, 'immediate');
    this.claimed = true;
    claimedHere.add(path);
  }

  private readHolder(): { pid: number; host: string; start: string } | undefined {
    const row = this.statements.meta.get('holder') as { value: string } | undefined;
    if (row === undefined) return undefined;
    try {
      const value = JSON.parse(row.value) as { pid: number; host: string; start: string };
      return typeof value.pid === 'number' && typeof value.host === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Gives the batch up (on close) and closes the database. */
  close(): void {
    if (!this.database.isOpen) return;
    if (this.claimed) {
      try {
        const holder = this.readHolder();
        if (holder?.pid === process.pid && holder.host === hostname()) this.statements.deleteMeta.run('holder');
      } catch {
        // closing must not fail because the holder row could not be cleared; the next claim checks liveness
      }
      this.claimed = false;
      claimedHere.delete(resolve(this.path));
    }
    this.database.close();
  }

  // ---- reading ------------------------------------------------------------------------------

  taskByKey(key: string | undefined, taskId: string): StoredTask | undefined {
    const row = this.statements.taskByKey.get(storedTaskKey(key, taskId)) as TaskRow | undefined;
    return row === undefined ? undefined : toStoredTask(row);
  }

  taskBySeq(seq: number): StoredTask | undefined {
    const row = this.statements.taskBySeq.get(seq) as TaskRow | undefined;
    return row === undefined ? undefined : toStoredTask(row);
  }

  tasksById(taskId: string): StoredTask[] {
    return (this.statements.tasksById.all(taskId) as TaskRow[]).map(toStoredTask);
  }

  /** The task a job belongs to and the attempt the job ran. */
  job(jobName: string): { task: StoredTask; attempt: number; chunkId: number; remoteId: number | undefined } | undefined {
    const row = this.statements.job.get(jobName) as { task_seq: number; attempt: number; chunk_id: number; remote_id: number | null } | undefined;
    if (row === undefined) return undefined;
    const task = this.taskBySeq(row.task_seq);
    if (task === undefined) return undefined;
    return { task, attempt: row.attempt, chunkId: row.chunk_id, remoteId: row.remote_id ?? undefined };
  }

  /** Tasks an earlier master submitted whose results were not acknowledged (still running, or in). */
  openTasks(): StoredTask[] {
    return (this.statements.openTasks.all() as TaskRow[]).map(toStoredTask);
  }

  /** Tasks whose result or failure is in and not acknowledged. */
  deliverableTasks(): StoredTask[] {
    return (this.statements.deliverable.all() as TaskRow[]).map(toStoredTask);
  }

  /** Up to `limit` deliverable tasks after row `afterSeq`, in order (to deliver a large batch page by page). */
  deliverablePage(afterSeq: number, limit: number): StoredTask[] {
    return (this.statements.deliverablePage.all(afterSeq, limit) as TaskRow[]).map(toStoredTask);
  }

  /** The chunks that have jobs at BOINC whose results are still to come. */
  openChunkIds(): number[] {
    return (this.statements.openChunkIds.all() as Array<{ chunk_id: number }>).map((row) => row.chunk_id);
  }

  /** Chunks BOINC has (all their jobs, or some). */
  createdChunkIds(): number[] {
    return (this.statements.createdChunkIds.all() as Array<{ id: number }>).map((row) => row.id);
  }

  /** Iterates open tasks without loading them all (for large batches). */
  *iterateOpenTasks(): IterableIterator<StoredTask> {
    for (const row of this.statements.openTasks.iterate() as IterableIterator<TaskRow>) yield toStoredTask(row);
  }

  counts(): BatchCounts {
    const row = this.statements.counts.get() as Record<string, number | null>;
    return {
      total: row['total'] ?? 0,
      creating: row['creating'] ?? 0,
      created: row['created'] ?? 0,
      returned: row['returned'] ?? 0,
      failed: row['failed'] ?? 0,
      cancelled: row['cancelled'] ?? 0,
      acknowledged: row['acknowledged'] ?? 0,
    };
  }

  // ---- chunks -------------------------------------------------------------------------------

  /**
   * Records a chunk and its tasks in one transaction, BEFORE the chunk is handed to BOINC.
   * `retries` are tasks the store holds whose new attempt this chunk creates.
   */
  recordChunk(plan: unknown, tasks: readonly NewTaskRecord[], retries: ReadonlyMap<string, number> = new Map()): number {
    const now = Date.now();
    return this.database.transaction(() => {
      const chunkId = Number(this.statements.insertChunk.run(JSON.stringify(plan), now).lastInsertRowid);
      tasks.forEach((task, position) => {
        const retrySeq = retries.get(task.jobName);
        const values = {
          taskKey: storedTaskKey(task.key, task.taskId),
          keyed: task.key === undefined ? 0 : 1,
          taskId: task.taskId,
          taskName: task.taskName,
          inputHash: task.inputHash ?? null,
          attempt: task.attempt,
          generation: task.generation,
          jobName: task.jobName,
          deadline: task.deadline ?? null,
          submittedAt: task.submittedAt,
          chunkId,
          now,
        };
        let seq: number;
        if (retrySeq === undefined) {
          seq = Number(this.statements.insertTask.run(values).lastInsertRowid);
        } else {
          this.statements.retryTask.run({ ...values, seq: retrySeq });
          seq = retrySeq;
        }
        this.statements.insertJob.run(task.jobName, seq, task.attempt, chunkId, position);
      });
      return chunkId;
    });
  }

  chunk(chunkId: number): ChunkRecord | undefined {
    const row = this.statements.chunk.get(chunkId) as ChunkRow | undefined;
    return row === undefined ? undefined : this.toChunk(row);
  }

  /** Chunks recorded but not seen to succeed or fail: after a crash, their outcome is unknown. */
  unresolvedChunks(): ChunkRecord[] {
    return (this.statements.unresolvedChunks.all() as ChunkRow[]).map((row) => this.toChunk(row));
  }

  private toChunk(row: ChunkRow): ChunkRecord {
    const jobNames = (this.statements.chunkJobs.all(row.id) as Array<{ job_name: string }>).map((job) => job.job_name);
    return {
      id: row.id,
      state: row.state,
      plan: JSON.parse(row.plan) as unknown,
      jobNames,
      pid: row.pid ?? undefined,
      pidStartTime: row.pid_start_time ?? undefined,
    };
  }

  /** Notes the process that creates a chunk (so that a later start can wait for it). */
  chunkStarted(chunkId: number, pid: number): void {
    this.statements.chunkStarted.run(pid, processStartTime(pid) ?? null, chunkId);
  }

  /** The whole chunk exists at BOINC. */
  chunkCreated(chunkId: number, detail = ''): void {
    const now = Date.now();
    this.database.transaction(() => {
      this.statements.finishChunk.run('created', now, detail, chunkId);
      this.statements.chunkTasksCreated.run(now, chunkId);
    });
  }

  /**
   * The chunk is settled job by job: `created` jobs exist at BOINC, the others failed with
   * `failure` (their tasks end `failed`, unless cancelled meanwhile).
   */
  chunkSettled(chunkId: number, created: readonly string[], failed: ReadonlyMap<string, StoredFailure>, detail = ''): void {
    const now = Date.now();
    this.database.transaction(() => {
      for (const jobName of created) this.statements.jobTaskCreated.run(now, jobName, jobName);
      for (const [jobName, failure] of failed) {
        const job = this.statements.job.get(jobName) as { task_seq: number } | undefined;
        if (job === undefined) continue;
        const row = this.statements.taskBySeq.get(job.task_seq) as TaskRow | undefined;
        if (row === undefined || row.job_name !== jobName || row.state !== 'creating') continue;
        this.statements.setState.run('failed', null, JSON.stringify(failure), now, row.seq);
      }
      this.statements.finishChunk.run(failed.size > 0 && created.length === 0 ? 'failed' : 'created', now, detail, chunkId);
    });
  }

  // ---- results ------------------------------------------------------------------------------

  /** Records a task's result file (relative to the batch directory); false if the task is not waiting for it (cancelled, another attempt, already in). */
  recordResult(seq: number, jobName: string, resultFile: string): boolean {
    return this.settle(seq, jobName, 'returned', resultFile, null);
  }

  /** Records a task's failure; false if the task is not waiting for it. */
  recordFailure(seq: number, jobName: string, failure: StoredFailure): boolean {
    return this.settle(seq, jobName, 'failed', null, JSON.stringify(failure));
  }

  private settle(seq: number, jobName: string, state: 'returned' | 'failed', resultFile: string | null, failure: string | null): boolean {
    return this.database.transaction(() => {
      const row = this.statements.taskBySeq.get(seq) as TaskRow | undefined;
      if (row === undefined || row.job_name !== jobName || (row.state !== 'created' && row.state !== 'creating')) return false;
      this.statements.setState.run(state, resultFile, failure, Date.now(), seq);
      return true;
    });
  }

  /**
   * Records what arrived for several jobs in one transaction; for each, whether the task was
   * waiting for it (its current job, not yet settled or cancelled).
   */
  recordArrivals(arrivals: ReadonlyArray<{ readonly seq: number; readonly jobName: string } & ({ readonly resultFile: string } | { readonly failure: StoredFailure })>): boolean[] {
    const now = Date.now();
    return this.database.transaction(() =>
      arrivals.map((arrival) => {
        const row = this.statements.taskBySeq.get(arrival.seq) as TaskRow | undefined;
        if (row === undefined || row.job_name !== arrival.jobName || (row.state !== 'created' && row.state !== 'creating')) return false;
        if ('resultFile' in arrival) this.statements.setState.run('returned', arrival.resultFile, null, now, arrival.seq);
        else this.statements.setState.run('failed', null, JSON.stringify(arrival.failure), now, arrival.seq);
        return true;
      }),
    );
  }

  /** A later submission of the task's key attached to it: results go to this id from now on. */
  bindTaskId(seq: number, taskId: string): void {
    this.statements.bindTaskId.run(taskId, Date.now(), seq);
  }

  /** The master handed these tasks' results to its user. */
  acknowledge(taskIds: readonly string[]): void {
    const now = Date.now();
    this.database.transaction(() => {
      for (const taskId of taskIds) this.statements.acknowledge.run(now, taskId);
    });
  }

  // ---- cancel -------------------------------------------------------------------------------

  /** Marks tasks cancelled; returns those whose job may exist at BOINC (a server-side abort is owed). */
  requestCancel(seqs: readonly number[]): StoredTask[] {
    const now = Date.now();
    return this.database.transaction(() => {
      const owed: StoredTask[] = [];
      for (const seq of seqs) {
        if (this.statements.requestCancel.run(now, seq).changes > 0) {
          const row = this.statements.taskBySeq.get(seq) as TaskRow;
          owed.push(toStoredTask(row));
        }
      }
      return owed;
    });
  }

  pendingCancels(): StoredTask[] {
    return (this.statements.pendingCancels.all() as TaskRow[]).map(toStoredTask);
  }

  cancelDone(seqs: readonly number[]): void {
    const now = Date.now();
    this.database.transaction(() => {
      for (const seq of seqs) this.statements.cancelDone.run(now, seq);
    });
  }

  // ---- remote ids and staged files --------------------------------------------------------------

  setRemoteIds(ids: ReadonlyMap<string, number>): void {
    this.database.transaction(() => {
      for (const [jobName, id] of ids) this.statements.setRemoteId.run(id, jobName);
    });
  }

  stagedFile(physicalName: string): { sha256: string; nbytes: number } | undefined {
    const row = this.statements.stagedFile.get(physicalName) as { sha256: string; nbytes: number } | undefined;
    return row === undefined ? undefined : { sha256: row.sha256, nbytes: row.nbytes };
  }

  recordStagedFiles(files: ReadonlyArray<{ physicalName: string; sha256: string; nbytes: number }>): void {
    const now = Date.now();
    this.database.transaction(() => {
      for (const file of files) this.statements.recordStagedFile.run(file.physicalName, file.sha256, file.nbytes, now);
    });
  }

  /** A free-form value of the batch (the remote batch id, ...). */
  meta(name: string): string | undefined {
    return (this.statements.meta.get(name) as { value: string } | undefined)?.value;
  }

  setMeta(name: string, value: string): void {
    this.statements.setMeta.run(name, value);
  }
}

interface ChunkRow {
  id: number;
  state: 'creating' | 'created' | 'failed';
  plan: string;
  pid: number | null;
  pid_start_time: string | null;
}

function toStoredTask(row: TaskRow): StoredTask {
  return {
    seq: row.seq,
    key: row.keyed === 1 ? row.task_key.slice('key:'.length) : undefined,
    taskId: row.task_id,
    taskName: row.task_name,
    inputHash: row.input_hash ?? undefined,
    attempt: row.attempt,
    generation: row.generation,
    jobName: row.job_name,
    state: row.state,
    deadline: row.deadline ?? undefined,
    submittedAt: row.submitted_at,
    resultFile: row.result_file ?? undefined,
    failure: row.failure === null ? undefined : (JSON.parse(row.failure) as StoredFailure),
    acknowledged: row.acknowledged === 1,
    cancel: row.cancel,
    chunkId: row.chunk_id,
  };
}

/**
 * A process's start time (field 22 of `/proc/<pid>/stat`, in clock ticks since boot), which
 * tells a live holder from a recycled pid; undefined when the process does not exist or has ended
 * and not been reaped (a zombie), or where
 * there is no `/proc`: then any recorded holder on this host counts as gone only when its pid is).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (Z) or dead (X) process holds nothing: a killed master whose parent has not reaped
    // it yet (an orphan under a PID 1 that never reaps) must not keep its batch locked.
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    try {
      process.kill(pid, 0);
      return 'alive';
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : undefined;
    }
  }
}
