import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '@tsmw/core';
import { assertAppName } from '../project/tsmw-project-layout.js';
import { BoincRpcError } from '../xml/boinc-rpc-error.js';
import { defaultMaxReplyBytes, type ReadBoincReplyOptions } from '../xml/read-boinc-reply.js';
import { isXmlText } from '../xml/xml-text.js';
import { BoincOutputError } from './boinc-output-error.js';
import { backoffDelay, exchange, type HttpExchangeSettings, type HttpReply } from './http-exchange.js';
import { jobFileName, md5Hex, md5OfFile } from './job-file-name.js';
import { createRedactor } from './redact-secret.js';
import {
  readAbortBatchReply,
  readAbortJobsReply,
  readBatchIdReply,
  readGetTemplatesReply,
  readPingReply,
  readQueryBatchChangesReply,
  readQueryBatchReply,
  readQueryCompletedJobReply,
  readQueryFilesReply,
  readQueryJobReply,
  readRetireBatchReply,
  readUploadFilesReply,
} from './submit-rpc-replies.js';
import {
  formatAbortJobsRequest,
  formatBatchOperationRequest,
  formatCreateBatchRequest,
  formatGetTemplatesRequest,
  formatJobFileRequest,
  formatPingRequest,
  formatQueryBatchChangesRequest,
  formatQueryBatchRequest,
  formatQueryCompletedJobRequest,
  formatQueryJobRequest,
  formatSubmitBatchRequest,
  type SubmitInputFile,
  type SubmitJob,
} from './submit-rpc-requests.js';
import type {
  BatchReference,
  BatchSubmission,
  DownloadOutputOptions,
  JobInputFile,
  SubmitRpcCallOptions,
  SubmitRpcClient,
  SubmitRpcClientOptions,
  SubmittedBatch,
  UploadFile,
  UploadedFiles,
} from './submit-rpc-types.js';
import { assertAuthenticator, assertBatchName, assertBatchReference, assertId, assertInteger, assertPhysicalName } from './submit-rpc-values.js';

const submitRpcPath = 'submit_rpc_handler.php';
const jobFilePath = 'job_file.php';

const defaults = {
  timeoutMs: 60_000,
  retries: 3,
  backoffInitialMs: 1_000,
  backoffMaxMs: 30_000,
  inlineMaxBytes: 16 * 1024,
  uploadMaxFiles: 20,
  uploadMaxBytes: 6 * 1024 * 1024,
} as const;

function positiveOption(value: number | undefined, fallback: number, name: string, minimum = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
    throw new InvalidArgumentError(`${name} must be a number of at least ${minimum}, not ${String(value)}`);
  }
  return value;
}

function projectUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`url ${JSON.stringify(String(url))} is not a URL (give the project's URL, for example https://boinc.example.org/myproject/)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidArgumentError(`url must be http: or https:, not ${parsed.protocol}`);
  }
  if (parsed.search !== '' || parsed.hash !== '') throw new InvalidArgumentError('url must be the project URL, without a query or fragment');
  if (!parsed.pathname.endsWith('/')) parsed.pathname = `${parsed.pathname}/`;
  return parsed;
}

/** Content that can go inline: small, valid UTF-8, text XML can carry; BOINC refuses empty inline files. */
function inlineText(data: Uint8Array, maxBytes: number): string | undefined {
  if (data.byteLength === 0 || data.byteLength > maxBytes) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    return undefined;
  }
  return isXmlText(text) ? text : undefined;
}

interface PlannedUpload {
  readonly file: UploadFile;
  readonly size: number;
}

/** Splits uploads into requests PHP accepts: at most `maxFiles` files and `maxBytes` bytes each (a larger file alone). */
function uploadChunks(uploads: readonly PlannedUpload[], maxFiles: number, maxBytes: number): PlannedUpload[][] {
  const chunks: PlannedUpload[][] = [];
  let current: PlannedUpload[] = [];
  let bytes = 0;
  for (const upload of uploads) {
    if (current.length > 0 && (current.length >= maxFiles || bytes + upload.size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(upload);
    bytes += upload.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * A client of BOINC's remote job submission (`submit_rpc_handler.php`, `job_file.php`,
 * `get_output2.php`, `get_output3.php`) for a project at `url`, acting as the account whose
 * `authenticator` is given. Every call has a time-out; calls that are safe to repeat are retried
 * with back-off on failures that may pass (time-outs, network errors, HTTP 5xx, cut-off replies,
 * BOINC's "database unavailable"); calls that create things are retried only when the request
 * never reached the server. Failures are typed: `BoincRpcError` (BOINC's `<error>`),
 * `BoincXmlError` (a reply that is not the expected XML), `BoincRequestError` (HTTP level),
 * `BoincOutputError` (a download), `InvalidArgumentError` (a value BOINC could not carry).
 * The authenticator appears in no error, message or log entry.
 */
export function createSubmitRpcClient(options: SubmitRpcClientOptions): SubmitRpcClient {
  const { authenticator } = options;
  assertAuthenticator(authenticator);
  const redact = createRedactor(authenticator);
  const baseUrl = projectUrl(options.url);
  const fetchFunction = options.fetch ?? globalThis.fetch;
  if (typeof fetchFunction !== 'function') throw new InvalidArgumentError('fetch must be a function (Node 20 has a global fetch)');
  const settings: HttpExchangeSettings = {
    baseUrl,
    timeoutMs: positiveOption(options.timeoutMs, defaults.timeoutMs, 'timeoutMs'),
    retries: Math.floor(positiveOption(options.retries, defaults.retries, 'retries', 0)),
    backoffInitialMs: positiveOption(options.backoff?.initialMs, defaults.backoffInitialMs, 'backoff.initialMs', 0),
    backoffMaxMs: positiveOption(options.backoff?.maxMs, defaults.backoffMaxMs, 'backoff.maxMs', 0),
    maxReplyBytes: positiveOption(options.maxReplyBytes, defaultMaxReplyBytes, 'maxReplyBytes'),
    fetch: fetchFunction,
    log: options.log,
    redact,
  };
  const inlineMaxBytes = positiveOption(options.inlineMaxBytes, defaults.inlineMaxBytes, 'inlineMaxBytes', 0);
  const uploadMaxFiles = Math.floor(positiveOption(options.uploadMaxFiles, defaults.uploadMaxFiles, 'uploadMaxFiles'));
  const uploadMaxBytes = positiveOption(options.uploadMaxBytes, defaults.uploadMaxBytes, 'uploadMaxBytes');
  const replyOptions: ReadBoincReplyOptions = { maxBytes: settings.maxReplyBytes, redact };

  /** POSTs `request=<xml>` to a handler and reads the reply with `read`. */
  function rpc<T>(
    operation: string,
    xml: string,
    read: (body: Uint8Array) => T,
    call: { readonly idempotent: boolean; readonly signal?: AbortSignal | undefined; readonly path?: string },
  ): Promise<T> {
    return exchange(settings, {
      operation,
      path: call.path ?? submitRpcPath,
      method: 'POST',
      body: () => new URLSearchParams({ request: xml }),
      idempotent: call.idempotent,
      signal: call.signal,
      read: (reply: HttpReply) => {
        try {
          return read(reply.body);
        } catch (error) {
          // PHP drops a form larger than post_max_size, and BOINC then cannot parse an empty request.
          if (BoincRpcError.isInstance(error) && /can't parse request message:\s*$/.test(error.boincMessage) && xml.length > 1024 * 1024) {
            throw new BoincRpcError(`${error.message} (the request was ${xml.length} bytes: more than the server's PHP post_max_size?)`, {
              operation: error.operation,
              errorNumber: error.errorNumber,
              boincMessage: error.boincMessage,
            });
          }
          throw error;
        }
      },
    });
  }

  async function queryFiles(
    physicalNames: readonly string[],
    query: SubmitRpcCallOptions & { readonly batchId?: number; readonly deleteTime?: number } = {},
  ): Promise<readonly string[]> {
    if (physicalNames.length === 0) return [];
    const xml = formatJobFileRequest('query_files', authenticator, physicalNames, query);
    return rpc('query_files', xml, (body) => readQueryFilesReply(body, physicalNames, replyOptions), {
      idempotent: true,
      signal: query.signal,
      path: jobFilePath,
    });
  }

  async function sizeOf(file: UploadFile): Promise<number> {
    return 'data' in file ? file.data.byteLength : (await stat(file.path)).size;
  }

  /** One `upload_files` request: the XML, then the files as parts `file_0`, `file_1`... in the same order. */
  function uploadChunk(chunk: readonly PlannedUpload[], upload: { readonly batchId?: number; readonly deleteTime?: number; readonly signal?: AbortSignal | undefined }): Promise<void> {
    const names = chunk.map(({ file }) => file.physicalName);
    const xml = formatJobFileRequest('upload_files', authenticator, names, upload);
    return exchange(
      { ...settings, retries: 0 },
      {
        operation: 'upload_files',
        path: jobFilePath,
        method: 'POST',
        body: async () => {
          const form = new FormData();
          form.append('request', xml);
          for (const [index, { file }] of chunk.entries()) {
            const blob = 'data' in file ? new Blob([file.data], { type: 'application/octet-stream' }) : await openAsBlob(file.path, { type: 'application/octet-stream' });
            form.append(`file_${index}`, blob, file.physicalName);
          }
          return form;
        },
        // A repeated upload of a file the server took is an error there (job_file names are
        // unique): retries go through uploadFiles, which asks again what is absent first.
        idempotent: false,
        signal: upload.signal,
        read: (reply) => readUploadFilesReply(reply.body, replyOptions),
      },
    );
  }

  async function uploadFiles(
    files: readonly UploadFile[],
    upload: SubmitRpcCallOptions & { readonly batchId?: number; readonly deleteTime?: number } = {},
  ): Promise<UploadedFiles> {
    const byName = new Map<string, UploadFile>();
    for (const file of files) {
      assertPhysicalName(file.physicalName);
      if (!byName.has(file.physicalName)) byName.set(file.physicalName, file);
    }
    const names = [...byName.keys()];
    const uploaded: string[] = [];
    let absent = await queryFiles(names, upload);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const planned = await Promise.all(absent.map(async (name) => {
          const file = byName.get(name) as UploadFile;
          return { file, size: await sizeOf(file) };
        }));
        for (const chunk of uploadChunks(planned, uploadMaxFiles, uploadMaxBytes)) {
          await uploadChunk(chunk, upload);
          for (const { file } of chunk) uploaded.push(file.physicalName);
        }
        break;
      } catch (error) {
        const retryable = (error as { isRetryable?: unknown }).isRetryable === true;
        if (!retryable || attempt > settings.retries) throw unwrapOutcome(error);
        await sleep(backoffDelay(attempt, settings.backoffInitialMs, settings.backoffMaxMs), undefined, upload.signal === undefined ? undefined : { signal: upload.signal });
        // Ask again: what the failed request did deliver must not be sent twice.
        absent = await queryFiles(absent, upload);
      }
    }
    const uploadedSet = new Set(uploaded);
    return { uploaded, present: names.filter((name) => !uploadedSet.has(name)) };
  }

  /** The batch named `batchName`, created in state `init` when it does not exist; refused when it already has jobs. */
  async function ensureBatch(appName: string, batchName: string | undefined, expireTime: number | undefined, signal: AbortSignal | undefined): Promise<number> {
    if (batchName !== undefined) {
      try {
        const existing = await queryBatch({ batchName }, { signal });
        if (existing.appName !== '' && existing.appName !== appName) {
          throw new InvalidArgumentError(`batch ${JSON.stringify(batchName)} already exists on the server for app ${JSON.stringify(existing.appName)}, not ${JSON.stringify(appName)}`);
        }
        if (existing.state !== 'init') {
          throw new InvalidArgumentError(
            `batch ${JSON.stringify(batchName)} already exists on the server in state ${existing.state} with ${existing.jobCount} jobs: a BOINC batch takes its jobs once, use another batch name`,
          );
        }
        return existing.id;
      } catch (error) {
        if (!(BoincRpcError.isInstance(error) && /no such batch/i.test(error.boincMessage))) throw error;
      }
    }
    const xml = formatCreateBatchRequest(authenticator, { appName, ...(batchName === undefined ? {} : { batchName }), ...(expireTime === undefined ? {} : { expireTime }) });
    return rpc('create_batch', xml, (body) => readBatchIdReply(body, 'create_batch', replyOptions), { idempotent: false, signal });
  }

  async function queryBatch(batch: BatchReference, query: SubmitRpcCallOptions & { readonly jobDetails?: boolean; readonly cpuTime?: boolean } = {}) {
    const xml = formatQueryBatchRequest(authenticator, batch, query);
    return rpc('query_batch', xml, (body) => readQueryBatchReply(body, replyOptions), { idempotent: true, signal: query.signal });
  }

  async function submitBatch(batch: BatchSubmission, options: SubmitRpcCallOptions = {}): Promise<SubmittedBatch> {
    assertAppName(batch.appName);
    if (!Array.isArray(batch.jobs) || batch.jobs.length === 0) throw new InvalidArgumentError('submitBatch needs at least one job');
    if (batch.batchId !== undefined && batch.batchName !== undefined) throw new InvalidArgumentError('give batchId or batchName, not both');
    if (batch.batchId !== undefined) assertId(batch.batchId, 'batchId');
    if (batch.batchName !== undefined) assertBatchName(batch.batchName);
    if (batch.fileDeleteTime !== undefined) assertInteger(batch.fileDeleteTime, 'fileDeleteTime', 0);

    // Decide how each input file travels; files to upload are keyed by content, so shared ones go once.
    const uploads = new Map<string, UploadFile>();
    let inlineFiles = 0;
    const hashedPaths = new Map<string, string>();
    const jobs: SubmitJob[] = [];
    for (const [jobIndex, job] of batch.jobs.entries()) {
      const inputFiles: SubmitInputFile[] = [];
      for (const [fileIndex, file] of (job.inputFiles ?? []).entries()) {
        inputFiles.push(await planInputFile(file, `job ${jobIndex}'s input file ${fileIndex}`));
      }
      jobs.push({
        name: job.name,
        inputFiles,
        ...(job.commandLine === undefined ? {} : { commandLine: job.commandLine }),
        ...(job.priority === undefined ? {} : { priority: job.priority }),
        ...(job.rscFpopsEst === undefined ? {} : { rscFpopsEst: job.rscFpopsEst }),
        ...(job.inputTemplate === undefined ? {} : { inputTemplate: job.inputTemplate }),
        ...(job.outputTemplate === undefined ? {} : { outputTemplate: job.outputTemplate }),
      });
    }

    async function planInputFile(file: JobInputFile, where: string): Promise<SubmitInputFile> {
      switch (file.kind) {
        case 'bytes': {
          if (!(file.data instanceof Uint8Array)) throw new InvalidArgumentError(`${where}: data must be a Uint8Array`);
          const text = file.inline === false ? undefined : inlineText(file.data, file.inline === true ? Number.MAX_SAFE_INTEGER : inlineMaxBytes);
          if (text !== undefined) {
            inlineFiles += 1;
            return { mode: 'inline', source: text };
          }
          if (file.inline === true) throw new InvalidArgumentError(`${where} cannot go inline: it is empty, not UTF-8, or holds characters XML cannot carry`);
          const physicalName = jobFileName(md5Hex(file.data));
          if (!uploads.has(physicalName)) uploads.set(physicalName, { physicalName, data: file.data });
          return { mode: 'local_staged', source: physicalName };
        }
        case 'path': {
          let physicalName = hashedPaths.get(file.path);
          if (physicalName === undefined) {
            try {
              physicalName = jobFileName((await md5OfFile(file.path)).md5);
            } catch (error) {
              throw new InvalidArgumentError(`${where}: cannot read ${file.path}: ${(error as Error).message}`, { cause: error });
            }
            hashedPaths.set(file.path, physicalName);
          }
          if (!uploads.has(physicalName)) uploads.set(physicalName, { physicalName, path: file.path });
          return { mode: 'local_staged', source: physicalName };
        }
        case 'staged':
          return { mode: 'local_staged', source: file.physicalName };
        case 'remote':
          return { mode: 'remote', url: file.url, nbytes: file.nbytes, md5: file.md5 };
        default:
          throw new InvalidArgumentError(`${where}: unknown kind ${JSON.stringify((file as { kind?: unknown }).kind)} (bytes, path, staged or remote)`);
      }
    }

    // Check every value before anything reaches the server.
    const request = (reference: BatchReference | undefined) =>
      formatSubmitBatchRequest(authenticator, {
        appName: batch.appName,
        ...(reference === undefined ? {} : { batch: reference }),
        jobs,
        ...(batch.jobParameters === undefined ? {} : { jobParameters: batch.jobParameters }),
        ...(batch.priority === undefined ? {} : { priority: batch.priority }),
        ...(batch.appVersionNum === undefined ? {} : { appVersionNum: batch.appVersionNum }),
        ...(batch.inputTemplateFile === undefined ? {} : { inputTemplateFile: batch.inputTemplateFile }),
        ...(batch.outputTemplateFile === undefined ? {} : { outputTemplateFile: batch.outputTemplateFile }),
      });
    request(undefined);

    // A named batch is looked up first (a rerun after an unknown outcome finds it), created when
    // absent; files to upload are associated with it, so that BOINC keeps them while it is active.
    let batchId = batch.batchId;
    if (batchId === undefined && (batch.batchName !== undefined || uploads.size > 0)) {
      batchId = await ensureBatch(batch.appName, batch.batchName, batch.expireTime, options.signal);
    }
    let uploaded: UploadedFiles = { uploaded: [], present: [] };
    if (uploads.size > 0) {
      uploaded = await uploadFiles([...uploads.values()], {
        ...(batchId === undefined ? {} : { batchId }),
        ...(batch.fileDeleteTime === undefined ? {} : { deleteTime: batch.fileDeleteTime }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    }
    // No name, no id, no uploads: BOINC creates and names the batch itself (`user:app:date`).
    const xml = request(batchId === undefined ? undefined : { batchId });
    const submittedId = await rpc('submit_batch', xml, (body) => readBatchIdReply(body, 'submit_batch', replyOptions), { idempotent: false, signal: options.signal });
    return { batchId: submittedId, uploadedFiles: uploaded.uploaded, presentFiles: uploaded.present, inlineFiles };
  }

  async function downloadOutput(download: DownloadOutputOptions): Promise<Uint8Array> {
    const { resultId } = download;
    const fileIndex = download.fileIndex ?? 0;
    assertId(resultId, 'resultId');
    assertInteger(fileIndex, 'fileIndex', 0);
    if (download.expectedBytes !== undefined) assertInteger(download.expectedBytes, 'expectedBytes', 0);
    const source = download.source ?? 'upload';
    if (source !== 'upload' && source !== 'batch-collect') throw new InvalidArgumentError(`source must be "upload" or "batch-collect", not ${JSON.stringify(source)}`);
    const operation = source === 'upload' ? 'get_output2 file' : 'get_output3 get_file';
    const read = (reply: HttpReply): Uint8Array => {
      // Both scripts send a file through do_download(): `Content-Type: application/octet-stream`
      // and `Content-Disposition: attachment`; anything else is their refusal (`die("bad auth")`,
      // `error_page()`), printed as a page with status 200.
      const disposition = reply.headers.get('content-disposition') ?? '';
      const type = reply.headers.get('content-type') ?? '';
      if (!/attachment/i.test(disposition) && !/^application\/octet-stream/i.test(type)) {
        // Redacted whole before any cut: a cut could split the authenticator past recognition.
        const text = redact(new TextDecoder('utf-8', { fatal: false }).decode(reply.body)).slice(0, 4096);
        const title = /<title[^>]{0,200}>([^<]{0,200})<\/title>/i.exec(text)?.[1];
        const page = text.replace(/<head[^]{0,4096}?<\/head>/i, '').replace(/<[^>]{0,300}>/g, ' ');
        const words = (title === undefined ? page : `${title} ${page}`).replace(/\s+/g, ' ').trim().slice(0, 200);
        throw new BoincOutputError(`${operation}: result ${resultId} file ${fileIndex}: the server sent no file but: ${words === '' ? '(an empty page)' : words}`, {
          resultId,
          fileIndex,
          retryable: false,
        });
      }
      const body = reply.body;
      const expected = download.expectedBytes;
      if (expected === undefined || body.byteLength === expected) return body;
      // get_output2.php cmd=file sends a one-output result's file twice (its do_result_aux falls
      // through): take the first copy when the rest is the same file again.
      if (body.byteLength > expected && Buffer.from(body.subarray(body.byteLength - expected)).equals(body.subarray(0, expected))) {
        return body.subarray(0, expected);
      }
      throw new BoincOutputError(`${operation}: result ${resultId} file ${fileIndex} is ${body.byteLength} bytes; BOINC reported ${expected}`, { resultId, fileIndex });
    };
    if (source === 'upload') {
      return exchange(settings, {
        operation,
        path: 'get_output2.php',
        method: 'GET',
        query: { cmd: 'file', result_id: String(resultId), file_num: String(fileIndex), auth: authenticator },
        idempotent: true,
        signal: download.signal,
        read,
      });
    }
    return exchange(settings, {
      operation,
      path: 'get_output3.php',
      method: 'GET',
      query: { action: 'get_file', result_id: String(resultId), index: String(fileIndex), download: '1' },
      headers: { cookie: `auth=${encodeURIComponent(authenticator)}` },
      idempotent: true,
      signal: download.signal,
      read,
    });
  }

  return {
    url: baseUrl.href,

    ping(call = {}) {
      return rpc('ping', formatPingRequest(authenticator), (body) => readPingReply(body, replyOptions), { idempotent: true, signal: call.signal });
    },

    async createBatch(batch, call = {}) {
      const xml = formatCreateBatchRequest(authenticator, batch);
      const batchId = await rpc('create_batch', xml, (body) => readBatchIdReply(body, 'create_batch', replyOptions), { idempotent: false, signal: call.signal });
      return { batchId };
    },

    submitBatch,
    queryBatch,

    queryBatchChanges(query) {
      const names = [...query.batchNames];
      if (names.length === 0) throw new InvalidArgumentError('queryBatchChanges needs at least one batch name');
      const xml = formatQueryBatchChangesRequest(authenticator, names, query.minModTime);
      return rpc('query_batch2', xml, (body) => readQueryBatchChangesReply(body, names, replyOptions), { idempotent: true, signal: query.signal });
    },

    queryJob(jobId, call = {}) {
      const xml = formatQueryJobRequest(authenticator, jobId);
      return rpc('query_job', xml, (body) => readQueryJobReply(body, replyOptions), { idempotent: true, signal: call.signal });
    },

    queryCompletedJob(jobName, call = {}) {
      const xml = formatQueryCompletedJobRequest(authenticator, jobName);
      return rpc('query_completed_job', xml, (body) => readQueryCompletedJobReply(body, replyOptions), { idempotent: true, signal: call.signal });
    },

    async abortJobs(jobNames, call = {}) {
      if (jobNames.length === 0) return [];
      const xml = formatAbortJobsRequest(authenticator, jobNames);
      return rpc('abort_jobs', xml, (body) => readAbortJobsReply(body, replyOptions), { idempotent: true, signal: call.signal });
    },

    abortBatch(batch, call = {}) {
      assertBatchReference(batch);
      return rpc('abort_batch', formatBatchOperationRequest('abort_batch', authenticator, batch), (body) => readAbortBatchReply(body, replyOptions), {
        idempotent: true,
        signal: call.signal,
      });
    },

    retireBatch(batch, call = {}) {
      assertBatchReference(batch);
      return rpc('retire_batch', formatBatchOperationRequest('retire_batch', authenticator, batch), (body) => readRetireBatchReply(body, replyOptions), {
        idempotent: true,
        signal: call.signal,
      });
    },

    getTemplates(of, call = {}) {
      const xml = formatGetTemplatesRequest(authenticator, of);
      return rpc('get_templates', xml, (body) => readGetTemplatesReply(body, replyOptions), { idempotent: true, signal: call.signal });
    },

    queryFiles,
    uploadFiles,
    downloadOutput,
  };
}

/** An upload chunk is sent with `idempotent: false`; its outcome-unknown wrapper is not news to uploadFiles' caller. */
function unwrapOutcome(error: unknown): unknown {
  const candidate = error as { reason?: unknown; cause?: unknown; operation?: unknown };
  return candidate.reason === 'outcome-unknown' && candidate.operation === 'upload_files' && candidate.cause !== undefined ? candidate.cause : error;
}
