import { BoincXmlError } from '../xml/boinc-xml-error.js';
import { readBoincReply, type ReadBoincReplyOptions } from '../xml/read-boinc-reply.js';
import {
  hasXmlChild,
  readInteger,
  readIntegers,
  readNumber,
  readOptionalInteger,
  readOptionalNumber,
  readOptionalText,
  readText,
  readTexts,
  xmlChildElements,
  xmlChildText,
  xmlChildren,
  type XmlElementNode,
} from '../xml/xml-node.js';
import type {
  AppTemplates,
  BatchChanges,
  BatchJobStatus,
  BatchState,
  BatchStatus,
  CompletedJob,
  JobChangeStatus,
  JobInstance,
  JobStatus,
} from './submit-rpc-types.js';
import { workunitErrorNames } from './workunit-error-mask.js';

// Readers of the replies of BOINC's remote job submission: each takes the raw reply and returns
// typed values, or throws BoincRpcError (BOINC's <error>) or BoincXmlError (anything else).

/**
 * Seconds subtracted from `query_batch2`'s `server_time` for the next `min_mod_time`: BOINC
 * compares `workunit.mod_time` (whole seconds, the database's clock) with `FROM_UNIXTIME(t)`
 * strictly, so a change in the same second as the answer, or on a database clock a little behind
 * the web server's, would be missed without it.
 */
export const modTimeMarginSeconds = 5;

const batchStates: readonly BatchState[] = ['init', 'in-progress', 'complete', 'aborted', 'retired'];

function successReply(body: string | Uint8Array, operation: string, options: ReadBoincReplyOptions): void {
  const element = readBoincReply(body, operation, options);
  if (!hasXmlChild(element, 'success')) {
    throw new BoincXmlError(`${operation}: the reply has neither <success> nor <error>`, { reason: 'unexpected', operation });
  }
}

export function readPingReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): void {
  successReply(body, 'ping', options);
}

export function readAbortBatchReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): void {
  successReply(body, 'abort_batch', options);
}

export function readRetireBatchReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): void {
  successReply(body, 'retire_batch', options);
}

/** `abort_jobs`: the names BOINC printed in its (malformed) `<aborted NAME>` elements. */
export function readAbortJobsReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): string[] {
  const element = readBoincReply(body, 'abort_jobs', options);
  if (!hasXmlChild(element, 'success')) {
    throw new BoincXmlError('abort_jobs: the reply has neither <success> nor <error>', { reason: 'unexpected', operation: 'abort_jobs' });
  }
  return readTexts(element, 'aborted').filter((name) => name !== '');
}

/** `submit_batch` and `create_batch`: the batch's id. */
export function readBatchIdReply(body: string | Uint8Array, operation: 'submit_batch' | 'create_batch', options: ReadBoincReplyOptions = {}): number {
  const element = readBoincReply(body, operation, options);
  const batchId = readInteger(element, 'batch_id', { operation });
  if (batchId <= 0) throw new BoincXmlError(`${operation}: the reply's <batch_id> is ${batchId}, not a batch`, { reason: 'unexpected', operation });
  return batchId;
}

function jobStatus(text: string | undefined, operation: string): JobStatus | undefined {
  if (text === undefined) return undefined;
  switch (text.trim()) {
    case 'done':
      return 'done';
    case 'in_progress':
      return 'in-progress';
    case 'queued':
      return 'queued';
    case 'error':
      return 'error';
    default:
      throw new BoincXmlError(`${operation}: unknown job status ${JSON.stringify(text.slice(0, 40))}`, { reason: 'unexpected', operation });
  }
}

function readJob(job: XmlElementNode, index: number): BatchJobStatus {
  const context = { operation: 'query_batch', path: `<job> ${index}` };
  const canonical = readOptionalInteger(job, 'canonical_instance_id', context);
  const status = jobStatus(readOptionalText(job, 'status'), 'query_batch');
  const errors = readTexts(job, 'error').map((text) => text.trim());
  const exitStatuses = readIntegers(job, 'exit_status', context);
  const cpuTime = readOptionalNumber(job, 'cpu_time', context);
  return {
    id: readInteger(job, 'id', context),
    name: readText(job, 'name', context).trim(),
    canonicalInstanceId: canonical === undefined || canonical === 0 ? undefined : canonical,
    ...(status === undefined ? {} : { status }),
    ...(errors.length === 0 ? {} : { errors }),
    ...(exitStatuses.length === 0 ? {} : { exitStatuses }),
    ...(cpuTime === undefined ? {} : { cpuTime }),
  };
}

/** `query_batch`: the batch and each job (with details when asked for). */
export function readQueryBatchReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): BatchStatus {
  const element = readBoincReply(body, 'query_batch', options);
  const context = { operation: 'query_batch' };
  const stateCode = readInteger(element, 'state', context);
  const totalCpuTime = readOptionalNumber(element, 'total_cpu_time', context);
  return {
    id: readInteger(element, 'id', context),
    name: readOptionalText(element, 'name') ?? '',
    appName: readOptionalText(element, 'app_name') ?? '',
    state: batchStates[stateCode] ?? 'unknown',
    stateCode,
    createTime: readOptionalNumber(element, 'create_time', context) ?? 0,
    expireTime: readOptionalNumber(element, 'expire_time', context) ?? 0,
    estimatedCompletionTime: readOptionalNumber(element, 'est_completion_time', context) ?? 0,
    completionTime: readOptionalNumber(element, 'completion_time', context) ?? 0,
    jobCount: readInteger(element, 'njobs', context),
    errorJobCount: readOptionalInteger(element, 'nerror_jobs', context) ?? 0,
    fractionDone: readNumber(element, 'fraction_done', context),
    creditEstimate: readOptionalNumber(element, 'credit_estimate', context) ?? 0,
    creditCanonical: readOptionalNumber(element, 'credit_canonical', context) ?? 0,
    ...(totalCpuTime === undefined ? {} : { totalCpuTime }),
    jobs: xmlChildElements(element, 'job').map(readJob),
  };
}

function changeStatus(text: string): JobChangeStatus {
  switch (text.trim()) {
    case 'DONE':
      return 'done';
    case 'ERROR':
      return 'error';
    case 'IN_PROGRESS':
      return 'in-progress';
    case 'UNSENT':
      return 'unsent';
    default:
      throw new BoincXmlError(`query_batch2: unknown job status ${JSON.stringify(text.slice(0, 40))}`, { reason: 'unexpected', operation: 'query_batch2' });
  }
}

/**
 * `query_batch2`: BOINC prints, per batch asked for and in that order, `<batch_size>N</batch_size>`
 * followed by that batch's N changed jobs, all as siblings; the counts split them back.
 */
export function readQueryBatchChangesReply(body: string | Uint8Array, batchNames: readonly string[], options: ReadBoincReplyOptions = {}): BatchChanges {
  const operation = 'query_batch2';
  const element = readBoincReply(body, operation, options);
  const context = { operation };
  const serverTime = readNumber(element, 'server_time', context);
  const sizes = readIntegers(element, 'batch_size', context);
  const jobs = xmlChildElements(element, 'job').map((job, index) => {
    const jobContext = { operation, path: `<job> ${index}` };
    return { name: readText(job, 'job_name', jobContext).trim(), status: changeStatus(readText(job, 'status', jobContext)) };
  });
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (sizes.length !== batchNames.length || total !== jobs.length || sizes.some((size) => size < 0)) {
    throw new BoincXmlError(`${operation}: ${sizes.length} <batch_size> for ${batchNames.length} batches and ${jobs.length} jobs for sizes adding up to ${total}`, {
      reason: 'unexpected',
      operation,
    });
  }
  let offset = 0;
  const batches = batchNames.map((batchName, index) => {
    const size = sizes[index] ?? 0;
    const batchJobs = jobs.slice(offset, offset + size);
    offset += size;
    return { batchName, jobs: batchJobs };
  });
  return { serverTime, nextMinModTime: Math.max(0, Math.floor(serverTime) - modTimeMarginSeconds), batches };
}

/** `query_job`: the job's instances; output sizes for those that are over. */
export function readQueryJobReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): JobInstance[] {
  const operation = 'query_job';
  const element = readBoincReply(body, operation, options);
  return xmlChildElements(element, 'instance').map((instance, index) => {
    const context = { operation, path: `<instance> ${index}` };
    return {
      id: readInteger(instance, 'id', context),
      name: readText(instance, 'name', context).trim(),
      state: (readOptionalText(instance, 'state') ?? '').trim(),
      outputSizes: xmlChildElements(instance, 'outfile').map((outfile) => readNumber(outfile, 'size', context)),
    };
  });
}

/**
 * `stderr_out` as `query_completed_job` prints it: `<![CDATA[` + newline + htmlspecialchars(stderr)
 * + three spaces + `]]>`. The framing is removed and the escaping undone.
 */
function readStderr(node: XmlElementNode): string | undefined {
  const [child] = xmlChildren(node, 'stderr_out');
  if (child === undefined) return undefined;
  let text = xmlChildText(child);
  if (text.startsWith('\n')) text = text.slice(1);
  if (text.endsWith('   ')) text = text.slice(0, -3);
  return text.replace(/&(amp|lt|gt|quot|#0?39|apos);/g, (_whole, name: string) =>
    name === 'amp' ? '&' : name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'quot' ? '"' : "'",
  );
}

/** `query_completed_job`: how the job ended. */
export function readQueryCompletedJobReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): CompletedJob {
  const operation = 'query_completed_job';
  const element = readBoincReply(body, operation, options);
  const [completed] = xmlChildElements(element, 'completed_job');
  if (completed === undefined) throw new BoincXmlError(`${operation}: the reply has no <completed_job>`, { reason: 'unexpected', operation });
  const context = { operation, path: '<completed_job>' };
  const errorMask = readInteger(completed, 'error_mask', context);
  const values = {
    canonicalResultId: readOptionalInteger(completed, 'canonical_resultid', context),
    errorResultId: readOptionalInteger(completed, 'error_resultid', context),
    exitStatus: readOptionalInteger(completed, 'exit_status', context),
    elapsedTime: readOptionalNumber(completed, 'elapsed_time', context),
    cpuTime: readOptionalNumber(completed, 'cpu_time', context),
    stderrOut: readStderr(completed),
  };
  const defined = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<CompletedJob>;
  return { errorMask, errors: workunitErrorNames(errorMask), ...defined };
}

/** `query_files`: the indices BOINC lists in `<absent_files>`, mapped back to the names asked about. */
export function readQueryFilesReply(body: string | Uint8Array, physicalNames: readonly string[], options: ReadBoincReplyOptions = {}): string[] {
  const operation = 'query_files';
  const element = readBoincReply(body, operation, options);
  const [absent] = xmlChildElements(element, 'absent_files');
  if (absent === undefined) throw new BoincXmlError(`${operation}: the reply has no <absent_files>`, { reason: 'unexpected', operation });
  return readIntegers(absent, 'file', { operation, path: '<absent_files>' }).map((index) => {
    const name = physicalNames[index];
    if (name === undefined) throw new BoincXmlError(`${operation}: <file>${index}</file> is not one of the ${physicalNames.length} names asked about`, { reason: 'unexpected', operation });
    return name;
  });
}

export function readUploadFilesReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): void {
  successReply(body, 'upload_files', options);
}

/** The text of the first `<name>...</name>` element in `text`, as written. */
function rawElement(text: string, name: string): string | undefined {
  const start = text.indexOf(`<${name}>`);
  const endTag = `</${name}>`;
  const end = text.indexOf(endTag, start);
  return start < 0 || end < 0 ? undefined : text.slice(start, end + endTag.length);
}

/** `get_templates`: the app's two templates as the server holds them, and their file counts. */
export function readGetTemplatesReply(body: string | Uint8Array, options: ReadBoincReplyOptions = {}): AppTemplates {
  const operation = 'get_templates';
  const element = readBoincReply(body, operation, options);
  const [templates] = xmlChildElements(element, 'templates');
  const [input] = templates === undefined ? [] : xmlChildElements(templates, 'input_template');
  const [output] = templates === undefined ? [] : xmlChildElements(templates, 'output_template');
  if (input === undefined || output === undefined) {
    throw new BoincXmlError(`${operation}: the reply lacks <templates> with <input_template> and <output_template>`, { reason: 'unexpected', operation });
  }
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const [result] = xmlChildElements(output, 'result');
  return {
    inputTemplate: rawElement(text, 'input_template') ?? '',
    outputTemplate: rawElement(text, 'output_template') ?? '',
    inputFileCount: xmlChildren(input, 'file_info').length,
    outputFileCount: result === undefined ? xmlChildren(output, 'file_info').length : xmlChildren(result, 'file_ref').length,
  };
}
