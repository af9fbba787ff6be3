import { InvalidArgumentError } from '@tsmw/core';
import { xmlElement, xmlLeaf, xmlTrusted, type XmlContent, type XmlFragment } from '../xml/xml-builder.js';
import { assertAppName } from '../project/tsmw-project-layout.js';
import type { BatchReference, JobParameters } from './submit-rpc-types.js';
import {
  assertBatchName,
  assertBatchReference,
  assertCommandLine,
  assertId,
  assertInteger,
  assertJobName,
  assertMd5,
  assertPhysicalName,
  assertPositiveNumber,
  assertRemoteUrl,
  assertTemplateFile,
} from './submit-rpc-values.js';

// The request messages of BOINC's remote job submission, one function per operation, with the
// elements `lib/boinc_submit.py` sends and `html/user/submit_rpc_handler.php` /
// `html/user/job_file.php` read. Every value is checked and escaped.

/** An input file as `submit_batch` takes it, after the client decided how to send it. */
export type SubmitInputFile =
  | { readonly mode: 'inline'; readonly source: string }
  | { readonly mode: 'local_staged'; readonly source: string }
  | { readonly mode: 'remote'; readonly url: string; readonly nbytes: number; readonly md5: string };

export interface SubmitJob {
  readonly name: string;
  readonly inputFiles: readonly SubmitInputFile[];
  readonly commandLine?: string;
  readonly priority?: number;
  readonly rscFpopsEst?: number;
  readonly inputTemplate?: string;
  readonly outputTemplate?: string;
}

export interface SubmitBatchRequest {
  readonly appName: string;
  /** Absent: BOINC creates the batch and names it `user:app:date`. */
  readonly batch?: BatchReference;
  readonly jobs: readonly SubmitJob[];
  readonly jobParameters?: JobParameters;
  readonly priority?: number;
  readonly appVersionNum?: number;
  readonly inputTemplateFile?: string;
  readonly outputTemplateFile?: string;
}

function request(operation: string, authenticator: string, children: readonly XmlContent[]): string {
  return xmlElement(operation, [xmlLeaf('authenticator', authenticator, 'the authenticator'), ...children]);
}

function batchReference(batch: BatchReference): XmlFragment | undefined {
  assertBatchReference(batch);
  return 'batchId' in batch ? xmlLeaf('batch_id', batch.batchId) : xmlLeaf('batch_name', batch.batchName);
}

export function formatPingRequest(authenticator: string): string {
  return request('ping', authenticator, []);
}

export function formatCreateBatchRequest(authenticator: string, batch: { readonly appName: string; readonly batchName?: string; readonly expireTime?: number }): string {
  assertAppName(batch.appName);
  if (batch.batchName !== undefined) assertBatchName(batch.batchName);
  if (batch.expireTime !== undefined) assertInteger(batch.expireTime, 'expireTime', 0);
  return request('create_batch', authenticator, [
    xmlLeaf('app_name', batch.appName),
    xmlLeaf('batch_name', batch.batchName),
    xmlLeaf('expire_time', batch.expireTime),
  ]);
}

function formatInputFile(file: SubmitInputFile, where: string): XmlFragment {
  switch (file.mode) {
    case 'inline':
      return xmlElement('input_file', [xmlLeaf('mode', 'inline'), xmlLeaf('source', file.source, `${where} (inline content)`)]);
    case 'local_staged':
      assertPhysicalName(file.source, `${where}'s physical name`);
      return xmlElement('input_file', [xmlLeaf('mode', 'local_staged'), xmlLeaf('source', file.source)]);
    case 'remote':
      assertRemoteUrl(file.url, `${where}'s url`);
      assertInteger(file.nbytes, `${where}'s nbytes`, 0);
      assertMd5(file.md5, `${where}'s md5`);
      return xmlElement('input_file', [xmlLeaf('mode', 'remote'), xmlLeaf('url', file.url), xmlLeaf('nbytes', file.nbytes), xmlLeaf('md5', file.md5)]);
  }
}

function formatJob(job: SubmitJob, index: number): XmlFragment {
  const where = `job ${index}`;
  assertJobName(job.name);
  if (job.commandLine !== undefined) assertCommandLine(job.commandLine, `${where}'s command line`);
  if (job.priority !== undefined) assertInteger(job.priority, `${where}'s priority`);
  if (job.rscFpopsEst !== undefined) assertPositiveNumber(job.rscFpopsEst, `${where}'s rscFpopsEst`);
  return xmlElement('job', [
    xmlLeaf('name', job.name),
    xmlLeaf('rsc_fpops_est', job.rscFpopsEst),
    xmlLeaf('command_line', job.commandLine),
    job.inputTemplate !== undefined && xmlTrusted(job.inputTemplate, 'input_template', `${where}'s input template`),
    job.outputTemplate !== undefined && xmlTrusted(job.outputTemplate, 'output_template', `${where}'s output template`),
    xmlLeaf('priority', job.priority),
    ...job.inputFiles.map((file, fileIndex) => formatInputFile(file, `${where}'s input file ${fileIndex}`)),
  ]);
}

function formatJobParameters(parameters: JobParameters | undefined): XmlFragment | undefined {
  if (parameters === undefined) return undefined;
  const { rscFpopsEst, rscFpopsBound, rscMemoryBound, rscDiskBound, delayBound } = parameters;
  for (const [name, value] of Object.entries({ rscFpopsEst, rscFpopsBound, rscMemoryBound, rscDiskBound })) {
    if (value !== undefined) assertPositiveNumber(value, `jobParameters.${name}`);
  }
  if (delayBound !== undefined) assertInteger(delayBound, 'jobParameters.delayBound', 1);
  return xmlElement('job_params', [
    xmlLeaf('rsc_fpops_est', rscFpopsEst),
    xmlLeaf('rsc_fpops_bound', rscFpopsBound),
    xmlLeaf('rsc_memory_bound', rscMemoryBound),
    xmlLeaf('rsc_disk_bound', rscDiskBound),
    xmlLeaf('delay_bound', delayBound),
  ]);
}

export function formatSubmitBatchRequest(authenticator: string, submission: SubmitBatchRequest): string {
  assertAppName(submission.appName);
  if (submission.priority !== undefined) assertInteger(submission.priority, 'priority');
  if (submission.appVersionNum !== undefined) assertInteger(submission.appVersionNum, 'appVersionNum', 1);
  if (submission.inputTemplateFile !== undefined) assertTemplateFile(submission.inputTemplateFile, 'inputTemplateFile');
  if (submission.outputTemplateFile !== undefined) assertTemplateFile(submission.outputTemplateFile, 'outputTemplateFile');
  const names = new Set<string>();
  for (const job of submission.jobs) {
    if (names.has(job.name)) throw new InvalidArgumentError(`job name ${JSON.stringify(job.name)} appears twice in the batch: BOINC's workunit names are unique`);
    names.add(job.name);
  }
  return request('submit_batch', authenticator, [
    xmlElement('batch', [
      xmlLeaf('app_name', submission.appName),
      submission.batch !== undefined && batchReference(submission.batch),
      xmlLeaf('app_version_num', submission.appVersionNum),
      xmlLeaf('priority', submission.priority),
      xmlLeaf('input_template_filename', submission.inputTemplateFile),
      xmlLeaf('output_template_filename', submission.outputTemplateFile),
      formatJobParameters(submission.jobParameters),
      ...submission.jobs.map(formatJob),
    ]),
  ]);
}

export function formatQueryBatchRequest(authenticator: string, batch: BatchReference, query: { readonly jobDetails?: boolean; readonly cpuTime?: boolean } = {}): string {
  // Flags are sent only when set (BOINC reads an absent one as 0), as in the recorded request.
  return request('query_batch', authenticator, [
    batchReference(batch),
    query.cpuTime === true && xmlLeaf('get_cpu_time', 1),
    query.jobDetails === true && xmlLeaf('get_job_details', 1),
  ]);
}

export function formatQueryBatchChangesRequest(authenticator: string, batchNames: readonly string[], minModTime: number | undefined): string {
  batchNames.forEach((name) => assertBatchName(name));
  if (minModTime !== undefined && (typeof minModTime !== 'number' || !Number.isFinite(minModTime) || minModTime < 0)) {
    throw new InvalidArgumentError(`minModTime ${String(minModTime)} must be a Unix time in seconds (0 or more)`);
  }
  return request('query_batch2', authenticator, [...batchNames.map((name) => xmlLeaf('batch_name', name)), xmlLeaf('min_mod_time', minModTime)]);
}

export function formatQueryJobRequest(authenticator: string, jobId: number): string {
  assertId(jobId, 'jobId');
  return request('query_job', authenticator, [xmlLeaf('job_id', jobId)]);
}

export function formatQueryCompletedJobRequest(authenticator: string, jobName: string): string {
  assertJobName(jobName);
  return request('query_completed_job', authenticator, [xmlLeaf('job_name', jobName)]);
}

export function formatAbortJobsRequest(authenticator: string, jobNames: readonly string[]): string {
  jobNames.forEach((name) => assertJobName(name));
  return request('abort_jobs', authenticator, jobNames.map((name) => xmlLeaf('job_name', name)));
}

/** `abort_batch` and `retire_batch`: the batch by id or name. */
export function formatBatchOperationRequest(operation: 'abort_batch' | 'retire_batch', authenticator: string, batch: BatchReference): string {
  return request(operation, authenticator, [batchReference(batch)]);
}

export function formatGetTemplatesRequest(authenticator: string, of: { readonly appName: string } | { readonly jobName: string }): string {
  if ('appName' in of) {
    assertAppName(of.appName);
    return request('get_templates', authenticator, [xmlLeaf('app_name', of.appName)]);
  }
  assertJobName(of.jobName);
  return request('get_templates', authenticator, [xmlLeaf('job_name', of.jobName)]);
}

/** `query_files` and `upload_files` of `job_file.php`. */
export function formatJobFileRequest(
  operation: 'query_files' | 'upload_files',
  authenticator: string,
  physicalNames: readonly string[],
  options: { readonly batchId?: number; readonly deleteTime?: number } = {},
): string {
  physicalNames.forEach((name) => assertPhysicalName(name));
  if (options.batchId !== undefined) assertId(options.batchId, 'batchId');
  if (options.deleteTime !== undefined) assertInteger(options.deleteTime, 'deleteTime', 0);
  return request(operation, authenticator, [
    xmlLeaf('batch_id', options.batchId ?? 0),
    xmlLeaf('delete_time', options.deleteTime ?? 0),
    ...physicalNames.map((name) => xmlLeaf('phys_name', name)),
  ]);
}
