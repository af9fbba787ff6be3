// The types of BOINC's remote job submission as tsmw's client speaks it
// (`html/user/submit_rpc_handler.php`, `html/user/job_file.php`, `get_output2.php`, `get_output3.php`).

/** A batch named by BOINC's id or by its name (names are what `query_batch2` takes). */
export type BatchReference = { readonly batchId: number } | { readonly batchName: string };

/**
 * An input file of a job, in the order of the input template's `<file_info>` entries.
 *
 * - `bytes`: content in memory. Sent `inline` in the `submit_batch` request when it is at most
 *   `inlineMaxBytes`, valid UTF-8 and text XML can carry; otherwise uploaded once through
 *   `job_file.php` as `jf_<md5>` and referenced as `local_staged`. `inline: false` forces the
 *   upload, `inline: true` refuses content that cannot go inline.
 * - `path`: a local file (large or shared), streamed, uploaded once as `jf_<md5>`.
 * - `staged`: a file already in the project's download hierarchy (`local_staged`).
 * - `remote`: a file the volunteer's client fetches from `url` (BOINC checks `nbytes` and `md5`).
 */
export type JobInputFile =
  | { readonly kind: 'bytes'; readonly data: Uint8Array; readonly inline?: boolean }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'staged'; readonly physicalName: string }
  | { readonly kind: 'remote'; readonly url: string; readonly nbytes: number; readonly md5: string };

/** One job (a BOINC workunit) of a batch. */
export interface BatchJob {
  /** The workunit's name: unique in the project, letters, digits, `_`, `.`, `-` (at most 200). */
  readonly name: string;
  readonly inputFiles?: readonly JobInputFile[];
  /** Passed to the app; no `"`, `<`, `>`, `&` or line breaks (BOINC writes it unescaped into a `create_work` line and the workunit's XML). */
  readonly commandLine?: string;
  /** The job's priority (higher is sent first). */
  readonly priority?: number;
  /**
   * The job's size estimate for the server's `estimate_batch` and logical-end-time arithmetic.
   * BOINC never passes it to `create_work`: to set a job's real bound give an `inputTemplate`
   * with `workunit.rscFpopsEst` (see `formatJobInputTemplate`).
   */
  readonly rscFpopsEst?: number;
  /** A job-level `<input_template>` (its workunit fields override the app's): what carries quorum and per-job bounds. */
  readonly inputTemplate?: string;
  /** A job-level `<output_template>`. */
  readonly outputTemplate?: string;
}

/**
 * Batch-level job parameters: the only ones `submit_batch` passes to `create_work`
 * (`<job_params>`). Quorum fields are not among them: put them in a job's `inputTemplate`.
 */
export interface JobParameters {
  readonly rscFpopsEst?: number;
  readonly rscFpopsBound?: number;
  readonly rscMemoryBound?: number;
  readonly rscDiskBound?: number;
  /** Seconds a host has to return a result. */
  readonly delayBound?: number;
}

/** What `submitBatch` sends. */
export interface BatchSubmission {
  readonly appName: string;
  /**
   * The batch to create (a stable name lets a restarted master find it again; without one BOINC
   * names it `user:app:date`). A batch of that name still in state `init` is reused.
   */
  readonly batchName?: string;
  /** An existing batch in state `init` (from `createBatch`) to put the jobs in, instead of a name. */
  readonly batchId?: number;
  readonly jobs: readonly BatchJob[];
  readonly jobParameters?: JobParameters;
  /** Priority of every job of the batch (a job's own `priority` wins). */
  readonly priority?: number;
  /** Run the jobs with this app version only. */
  readonly appVersionNum?: number;
  /** A template file in the project's `templates/` to use instead of `<app>_in`. */
  readonly inputTemplateFile?: string;
  /** A template file in the project's `templates/` to use instead of `<app>_out`. */
  readonly outputTemplateFile?: string;
  /** Unix time after which BOINC may delete the batch (only when the batch is created here). */
  readonly expireTime?: number;
  /** Unix time after which uploaded job files may be deleted once no active batch uses them (0: keep them while a batch uses them). */
  readonly fileDeleteTime?: number;
}

/** What `submitBatch` did. */
export interface SubmittedBatch {
  readonly batchId: number;
  /** Physical names uploaded by this call. */
  readonly uploadedFiles: readonly string[];
  /** Physical names the server already had (nothing uploaded twice). */
  readonly presentFiles: readonly string[];
  /** How many input files went inline. */
  readonly inlineFiles: number;
}

/** BOINC's batch states (`html/inc/submit_db.inc`). */
export type BatchState = 'init' | 'in-progress' | 'complete' | 'aborted' | 'retired' | 'unknown';

/** A job's state as `query_batch` reports it with job details. */
export type JobStatus = 'done' | 'in-progress' | 'queued' | 'error';

export interface BatchJobStatus {
  /** The workunit id. */
  readonly id: number;
  readonly name: string;
  /** The canonical result's id, which `downloadOutput` takes; `undefined` until there is one. */
  readonly canonicalInstanceId: number | undefined;
  /** With job details only. A job reported but not yet validated shows `queued` on a real server. */
  readonly status?: JobStatus;
  /** With job details: the workunit's error bits in words (`too_many_error_results`, `cancelled`, ...). */
  readonly errors?: readonly string[];
  /** With job details: exit statuses of the instances that failed. */
  readonly exitStatuses?: readonly number[];
  /** With job details: CPU seconds of the canonical instance. */
  readonly cpuTime?: number;
}

/** `query_batch`'s answer. Times are Unix seconds (0: not set). */
export interface BatchStatus {
  readonly id: number;
  readonly name: string;
  readonly appName: string;
  readonly state: BatchState;
  /** BOINC's number for the state (0 init, 1 in progress, 2 complete, 3 aborted, 4 retired). */
  readonly stateCode: number;
  readonly createTime: number;
  readonly expireTime: number;
  readonly estimatedCompletionTime: number;
  readonly completionTime: number;
  readonly jobCount: number;
  readonly errorJobCount: number;
  /** 0..1: the share of jobs finished (successfully or not). */
  readonly fractionDone: number;
  readonly creditEstimate: number;
  readonly creditCanonical: number;
  /** With `cpuTime: true` only. */
  readonly totalCpuTime?: number;
  readonly jobs: readonly BatchJobStatus[];
}

/** A job's state in `query_batch2` (uppercase there). */
export type JobChangeStatus = 'done' | 'error' | 'in-progress' | 'unsent';

/** `query_batch2`'s answer: the jobs of each batch changed since `minModTime`. */
export interface BatchChanges {
  /** The server's clock when it answered (Unix seconds, fractional): the base of the next `minModTime`. */
  readonly serverTime: number;
  /**
   * What to pass as the next `minModTime` so that no change is missed: `serverTime` less a
   * margin, because BOINC compares whole seconds of the database's `mod_time` (a change in the
   * same second as the answer would otherwise be skipped). Jobs may be reported twice; never missed.
   */
  readonly nextMinModTime: number;
  readonly batches: readonly { readonly batchName: string; readonly jobs: readonly { readonly name: string; readonly status: JobChangeStatus }[] }[];
}

/** One instance (BOINC result) of a job, from `query_job`. */
export interface JobInstance {
  readonly id: number;
  readonly name: string;
  /** BOINC's words for the state ("In progress", "Completed and validated", ...). */
  readonly state: string;
  /** Sizes of the output files present on the server, once the instance is over. */
  readonly outputSizes: readonly number[];
}

/** `query_completed_job`'s answer. */
export interface CompletedJob {
  /** The workunit's error bits (0: none). */
  readonly errorMask: number;
  /** The error bits in words. */
  readonly errors: readonly string[];
  readonly canonicalResultId?: number;
  readonly errorResultId?: number;
  readonly exitStatus?: number;
  readonly elapsedTime?: number;
  readonly cpuTime?: number;
  /** What the app wrote to stderr on the volunteer's host, as BOINC stored it. */
  readonly stderrOut?: string;
}

/** An app's templates, from `get_templates`. */
export interface AppTemplates {
  /** The `<input_template>` element as the server has it. */
  readonly inputTemplate: string;
  /** The `<output_template>` element as the server has it. */
  readonly outputTemplate: string;
  /** How many input files a job of the app takes (the input template's `<file_info>` count). */
  readonly inputFileCount: number;
  /** How many output files a result of the app has. */
  readonly outputFileCount: number;
}

/** A file for `uploadFiles`: its physical name on the server and where its bytes are. */
export type UploadFile =
  | { readonly physicalName: string; readonly data: Uint8Array }
  | { readonly physicalName: string; readonly path: string };

/** What `uploadFiles` did. */
export interface UploadedFiles {
  readonly uploaded: readonly string[];
  readonly present: readonly string[];
}

/** One line of the client's log: what was asked, how it went. Never holds the authenticator. */
export interface SubmitRpcLogEntry {
  readonly operation: string;
  readonly attempt: number;
  readonly outcome: 'ok' | 'retry' | 'failed';
  readonly durationMs: number;
  readonly status?: number;
  /** The error's message, for `retry` and `failed`. */
  readonly error?: string;
  /** The pause before the next attempt, for `retry`. */
  readonly delayMs?: number;
}

export interface SubmitRpcClientOptions {
  /** The project's URL: where `submit_rpc_handler.php` lives (for example `https://boinc.example.org/myproject/`). */
  readonly url: string | URL;
  /** The submitting account's authenticator (it needs submit rights). Never logged, never in an error. */
  readonly authenticator: string;
  /** Time-out of one HTTP exchange, reply included (default 60,000 ms). */
  readonly timeoutMs?: number;
  /** Further attempts after a retryable failure (default 3). Calls that create things retry only when the request never reached the server. */
  readonly retries?: number;
  /** Back-off between attempts: doubling from `initialMs` (default 1,000) up to `maxMs` (default 30,000), with jitter. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Largest reply read (default 64 MiB). */
  readonly maxReplyBytes?: number;
  /** Largest input file sent inline in `submit_batch` (default 16 KiB); larger ones are uploaded. */
  readonly inlineMaxBytes?: number;
  /** Files per `upload_files` request (default 20: PHP's `max_file_uploads`). */
  readonly uploadMaxFiles?: number;
  /** Bytes per `upload_files` request (default 6 MiB, under PHP's default `post_max_size` of 8 MB; a larger file goes alone). */
  readonly uploadMaxBytes?: number;
  /** The fetch to use (default: Node's global fetch). */
  readonly fetch?: typeof globalThis.fetch;
  /** Receives one entry per attempt. */
  readonly log?: (entry: SubmitRpcLogEntry) => void;
}

/** Options of every call. */
export interface SubmitRpcCallOptions {
  /** Aborts the call (and its retries). */
  readonly signal?: AbortSignal | undefined;
}

/** Which of BOINC's output scripts to download through. */
export interface DownloadOutputOptions extends SubmitRpcCallOptions {
  /** The result (instance) id: a job's `canonicalInstanceId`. */
  readonly resultId: number;
  /** The output file's index in the result (default 0). */
  readonly fileIndex?: number;
  /** The size BOINC reported (`queryJob`'s `outputSizes`): checked when given. */
  readonly expectedBytes?: number;
  /**
   * `upload` (default): `get_output2.php?cmd=file`, the file where BOINC's upload handler put it
   * (`upload/`); needs an assimilator that leaves it there.
   * `batch-collect`: `get_output3.php?action=get_file`, for apps whose assimilator collects
   * outputs into `results/<batch>/` (BOINC's `batch_collect_assimilator`); cookie authentication.
   */
  readonly source?: 'upload' | 'batch-collect';
}

/** The client of BOINC's remote job submission. Every method throws typed errors only. */
export interface SubmitRpcClient {
  /** The project URL the client talks to (with a trailing slash). */
  readonly url: string;
  /** `ping`: the server and its database are up (BOINC does not check the authenticator here). */
  ping(options?: SubmitRpcCallOptions): Promise<void>;
  /** `create_batch`: an empty batch in state `init`, for uploads associated with it before `submitBatch`. */
  createBatch(batch: { readonly appName: string; readonly batchName?: string; readonly expireTime?: number }, options?: SubmitRpcCallOptions): Promise<{ readonly batchId: number }>;
  /** `query_files` + `upload_files` as needed + `submit_batch`: the jobs, their files uploaded at most once. */
  submitBatch(batch: BatchSubmission, options?: SubmitRpcCallOptions): Promise<SubmittedBatch>;
  /** `query_batch`: the batch and its jobs (with `jobDetails`, each job's status). */
  queryBatch(batch: BatchReference, query?: SubmitRpcCallOptions & { readonly jobDetails?: boolean; readonly cpuTime?: boolean }): Promise<BatchStatus>;
  /** `query_batch2`: only the jobs changed since `minModTime` (Unix seconds; 0 or absent: all), for batches named. */
  queryBatchChanges(query: SubmitRpcCallOptions & { readonly batchNames: readonly string[]; readonly minModTime?: number }): Promise<BatchChanges>;
  /** `query_job`: a job's instances, with the sizes of their output files. */
  queryJob(jobId: number, options?: SubmitRpcCallOptions): Promise<readonly JobInstance[]>;
  /** `query_completed_job`: how a finished job ended (error mask, exit status, stderr). */
  queryCompletedJob(jobName: string, options?: SubmitRpcCallOptions): Promise<CompletedJob>;
  /** `abort_jobs`: cancels jobs by name; returns the names BOINC reported aborted. */
  abortJobs(jobNames: readonly string[], options?: SubmitRpcCallOptions): Promise<readonly string[]>;
  /** `abort_batch`: cancels every job of the batch (finished ones then show `error`). */
  abortBatch(batch: BatchReference, options?: SubmitRpcCallOptions): Promise<void>;
  /** `retire_batch`: the batch is done with; BOINC may delete its files. */
  retireBatch(batch: BatchReference, options?: SubmitRpcCallOptions): Promise<void>;
  /** `get_templates`: an app's input and output templates (by app, or by one of its jobs). */
  getTemplates(of: { readonly appName: string } | { readonly jobName: string }, options?: SubmitRpcCallOptions): Promise<AppTemplates>;
  /** `job_file.php` `query_files`: which of these physical names the server lacks (and keeps the others for the batch). */
  queryFiles(physicalNames: readonly string[], query?: SubmitRpcCallOptions & { readonly batchId?: number; readonly deleteTime?: number }): Promise<readonly string[]>;
  /** `query_files` then `upload_files` for the absent ones, in requests PHP accepts. */
  uploadFiles(files: readonly UploadFile[], upload?: SubmitRpcCallOptions & { readonly batchId?: number; readonly deleteTime?: number }): Promise<UploadedFiles>;
  /** An output file of a result, its size checked against what BOINC reported. */
  downloadOutput(options: DownloadOutputOptions): Promise<Uint8Array>;
}
