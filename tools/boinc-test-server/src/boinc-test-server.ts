import { createHash, randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { escapeXmlText } from './parse-xml.js';
import { parseSchedulerRequest } from './scheduler-request.js';
import type { ReportedResultMessage, SchedulerRequestMessage } from './scheduler-request.js';
import { renderSchedulerReply } from './scheduler-reply.js';
import type { ReplyJob } from './scheduler-reply.js';
import { createUploadHandler } from './upload-handler.js';
import type { DataServerResponse } from './upload-handler.js';

export interface BoincTestServerOptions {
  /** The app the jobs belong to; must equal the `<app_name>` in the client's `app_info.xml`. */
  readonly appName: string;
  /** Must equal the `<version_num>` in the client's `app_info.xml`, else the client discards the jobs. */
  readonly versionNum: number;
  readonly projectName?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (an ephemeral port). */
  readonly port?: number;
  /** `<next_rpc_delay>` in every reply: the client calls back after this many seconds. Default 5; 0 leaves it out. */
  readonly nextRpcDelaySeconds?: number;
  /** `<request_delay>`: the least time before the client may call again. Default 1. */
  readonly requestDelaySeconds?: number;
  /** Most jobs sent in one reply. Default: all queued jobs. */
  readonly maxJobsPerReply?: number;
  /** Seconds from sending a job to its report deadline. Default one day. */
  readonly reportDeadlineSeconds?: number;
  /** Receives one line per request handled, for debugging. */
  readonly log?: (line: string) => void;
}

export interface BoincTestJobInputFile {
  /** The logical name the app opens in its slot. */
  readonly openName: string;
  readonly data: Uint8Array | string;
  /** Copy the file into the slot instead of a `<soft_link>` file. */
  readonly copyFile?: boolean;
  /** The physical name on the server and in the client's project directory. Default `<job>_<openName>`. */
  readonly physicalName?: string;
}

export interface BoincTestJobOutputFile {
  readonly openName: string;
  /** `<max_nbytes>`; the client refuses to upload more, and so does this server. */
  readonly maxBytes: number;
  /** The app writes the file in the slot and the client copies it back. */
  readonly copyFile?: boolean;
}

export interface BoincTestJob {
  /** The workunit name; the result is called `<name>_0`. Unique per server. */
  readonly name: string;
  readonly inputFiles?: readonly BoincTestJobInputFile[];
  readonly outputFiles?: readonly BoincTestJobOutputFile[];
  /** The workunit's `<command_line>`: the client splits it into the app's argv. */
  readonly commandLine?: string;
  /** Default 1e9. */
  readonly rscFpopsEstimate?: number;
  /** Default 1e12. */
  readonly rscFpopsBound?: number;
  /** Default 5e8. */
  readonly rscMemoryBound?: number;
  /** Default 1e9. */
  readonly rscDiskBound?: number;
}

export interface AddedBoincTestJob {
  readonly name: string;
  readonly resultName: string;
  /** Physical names of the outputs, in the order of `outputFiles`. */
  readonly outputFileNames: readonly string[];
}

export type BoincTestJobState = 'queued' | 'sent' | 'reported';

/** What the client reported for one result, plus what the server saw of it. */
export interface ReportedResult extends ReportedResultMessage {
  readonly jobName: string;
  /** Milliseconds since the epoch. */
  readonly sentAt: number | undefined;
  readonly reportedAt: number;
  /** Physical name and bytes of every output that arrived complete. */
  readonly uploads: ReadonlyMap<string, Buffer>;
}

export interface UploadRecord {
  readonly fileName: string;
  readonly jobName: string;
  readonly openName: string;
  readonly data: Buffer;
  readonly receivedAt: number;
}

export interface SchedulerRpcRecord {
  readonly receivedAt: number;
  readonly request: SchedulerRequestMessage;
  readonly sentJobs: readonly string[];
  readonly acknowledgedResults: readonly string[];
}

export interface WaitOptions {
  /** Default 60 000. */
  readonly timeoutMs?: number;
}

export interface BoincTestServer {
  /** The master URL, `http://127.0.0.1:PORT/project/`; throws before `start()`. */
  readonly url: string;
  readonly schedulerUrl: string;
  readonly uploadUrl: string;
  /** Listens and resolves to the master URL. */
  start(): Promise<string>;
  /** Stops listening and rejects pending waits. Idempotent. */
  close(): Promise<void>;
  /** Queues a job; it is sent at the next scheduler request that asks for work. */
  addJob(job: BoincTestJob): AddedBoincTestJob;
  jobState(name: string): BoincTestJobState | undefined;
  /**
   * Resolves when every named job (job or result names) has been reported, in the order given.
   * Rejects with a `TSMW_BOINC_TEST_SERVER_TIMEOUT` error that lists each job's state.
   */
  waitForResults(names: readonly string[], options?: WaitOptions): Promise<ReportedResult[]>;
  /** Resolves with the bytes of the first complete upload for a job, result or output file name. */
  waitForUpload(name: string, options?: WaitOptions & { readonly openName?: string }): Promise<Buffer>;
  /**
   * The complete upload for an output file name, or for a job or result name (its output with
   * `openName`, default its first output); undefined until it has arrived.
   */
  readUpload(name: string, openName?: string): Buffer | undefined;
  /** What the client reported for a job or result name; undefined until reported. */
  reportedResult(name: string): ReportedResult | undefined;
  /** Every scheduler RPC so far, oldest first. */
  readonly schedulerRpcs: readonly SchedulerRpcRecord[];
  /** Every complete upload so far, oldest first. */
  readonly uploads: readonly UploadRecord[];
  /** Every refused or partial upload request, for diagnosing a client that keeps retrying. */
  readonly refusedUploads: readonly DataServerResponse[];
}

interface StoredInput {
  readonly openName: string;
  readonly physicalName: string;
  readonly data: Buffer;
  readonly md5: string;
  readonly copyFile: boolean;
}

interface StoredOutput {
  readonly openName: string;
  readonly physicalName: string;
  readonly maxBytes: number;
  readonly copyFile: boolean;
}

interface JobRecord {
  readonly name: string;
  readonly resultName: string;
  readonly commandLine: string | undefined;
  readonly inputs: readonly StoredInput[];
  readonly outputs: readonly StoredOutput[];
  readonly rscFpopsEstimate: number;
  readonly rscFpopsBound: number;
  readonly rscMemoryBound: number;
  readonly rscDiskBound: number;
  state: BoincTestJobState;
  sentAt: number | undefined;
  reported: ReportedResult | undefined;
}

interface Waiter {
  readonly check: () => boolean;
  readonly fail: (error: Error) => void;
}

const namePattern = /^[A-Za-z0-9_.-]+$/;

/**
 * The platform to put in `<result>`: an anonymous-platform client sends `<platform_name>anonymous`
 * but matches results against its app_info versions, whose platform is the real one (it lists
 * them in `<app_versions>`). A result marked `anonymous` is discarded ("No app version found").
 */
function replyPlatform(request: SchedulerRequestMessage, appName: string): string {
  const declared = request.appVersions.find((version) => version.appName === appName)?.platform;
  if (declared !== undefined && declared !== '') return declared;
  if (request.platformName !== undefined && request.platformName !== 'anonymous') return request.platformName;
  return 'x86_64-pc-linux-gnu';
}
const masterPath = '/project/';
const downloadPath = '/project/download/';
const schedulerPath = '/project_cgi/cgi';
const uploadPath = '/project_cgi/file_upload_handler';

/**
 * A BOINC server double for tests: the master page, the scheduler RPC, input downloads and the
 * file upload handler, enough for a real BOINC client (7.20.5) with an anonymous-platform app
 * (`app_info.xml`) to fetch jobs, run them, upload the outputs and report the results.
 */
export function createBoincTestServer(options: BoincTestServerOptions): BoincTestServer {
  if (!namePattern.test(options.appName)) {
    throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_INVALID_JOB', `appName "${options.appName}" must match ${namePattern}.`);
  }
  const host = options.host ?? '127.0.0.1';
  const projectName = options.projectName ?? 'tsmw test project';
  const nextRpcDelaySeconds = options.nextRpcDelaySeconds ?? 5;
  const requestDelaySeconds = options.requestDelaySeconds ?? 1;
  const reportDeadlineSeconds = options.reportDeadlineSeconds ?? 86_400;
  const log = options.log ?? (() => {});

  const jobs = new Map<string, JobRecord>();
  const jobsByResult = new Map<string, JobRecord>();
  const inputsByName = new Map<string, StoredInput>();
  const outputsByName = new Map<string, { job: JobRecord; output: StoredOutput }>();
  const queue: JobRecord[] = [];
  const schedulerRpcs: SchedulerRpcRecord[] = [];
  const uploads: UploadRecord[] = [];
  const refusedUploads: DataServerResponse[] = [];
  const waiters = new Set<Waiter>();
  let server: Server | undefined;
  let baseUrl: string | undefined;
  let closed = false;
  let nextHostId = 1;

  const uploadHandler = createUploadHandler({
    expectedUpload: (fileName) => {
      const entry = outputsByName.get(fileName);
      return entry ? { maxBytes: entry.output.maxBytes } : undefined;
    },
    onUploadComplete: (fileName, data) => {
      const entry = outputsByName.get(fileName);
      if (!entry) return;
      uploads.push({ fileName, jobName: entry.job.name, openName: entry.output.openName, data, receivedAt: Date.now() });
    },
  });

  function requireBaseUrl(): string {
    if (baseUrl === undefined) {
      throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_NOT_STARTED', 'The BOINC test server has not been started: call start() first.');
    }
    return baseUrl;
  }

  function findJob(name: string): JobRecord | undefined {
    return jobs.get(name) ?? jobsByResult.get(name) ?? outputsByName.get(name)?.job;
  }

  function notifyWaiters(): void {
    for (const waiter of waiters) {
      if (waiter.check()) waiters.delete(waiter);
    }
  }

  function wait<T>(produce: () => T | undefined, describe: () => string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (closed) {
        reject(new BoincTestServerError('TSMW_BOINC_TEST_SERVER_CLOSED', 'The BOINC test server is closed.'));
        return;
      }
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new BoincTestServerError('TSMW_BOINC_TEST_SERVER_TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${describe()}.`));
      }, timeoutMs);
      const waiter: Waiter = {
        check: () => {
          const value = produce();
          if (value === undefined) return false;
          clearTimeout(timer);
          resolve(value);
          return true;
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (!waiter.check()) waiters.add(waiter);
    });
  }

  function readUpload(name: string, openName?: string): Buffer | undefined {
    if (outputsByName.has(name)) return uploadHandler.readUpload(name);
    const job = findJob(name);
    if (!job) return undefined;
    const output = openName === undefined ? job.outputs[0] : job.outputs.find((candidate) => candidate.openName === openName);
    return output ? uploadHandler.readUpload(output.physicalName) : undefined;
  }

  function toReplyJob(job: JobRecord, base: string, now: number): ReplyJob {
    return {
      workunitName: job.name,
      resultName: job.resultName,
      commandLine: job.commandLine,
      inputFiles: job.inputs.map((input) => ({
        physicalName: input.physicalName,
        openName: input.openName,
        url: `${base}${downloadPath}${input.physicalName}`,
        md5: input.md5,
        nbytes: input.data.length,
        copyFile: input.copyFile,
      })),
      outputFiles: job.outputs.map((output) => ({
        physicalName: output.physicalName,
        openName: output.openName,
        maxBytes: output.maxBytes,
        uploadUrl: `${base}${uploadPath}`,
        copyFile: output.copyFile,
      })),
      reportDeadline: Math.floor(now / 1000) + reportDeadlineSeconds,
      rscFpopsEstimate: job.rscFpopsEstimate,
      rscFpopsBound: job.rscFpopsBound,
      rscMemoryBound: job.rscMemoryBound,
      rscDiskBound: job.rscDiskBound,
    };
  }

  function handleScheduler(body: string): string {
    const base = requireBaseUrl();
    const now = Date.now();
    const request = parseSchedulerRequest(body);
    const acknowledged: string[] = [];
    for (const message of request.results) {
      if (message.name === '') continue;
      acknowledged.push(message.name);
      const job = jobsByResult.get(message.name);
      if (!job || job.reported) continue;
      const collected = new Map<string, Buffer>();
      for (const output of job.outputs) {
        const data = uploadHandler.readUpload(output.physicalName);
        if (data) collected.set(output.physicalName, data);
      }
      job.reported = { ...message, jobName: job.name, sentAt: job.sentAt, reportedAt: now, uploads: collected };
      job.state = 'reported';
    }
    const sent: JobRecord[] = [];
    if (request.wantsWork) {
      const limit = options.maxJobsPerReply ?? Number.POSITIVE_INFINITY;
      while (queue.length > 0 && sent.length < limit) {
        const job = queue.shift();
        if (!job) break;
        job.state = 'sent';
        job.sentAt = now;
        sent.push(job);
      }
    }
    const hostId = request.hostId > 0 ? request.hostId : nextHostId++;
    schedulerRpcs.push({ receivedAt: now, request, sentJobs: sent.map((job) => job.name), acknowledgedResults: acknowledged });
    log(
      `scheduler rpc ${request.rpcSequenceNumber} (host ${request.hostId}, ${request.platformName ?? 'no platform'}): reported [${acknowledged.join(', ')}], ` +
        `asked ${request.wantsWork ? 'for work' : 'no work'}, sent [${sent.map((job) => job.name).join(', ')}]`,
    );
    return renderSchedulerReply({
      masterUrl: `${base}${masterPath}`,
      projectName,
      appName: options.appName,
      versionNum: options.versionNum,
      platform: replyPlatform(request, options.appName),
      hostId,
      requestDelaySeconds,
      nextRpcDelaySeconds,
      jobs: sent.map((job) => toReplyJob(job, base, now)),
      acknowledgedResults: acknowledged,
    });
  }

  function masterPage(base: string): string {
    const scheduler = `${base}${schedulerPath}`;
    return [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      `<!-- <scheduler>${scheduler}</scheduler> -->`,
      `<link rel="boinc_scheduler" href="${scheduler}">`,
      `<title>${escapeXmlText(projectName)}</title>`,
      '</head>',
      `<body><h1>${escapeXmlText(projectName)}</h1><p>A BOINC server double for tests.</p></body>`,
      '</html>',
      '',
    ].join('\n');
  }

  function send(response: ServerResponse, status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    response.writeHead(status, { 'content-type': contentType, 'content-length': String(bytes.length), ...headers });
    response.end(bytes);
  }

  function serveDownload(request: IncomingMessage, response: ServerResponse, name: string): void {
    const input = inputsByName.get(name);
    if (!input) {
      send(response, 404, 'not found\n', 'text/plain');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range?.[1] !== undefined) {
      const start = Number(range[1]);
      if (start >= input.data.length) {
        send(response, 416, '', 'application/octet-stream', { 'content-range': `bytes */${input.data.length}` });
        return;
      }
      send(response, 206, input.data.subarray(start), 'application/octet-stream', {
        'content-range': `bytes ${start}-${input.data.length - 1}/${input.data.length}`,
      });
      return;
    }
    send(response, 200, input.data, 'application/octet-stream');
  }

  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const base = requireBaseUrl();
    const path = new URL(request.url ?? '/', base).pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && (path === masterPath || path === '/project' || path === '/')) {
      send(response, 200, masterPage(base), 'text/html; charset=utf-8');
      return;
    }
    if (method === 'GET' && path.startsWith(downloadPath)) {
      serveDownload(request, response, decodeURIComponent(path.slice(downloadPath.length)));
      return;
    }
    if (method === 'POST' && path === schedulerPath) {
      const body = await readBody(request);
      send(response, 200, handleScheduler(body.toString('utf8')), 'text/xml');
      notifyWaiters();
      return;
    }
    if (method === 'POST' && path === uploadPath) {
      const body = await readBody(request);
      const result = uploadHandler.handle(body);
      if (result.status !== 0) refusedUploads.push(result);
      log(`file_upload_handler ${result.command} ${result.fileName ?? ''}: status ${result.status}${result.message ? ` (${result.message})` : ''}`);
      send(response, 200, result.reply, 'text/plain');
      notifyWaiters();
      return;
    }
    send(response, 404, 'not found\n', 'text/plain');
  }

  const api: BoincTestServer = {
    get url() {
      return `${requireBaseUrl()}${masterPath}`;
    },
    get schedulerUrl() {
      return `${requireBaseUrl()}${schedulerPath}`;
    },
    get uploadUrl() {
      return `${requireBaseUrl()}${uploadPath}`;
    },
    schedulerRpcs,
    uploads,
    refusedUploads,

    async start() {
      if (closed) throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_CLOSED', 'The BOINC test server is closed.');
      if (baseUrl !== undefined) return api.url;
      const created = createServer((request, response) => {
        route(request, response).catch((error: unknown) => {
          log(`error handling ${request.method} ${request.url}: ${String(error)}`);
          if (!response.headersSent) send(response, 500, `${String(error)}\n`, 'text/plain');
          else response.destroy();
        });
      });
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject);
        created.listen(options.port ?? 0, host, () => {
          created.off('error', reject);
          resolve();
        });
      });
      server = created;
      const address = created.address() as AddressInfo;
      baseUrl = `http://${host}:${address.port}`;
      return api.url;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const waiter of waiters) waiter.fail(new BoincTestServerError('TSMW_BOINC_TEST_SERVER_CLOSED', 'The BOINC test server was closed while waiting.'));
      waiters.clear();
      const current = server;
      server = undefined;
      if (!current) return;
      await new Promise<void>((resolve) => {
        current.close(() => resolve());
        current.closeAllConnections();
      });
    },

    addJob(job) {
      if (!namePattern.test(job.name)) {
        throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_INVALID_JOB', `Job name "${job.name}" must match ${namePattern}.`);
      }
      if (jobs.has(job.name) || jobsByResult.has(job.name)) {
        throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_INVALID_JOB', `A job named "${job.name}" already exists.`);
      }
      const openNames = new Set<string>();
      const checkOpenName = (openName: string): void => {
        if (!namePattern.test(openName) || openNames.has(openName)) {
          throw new BoincTestServerError(
            'TSMW_BOINC_TEST_SERVER_INVALID_JOB',
            `Job "${job.name}": open name "${openName}" must be unique and match ${namePattern}.`,
          );
        }
        openNames.add(openName);
      };
      const inputs: StoredInput[] = (job.inputFiles ?? []).map((input) => {
        checkOpenName(input.openName);
        const physicalName = input.physicalName ?? `${job.name}_${input.openName}`;
        if (!namePattern.test(physicalName) || inputsByName.has(physicalName)) {
          throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_INVALID_JOB', `Input physical name "${physicalName}" must be unique and match ${namePattern}.`);
        }
        const data = typeof input.data === 'string' ? Buffer.from(input.data) : Buffer.from(input.data);
        return { openName: input.openName, physicalName, data, md5: createHash('md5').update(data).digest('hex'), copyFile: input.copyFile ?? false };
      });
      const resultName = `${job.name}_0`;
      const outputs: StoredOutput[] = (job.outputFiles ?? []).map((output, index) => {
        checkOpenName(output.openName);
        if (!Number.isFinite(output.maxBytes) || output.maxBytes <= 0) {
          throw new BoincTestServerError('TSMW_BOINC_TEST_SERVER_INVALID_JOB', `Job "${job.name}": output "${output.openName}" needs a positive maxBytes.`);
        }
        return {
          openName: output.openName,
          // The real server's shape: <result>_r<random>_<index>.
          physicalName: `${resultName}_r${randomInt(1_000_000_000, 2_000_000_000)}_${index}`,
          maxBytes: output.maxBytes,
          copyFile: output.copyFile ?? false,
        };
      });
      const record: JobRecord = {
        name: job.name,
        resultName,
        commandLine: job.commandLine,
        inputs,
        outputs,
        rscFpopsEstimate: job.rscFpopsEstimate ?? 1e9,
        rscFpopsBound: job.rscFpopsBound ?? 1e12,
        rscMemoryBound: job.rscMemoryBound ?? 5e8,
        rscDiskBound: job.rscDiskBound ?? 1e9,
        state: 'queued',
        sentAt: undefined,
        reported: undefined,
      };
      jobs.set(record.name, record);
      jobsByResult.set(resultName, record);
      for (const input of inputs) inputsByName.set(input.physicalName, input);
      for (const output of outputs) outputsByName.set(output.physicalName, { job: record, output });
      queue.push(record);
      return { name: record.name, resultName, outputFileNames: outputs.map((output) => output.physicalName) };
    },

    jobState(name) {
      return findJob(name)?.state;
    },

    waitForResults(names, waitOptions = {}) {
      return wait(
        () => {
          const results: ReportedResult[] = [];
          for (const name of names) {
            const reported = findJob(name)?.reported;
            if (!reported) return undefined;
            results.push(reported);
          }
          return results;
        },
        () => `results of ${names.map((name) => `${name} (${findJob(name)?.state ?? 'unknown job'})`).join(', ')}`,
        waitOptions.timeoutMs ?? 60_000,
      );
    },

    waitForUpload(name, waitOptions = {}) {
      return wait(
        () => readUpload(name, waitOptions.openName),
        () => `an upload for ${name} (${findJob(name)?.state ?? 'unknown job'}; ${refusedUploads.length} refused upload requests)`,
        waitOptions.timeoutMs ?? 60_000,
      );
    },

    readUpload,

    reportedResult(name) {
      return findJob(name)?.reported;
    },
  };
  return api;
}
