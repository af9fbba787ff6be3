import { InvalidArgumentError } from '@tsmw/core';
import { xmlElement, xmlEmpty, xmlLeaf, type XmlFragment } from '../xml/xml-builder.js';
import { assertInteger, assertPhysicalName, assertPositiveNumber } from './submit-rpc-values.js';

/**
 * A workunit's bounds and redundancy: the fields of an input template's `<workunit>` that
 * `create_work` reads (`tools/process_input_template.cpp`). In a template they override the
 * app's template and the batch's `job_params`.
 */
export interface WorkunitParameters {
  readonly rscFpopsEst?: number;
  readonly rscFpopsBound?: number;
  readonly rscMemoryBound?: number;
  readonly rscDiskBound?: number;
  /** Seconds a host has to return a result. */
  readonly delayBound?: number;
  /** Results that must agree before one is canonical. */
  readonly minQuorum?: number;
  /** Results created at first (at least `minQuorum`). */
  readonly targetNresults?: number;
  readonly maxErrorResults?: number;
  readonly maxTotalResults?: number;
  readonly maxSuccessResults?: number;
}

export interface JobInputTemplateOptions {
  /** The job's input files in order: the name the app opens each under, copied into the slot or linked. */
  readonly files: readonly { readonly openName: string; readonly copyFile?: boolean }[];
  readonly workunit?: WorkunitParameters;
}

export interface JobOutputTemplateOptions {
  /** The result's output files in order: the name the app writes each under and its size limit (required by the client). */
  readonly files: readonly { readonly openName: string; readonly maxNbytes: number; readonly copyFile?: boolean; readonly optional?: boolean }[];
}

const integerFields = ['delayBound', 'minQuorum', 'targetNresults', 'maxErrorResults', 'maxTotalResults', 'maxSuccessResults'] as const;
const numberFields = ['rscFpopsEst', 'rscFpopsBound', 'rscMemoryBound', 'rscDiskBound'] as const;
const boincNames: Readonly<Record<keyof WorkunitParameters, string>> = {
  rscFpopsEst: 'rsc_fpops_est',
  rscFpopsBound: 'rsc_fpops_bound',
  rscMemoryBound: 'rsc_memory_bound',
  rscDiskBound: 'rsc_disk_bound',
  delayBound: 'delay_bound',
  minQuorum: 'min_quorum',
  targetNresults: 'target_nresults',
  maxErrorResults: 'max_error_results',
  maxTotalResults: 'max_total_results',
  maxSuccessResults: 'max_success_results',
};

function checkWorkunit(workunit: WorkunitParameters): void {
  for (const field of numberFields) {
    const value = workunit[field];
    if (value !== undefined) assertPositiveNumber(value, field);
  }
  for (const field of integerFields) {
    const value = workunit[field];
    if (value !== undefined) assertInteger(value, field, 1);
  }
  const { minQuorum, targetNresults, maxSuccessResults, maxTotalResults } = workunit;
  if (minQuorum !== undefined && targetNresults !== undefined && targetNresults < minQuorum) {
    throw new InvalidArgumentError(`targetNresults (${targetNresults}) must be at least minQuorum (${minQuorum})`);
  }
  if (targetNresults !== undefined && maxSuccessResults !== undefined && targetNresults > maxSuccessResults) {
    throw new InvalidArgumentError(`targetNresults (${targetNresults}) must not exceed maxSuccessResults (${maxSuccessResults}): create_work refuses it`);
  }
  if (targetNresults !== undefined && maxTotalResults !== undefined && targetNresults > maxTotalResults) {
    throw new InvalidArgumentError(`targetNresults (${targetNresults}) must not exceed maxTotalResults (${maxTotalResults})`);
  }
}

/** `<input_template>` for a job: its files by position, and any workunit fields. */
export function formatJobInputTemplate(options: JobInputTemplateOptions): string {
  const workunit = options.workunit ?? {};
  checkWorkunit(workunit);
  const fileInfos: XmlFragment[] = [];
  const fileRefs: XmlFragment[] = [];
  options.files.forEach((file, index) => {
    assertPhysicalName(file.openName, `input file ${index}'s open name`);
    fileInfos.push(xmlElement('file_info', [xmlLeaf('number', index)]));
    fileRefs.push(xmlElement('file_ref', [xmlLeaf('file_number', index), xmlLeaf('open_name', file.openName), file.copyFile === true && xmlEmpty('copy_file')]));
  });
  const fields = (Object.keys(boincNames) as (keyof WorkunitParameters)[]).map((field) => xmlLeaf(boincNames[field], workunit[field], field));
  return xmlElement('input_template', [...fileInfos, xmlElement('workunit', [...fileRefs, ...fields])]);
}

/** `<output_template>` for a job: its output files, each uploaded when present, with its size limit. */
export function formatJobOutputTemplate(options: JobOutputTemplateOptions): string {
  const fileInfos: XmlFragment[] = [];
  const fileRefs: XmlFragment[] = [];
  options.files.forEach((file, index) => {
    assertPhysicalName(file.openName, `output file ${index}'s open name`);
    assertPositiveNumber(file.maxNbytes, `output file ${index}'s maxNbytes`);
    // The macros stay on one line with their element: create_work substitutes them in place.
    const name = xmlElement('name', [xmlEmpty(`OUTFILE_${index}`, { inline: true })], { inline: true });
    fileInfos.push(
      xmlElement('file_info', [
        `${name}\n` as XmlFragment,
        xmlEmpty('generated_locally'),
        xmlEmpty('upload_when_present'),
        xmlLeaf('max_nbytes', file.maxNbytes),
        `${xmlElement('url', [xmlEmpty('UPLOAD_URL', { inline: true })], { inline: true })}\n` as XmlFragment,
      ]),
    );
    fileRefs.push(
      xmlElement('file_ref', [
        `${xmlElement('file_name', [xmlEmpty(`OUTFILE_${index}`, { inline: true })], { inline: true })}\n` as XmlFragment,
        xmlLeaf('open_name', file.openName),
        file.copyFile === true && xmlEmpty('copy_file'),
        file.optional === true && xmlEmpty('optional'),
      ]),
    );
  });
  return xmlElement('output_template', [...fileInfos, xmlElement('result', fileRefs)]);
}
