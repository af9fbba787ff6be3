import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { escapeXmlText, findChild, textOf, tryParseXml } from '../parse-xml.js';
import type { XmlElement, XmlNode } from '../parse-xml.js';
import { dirHierPath, dirHierUrl } from './dir-hier.js';
import { cDouble, cInteger, parseCommandLine } from './parse-command-line.js';
import { findProjectDirectory, readProjectConfig } from './project-config.js';
import type { ProjectConfig } from './project-config.js';
import { openProjectDatabase } from './project-database.js';
import type { InputFileRecord, ProjectDatabase, WorkunitRecord } from './project-database.js';

/**
 * `bin/create_work` of the fake project, as strict as BOINC's `tools/create_work.cpp` (with
 * `tools/backend_lib.cpp` and `tools/process_input_template.cpp`), message for message where a
 * caller can see it. What it models, in BOINC's order:
 * - options `-name` or `--name`; an unknown dash option is "bad argument" (exit 1); any other word
 *   is an input file's physical name;
 * - `--stdin`: one job per line, read with a 4096-byte buffer (a line of 4095 bytes or more with
 *   its newline is "fgets() buffer was too small", exit 1), split by `parse_command_line`; on a
 *   line only `--command_line` (appended to the batch-level one), `--wu_name`, `--wu_template`,
 *   `--result_template`, `--remote_file URL NBYTES MD5`, `--target_host`, `--target_user`,
 *   `--priority` and file names; anything else with a dash is "bad stdin argument" (exit 1). A
 *   line without `--wu_name` is named `<batch-level name>_<line index>`. Unassigned jobs go in as
 *   one insert per megabyte of values at the end (so a failing line, or a duplicate name, leaves
 *   nothing of the batch behind unless it passed a megabyte) and nothing is printed per job;
 * - without `--stdin` one job, and `workunit name: X` on stdout unless `--wu_name` was given;
 * - the input template (relative to the working directory) is parsed for `<file_info>` and
 *   `<workunit>`; its values override the options; input files must be in the download hierarchy
 *   (or at the top of `download/`, then copied in, printing `copy A to B` on stdout); `.md5`
 *   files are read and written when `cache_md5_info` is set; a command line in both template and
 *   options, file counts that differ, a `<file_ref>` without open name, a WU document over 64 KB
 *   are errors; the result template must exist relative to the project directory (BOINC's bug
 *   is kept: a missing one returns success without creating the job, so without `--stdin` the
 *   program prints the name and exits 0 having created nothing, and with `--stdin` the batch's
 *   insert fails); zero bounds or counts, `max_success_results` or `max_error_results` above
 *   `max_total_results` are refused;
 * - names are unique: an insert with a name already present fails ("Duplicate entry").
 * Not modelled: `-d` levels, `--wu_id` updates of an existing workunit, MySQL itself.
 */

const commandSize = 4096;
const blobSize = 65536;
const ERR_FOPEN = -108;
const ERR_XML_PARSE = -112;
const ERR_BUFFER_OVERFLOW = -118;
const ERR_FILE_MISSING = -163;
const ERR_INVALID_PARAM = -178;
const ERR_NO_OPTION = -191;

const errorText: Readonly<Record<number, string>> = {
  [ERR_FOPEN]: 'fopen() failed',
  [ERR_XML_PARSE]: 'unexpected XML tag or syntax',
  [ERR_BUFFER_OVERFLOW]: 'buffer overflow',
  [ERR_FILE_MISSING]: 'file missing',
  [ERR_INVALID_PARAM]: 'invalid parameter',
  [ERR_NO_OPTION]: 'no option',
};

function boincError(code: number): string {
  return errorText[code] ?? `Error ${code}`;
}

export interface CommandIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly pid: number;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Thrown inside the program to end it with an exit status, as `exit(n)` does. */
export class ProgramExit {
  constructor(readonly status: number) {}
}

interface InfileDescription {
  readonly remote: boolean;
  readonly name: string;
  readonly url: string;
  readonly nbytes: number;
  readonly md5: string;
}

interface WorkunitFields {
  name: string;
  batch: number;
  priority: number;
  rscFpopsEst: number;
  rscFpopsBound: number;
  rscMemoryBound: number;
  rscDiskBound: number;
  delayBound: number;
  minQuorum: number;
  targetNresults: number;
  maxErrorResults: number;
  maxTotalResults: number;
  maxSuccessResults: number;
  appVersionNum: number;
  keywords: string;
  sizeClass: number;
}

interface JobDescription {
  wu: WorkunitFields;
  wuTemplate: string | undefined;
  wuTemplateFile: string;
  resultTemplateFile: string;
  infiles: InfileDescription[];
  commandLine: string;
  assignFlag: boolean;
  assignMulti: boolean;
  assignId: number;
  assignType: 'none' | 'host' | 'user' | 'team';
  subAppname: string;
}

function cloneJob(job: JobDescription): JobDescription {
  return { ...job, wu: { ...job.wu }, infiles: [...job.infiles] };
}

function newJob(): JobDescription {
  return {
    wu: {
      name: '',
      batch: 0,
      priority: 0,
      rscFpopsEst: 3600e9,
      rscFpopsBound: 86400e9,
      rscMemoryBound: 5e8,
      rscDiskBound: 1e9,
      delayBound: 7 * 86400,
      minQuorum: 1,
      targetNresults: 1,
      maxErrorResults: 1,
      maxTotalResults: 1,
      maxSuccessResults: 1,
      appVersionNum: 0,
      keywords: '',
      sizeClass: -1,
    },
    wuTemplate: undefined,
    wuTemplateFile: '',
    resultTemplateFile: '',
    infiles: [],
    commandLine: '',
    assignFlag: false,
    assignMulti: false,
    assignId: 0,
    assignType: 'none',
    subAppname: '',
  };
}

function isArgument(token: string | undefined, name: string): boolean {
  return token === `-${name}` || token === `--${name}`;
}

/** `safe_strcpy` into a 256-byte field keeps at most 255 bytes. */
function field(text: string, size = 256): string {
  const bytes = Buffer.from(text);
  return bytes.length < size ? text : bytes.subarray(0, size - 1).toString();
}

function md5File(path: string): { md5: string; nbytes: number } | undefined {
  try {
    const data = readFileSync(path);
    return { md5: createHash('md5').update(data).digest('hex'), nbytes: data.length };
  } catch {
    return undefined;
  }
}

/** `got_md5_info()`: a `NAME.md5` holding `MD5 NBYTES\n` and nothing more, not older than the file. */
function readMd5Info(path: string, io: CommandIo): { md5: string; nbytes: number } | undefined {
  const md5Path = `${path}.md5`;
  let fileTime: number;
  let md5Time: number;
  try {
    fileTime = statSync(path).mtimeMs;
    md5Time = statSync(md5Path).mtimeMs;
  } catch {
    return undefined;
  }
  const text = readFileSync(md5Path, 'latin1');
  const match = /^(\S+) (\S+)\n$/.exec(text);
  const nbytes = match?.[2] === undefined ? Number.NaN : Number(match[2]);
  if (!match?.[1] || !Number.isFinite(nbytes)) {
    io.stderr(`bad MD5 cache file ${md5Path}; remove it and stage file again\n`);
    return undefined;
  }
  if (Math.floor(md5Time / 1000) < Math.floor(fileTime / 1000)) {
    unlinkSync(md5Path);
    return undefined;
  }
  return { md5: match[1], nbytes };
}

function writeMd5Info(path: string, md5: string, nbytes: number): void {
  const md5Path = `${path}.md5`;
  if (existsSync(md5Path)) return;
  writeFileSync(md5Path, `${md5} ${nbytes.toExponential(15).replace(/e([+-])(\d)$/, 'e$10$2')}\n`);
}

function formatNumber(value: number): string {
  return value.toFixed(0);
}

/** Serialises an element of a template back to XML, as `XML_PARSER::copy_element` copies it. */
function serialize(node: XmlNode): string {
  if (typeof node === 'string') return escapeXmlText(node);
  const attributes = Object.entries(node.attributes)
    .map(([name, value]) => ` ${name}="${escapeXmlText(value).replace(/"/g, '&quot;')}"`)
    .join('');
  if (node.children.length === 0) return `<${node.name}${attributes}/>`;
  return `<${node.name}${attributes}>${node.children.map(serialize).join('')}</${node.name}>`;
}

function elementsOf(element: XmlElement): XmlElement[] {
  return element.children.filter((node): node is XmlElement => typeof node !== 'string');
}

interface TemplateResult {
  readonly xmlDoc: string;
  readonly inputFiles: InputFileRecord[];
  readonly commandLine: string;
}

class TemplateError {
  constructor(readonly code: number) {}
}

/** `process_input_template()`: the workunit's XML document; updates `wu` from the template's values. */
function processInputTemplate(
  template: string,
  wu: WorkunitFields,
  variableInfiles: readonly InfileDescription[],
  config: ProjectConfig,
  commandLine: string,
  additionalXml: string,
  io: CommandIo,
): TemplateResult {
  const fail = (message: string, code: number): never => {
    io.stderr(message);
    throw new TemplateError(code);
  };
  const document = tryParseXml(template);
  if (!document) fail('process_input_template: XML parse error in the input template\n', ERR_XML_PARSE);
  const root = findChild(document!, 'input_template') ?? document!;
  let out = '';
  let foundWorkunit = false;
  let variableIndex = 0;
  const infiles: InputFileRecord[] = [];
  const openNames: { openName: string; copyFile: boolean }[] = [];
  let templateCommandLine: string | undefined;

  for (const element of elementsOf(root)) {
    if (element.name === 'file_info') {
      let gzip = false;
      let physicalName = '';
      const urls: string[] = [];
      let md5Text = '';
      let nbytesDefault = -1;
      let gzippedNbytes = 0;
      let copied = '';
      for (const child of elementsOf(element)) {
        const text = textOf(child).trim();
        if (child.name === 'gzip') gzip = text === '' || Number.parseInt(text, 10) > 0;
        else if (child.name === 'physical_name') physicalName = text;
        else if (child.name === 'url') urls.push(text);
        else if (child.name === 'number') continue;
        else if (child.name === 'md5_cksum') md5Text = text;
        else if (child.name === 'nbytes') nbytesDefault = cDouble(text);
        else if (child.name === 'gzipped_nbytes') gzippedNbytes = cDouble(text);
        else copied += `${serialize(child)}\n`;
      }
      let variable: InfileDescription | undefined;
      if (physicalName === '') {
        variable = variableInfiles[variableIndex];
        if (!variable) fail(`Too few var input files given; need at least ${variableIndex + 1}\n`, ERR_XML_PARSE);
      }
      let buffer: string;
      let record: InputFileRecord;
      if (physicalName !== '') {
        const path = dirHierPath(physicalName, config.downloadDir, config.fanout);
        mkdirSync(dirname(path), { recursive: true });
        const info = readMd5Info(path, io);
        if (!info) fail(`missing MD5 info file for ${physicalName}\n`, ERR_FILE_MISSING);
        const url = dirHierUrl(physicalName, config.downloadUrl, config.fanout);
        buffer = `    <name>${physicalName}</name>\n    <url>${url}</url>\n    <md5_cksum>${info!.md5}</md5_cksum>\n    <nbytes>${formatNumber(info!.nbytes)}</nbytes>\n`;
        record = { name: physicalName, url, md5: info!.md5, nbytes: info!.nbytes, openName: '', copyFile: false, remote: false };
      } else if (nbytesDefault > 0) {
        if (md5Text === '' || urls.length === 0) fail('All file properties must be defined if at least one is defined (url, md5_cksum, nbytes)\n', ERR_XML_PARSE);
        if (gzip && !gzippedNbytes) fail('Must specify gzipped_nbytes\n', ERR_XML_PARSE);
        const urlLines = urls
          .map((url) => `    <url>${url}${variable!.name}</url>\n${gzip ? `    <gzipped_url>${url}${variable!.name}.gz</gzipped_url>\n` : ''}`)
          .join('');
        buffer = `    <name>${variable!.name}</name>\n${urlLines}    <md5_cksum>${md5Text}</md5_cksum>\n    <nbytes>${formatNumber(nbytesDefault)}</nbytes>\n`;
        if (gzip) buffer += `    <gzipped_nbytes>${formatNumber(gzippedNbytes)}</gzipped_nbytes>\n`;
        record = { name: variable!.name, url: `${urls[0]}${variable!.name}`, md5: md5Text, nbytes: nbytesDefault, openName: '', copyFile: false, remote: true };
      } else if (variable!.remote) {
        const name = `jf_${variable!.md5}`;
        buffer = `    <name>${name}</name>\n    <url>${variable!.url}</url>\n    <md5_cksum>${variable!.md5}</md5_cksum>\n    <nbytes>${formatNumber(variable!.nbytes)}</nbytes>\n`;
        record = { name, url: variable!.url, md5: variable!.md5, nbytes: variable!.nbytes, openName: '', copyFile: false, remote: true };
      } else {
        const name = variable!.name;
        const path = dirHierPath(name, config.downloadDir, config.fanout);
        mkdirSync(dirname(path), { recursive: true });
        if (!existsSync(path)) {
          const top = `${config.downloadDir}/${name}`;
          try {
            copyFileSync(top, path);
          } catch {
            // boinc_copy's failure is not checked; md5_file below reports the missing file.
          }
          io.stdout(`copy ${top} to ${path}\n`);
        }
        let info = config.cacheMd5Info ? readMd5Info(path, io) : undefined;
        if (!info) {
          info = md5File(path);
          if (!info) fail(`process_input_template: md5_file ${boincError(ERR_FOPEN)}\n`, ERR_FOPEN);
          if (config.cacheMd5Info) writeMd5Info(path, info!.md5, info!.nbytes);
        }
        const url = dirHierUrl(name, config.downloadUrl, config.fanout);
        let gzipLines = '';
        if (gzip) {
          let gzippedSize: number;
          try {
            gzippedSize = statSync(`${path}.gz`).size;
          } catch {
            fail(`process_input_template: missing gzip file ${path}.gz\n`, ERR_FILE_MISSING);
          }
          gzipLines = `    <gzipped_url>${url}.gz</gzipped_url>\n    <gzipped_nbytes>${formatNumber(gzippedSize!)}</gzipped_nbytes>\n`;
        }
        buffer = `    <name>${name}</name>\n    <url>${url}</url>\n${gzipLines}    <md5_cksum>${info!.md5}</md5_cksum>\n    <nbytes>${formatNumber(info!.nbytes)}</nbytes>\n`;
        record = { name, url, md5: info!.md5, nbytes: info!.nbytes, openName: '', copyFile: false, remote: false };
      }
      infiles.push(record);
      if (physicalName === '') variableIndex += 1;
      out += `<file_info>\n${copied}${buffer}</file_info>\n`;
    } else if (element.name === 'workunit') {
      foundWorkunit = true;
      out += '<workunit>\n';
      out += `<command_line>\n${commandLine}\n</command_line>\n`;
      let fileRefs = 0;
      for (const child of elementsOf(element)) {
        const text = textOf(child).trim();
        switch (child.name) {
          case 'file_ref': {
            const infile = infiles[fileRefs];
            if (!infile) fail('too many <file_ref>s\n', ERR_XML_PARSE);
            out += `<file_ref>\n    <file_name>${infile!.name}</file_name>\n`;
            let openName: string | undefined;
            let copyFile = false;
            for (const reference of elementsOf(child)) {
              if (reference.name === 'open_name') {
                openName = textOf(reference).trim();
                out += `    <open_name>${openName}</open_name>\n`;
              } else if (reference.name === 'file_number') {
                continue;
              } else if (reference.name === 'copy_file') {
                out += '    <copy_file/>\n';
                copyFile = true;
              } else if (reference.name === 'file_name') {
                io.stderr('<file_name> ignored in <file_ref> element.\n');
              } else {
                out += `${serialize(reference)}\n`;
              }
            }
            if (openName === undefined && !copyFile) fail('No open name found and copy_file not specified\n', ERR_XML_PARSE);
            if (openName === undefined) out += `    <open_name>${infile!.name}</open_name>\n`;
            out += '</file_ref>\n';
            openNames.push({ openName: openName ?? infile!.name, copyFile });
            fileRefs += 1;
            break;
          }
          case 'command_line':
            if (commandLine.length > 0) fail(`Can't specify command line ${textOf(child)}; already specified as ${commandLine}\n`, ERR_XML_PARSE);
            templateCommandLine = textOf(child);
            out += `<command_line>\n${templateCommandLine}\n</command_line>\n`;
            break;
          case 'rsc_fpops_est':
            wu.rscFpopsEst = cDouble(text);
            break;
          case 'rsc_fpops_bound':
            wu.rscFpopsBound = cDouble(text);
            break;
          case 'rsc_memory_bound':
            wu.rscMemoryBound = cDouble(text);
            break;
          case 'rsc_bandwidth_bound':
            break;
          case 'rsc_disk_bound':
            wu.rscDiskBound = cDouble(text);
            break;
          case 'batch':
            wu.batch = cInteger(text);
            break;
          case 'delay_bound':
            wu.delayBound = cInteger(text);
            break;
          case 'min_quorum':
            wu.minQuorum = cInteger(text);
            break;
          case 'target_nresults':
            wu.targetNresults = cInteger(text);
            break;
          case 'max_error_results':
            wu.maxErrorResults = cInteger(text);
            break;
          case 'max_total_results':
            wu.maxTotalResults = cInteger(text);
            break;
          case 'max_success_results':
            wu.maxSuccessResults = cInteger(text);
            break;
          case 'size_class':
            wu.sizeClass = cInteger(text);
            break;
          default:
            out += `${serialize(child)}\n`;
        }
      }
      if (additionalXml !== '') out += `${additionalXml}\n`;
      out += '</workunit>';
      if (wu.targetNresults > wu.maxSuccessResults) wu.maxSuccessResults = wu.targetNresults;
      if (wu.targetNresults > wu.maxTotalResults) wu.maxTotalResults = wu.targetNresults;
      if (fileRefs !== infiles.length) fail('#file refs != #file infos\n', ERR_XML_PARSE);
    }
  }
  if (!foundWorkunit) fail('process_input_template: bad WU template - no <workunit>\n', ERR_XML_PARSE);
  if (variableIndex !== variableInfiles.length) {
    fail(`process_input_template: ${variableInfiles.length} input files given, but template has ${variableIndex}\n`, ERR_XML_PARSE);
  }
  if (Buffer.byteLength(out) > blobSize - 1) {
    fail(`create_work: WU XML field is too long (${Buffer.byteLength(out)} bytes; max is ${blobSize - 1})\n`, ERR_BUFFER_OVERFLOW);
  }
  return {
    xmlDoc: out,
    inputFiles: infiles.map((infile, index) => ({ ...infile, openName: openNames[index]?.openName ?? infile.name, copyFile: openNames[index]?.copyFile ?? false })),
    commandLine: commandLine.length > 0 ? commandLine : (templateCommandLine ?? ''),
  };
}

/** What `create_work2()` produced: a record to insert, or nothing (BOINC's missing-result-template bug), or an error code. */
type CreateOutcome = { readonly record: Omit<WorkunitRecord, 'id'> } | { readonly skipped: true } | { readonly error: number };

interface CreateContext {
  readonly config: ProjectConfig;
  readonly projectDirectory: string;
  readonly appId: number;
  readonly appName: string;
  readonly io: CommandIo;
}

function createWork2(job: JobDescription, template: string, context: CreateContext): CreateOutcome {
  const { io } = context;
  const wu = { ...job.wu };
  const additionalXml = job.subAppname === '' ? '' : `   <sub_appname>${escapeXmlText(job.subAppname)}</sub_appname>`;
  let processed: TemplateResult;
  try {
    processed = processInputTemplate(template, wu, job.infiles, context.config, job.commandLine, additionalXml, io);
  } catch (error) {
    if (error instanceof TemplateError) {
      io.stderr(`process_input_template(): ${boincError(error.code)}\n`);
      return { error: error.code };
    }
    throw error;
  }
  const resultTemplatePath = `${context.projectDirectory}/${job.resultTemplateFile}`;
  if (!existsSync(resultTemplatePath)) {
    io.stderr(`create_work: result template file ${resultTemplatePath} doesn't exist\n`);
    return { skipped: true };
  }
  if (Buffer.byteLength(job.resultTemplateFile) > 63) {
    io.stderr(`result template filename is too big: ${Buffer.byteLength(job.resultTemplateFile)} bytes, max is 63\n`);
    return { error: ERR_BUFFER_OVERFLOW };
  }
  const checks: [boolean, string, number][] = [
    [wu.rscFpopsEst === 0, 'no rsc_fpops_est given; can\'t create job\n', ERR_NO_OPTION],
    [wu.rscFpopsBound === 0, 'no rsc_fpops_bound given; can\'t create job\n', ERR_NO_OPTION],
    [wu.rscDiskBound === 0, 'no rsc_disk_bound given; can\'t create job\n', ERR_NO_OPTION],
    [wu.targetNresults === 0, 'no target_nresults given; can\'t create job\n', ERR_NO_OPTION],
    [wu.maxErrorResults === 0, 'no max_error_results given; can\'t create job\n', ERR_NO_OPTION],
    [wu.maxTotalResults === 0, 'no max_total_results given; can\'t create job\n', ERR_NO_OPTION],
    [wu.maxSuccessResults === 0, 'no max_success_results given; can\'t create job\n', ERR_NO_OPTION],
    [wu.maxSuccessResults > wu.maxTotalResults, 'max_success_results > max_total_results; can\'t create job\n', ERR_INVALID_PARAM],
    [wu.maxErrorResults > wu.maxTotalResults, 'max_error_results > max_total_results; can\'t create job\n', ERR_INVALID_PARAM],
    [
      wu.targetNresults > wu.maxSuccessResults,
      `target_nresults ${wu.targetNresults} > max_success_results ${wu.maxSuccessResults}; can't create job\n`,
      ERR_INVALID_PARAM,
    ],
  ];
  for (const [failed, message, code] of checks) {
    if (failed) {
      io.stderr(message);
      return { error: code };
    }
  }
  return {
    record: {
      name: wu.name,
      appId: context.appId,
      appName: context.appName,
      batch: wu.batch,
      priority: wu.priority,
      createTime: Math.floor(Date.now() / 1000),
      xmlDoc: processed.xmlDoc,
      resultTemplateFile: job.resultTemplateFile,
      commandLine: processed.commandLine,
      inputFiles: processed.inputFiles,
      rscFpopsEst: wu.rscFpopsEst,
      rscFpopsBound: wu.rscFpopsBound,
      rscMemoryBound: wu.rscMemoryBound,
      rscDiskBound: wu.rscDiskBound,
      delayBound: wu.delayBound,
      minQuorum: wu.minQuorum,
      targetNresults: wu.targetNresults,
      maxErrorResults: wu.maxErrorResults,
      maxTotalResults: wu.maxTotalResults,
      maxSuccessResults: wu.maxSuccessResults,
      appVersionNum: wu.appVersionNum,
      keywords: wu.keywords,
      subAppname: job.subAppname,
      assignment: job.assignFlag ? { type: job.assignType, id: job.assignId, multi: job.assignMulti } : null,
      createdBy: io.pid,
    },
  };
}

/** The length of the SQL value list `db_print_values` would write for a record (for the 1 MB flush rule). */
function valueLength(record: Omit<WorkunitRecord, 'id'>): number {
  return 420 + record.name.length + record.xmlDoc.length + record.resultTemplateFile.length + record.keywords.length;
}

/**
 * One run of `create_work`: `start(argv)` parses the options (and, without `--stdin`, creates the
 * job), `line(bytes)` takes each stdin line as it arrives, `end()` inserts what is left. Any of them
 * may throw `ProgramExit`.
 */
export interface CreateWorkRun {
  readonly usesStdin: boolean;
  line(raw: Buffer): void;
  end(): void;
}

function takeValue(tokens: readonly string[], index: number, option: string, io: CommandIo, where: string): string {
  const value = tokens[index];
  if (value === undefined) {
    // BOINC's create_work reads past its argv here (undefined behaviour, usually a crash).
    io.stderr(`create_work: ${where} option ${option} needs a value\n`);
    throw new ProgramExit(1);
  }
  return value;
}

export function startCreateWork(argv: readonly string[], io: CommandIo): CreateWorkRun {
  const job = newJob();
  let appName = '';
  let showWuName = true;
  let useStdin = false;
  let configDirectory: string | undefined;
  let continueOnError = false;
  let verbose = false;

  const assign = (type: JobDescription['assignType'], value: string, multi: boolean, target: JobDescription): void => {
    target.assignFlag = true;
    target.assignType = type;
    target.assignMulti = multi;
    target.assignId = cInteger(value);
    if (target.assignId === 0) {
      io.stderr('you must specify a nonzero database ID for assigning jobs to users, teams, or hosts.\n');
      throw new ProgramExit(1);
    }
  };

  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index] ?? '';
    const value = (): string => takeValue(argv, ++index, token, io, 'command-line');
    if (isArgument(token, 'appname')) appName = field(value());
    else if (isArgument(token, 'd')) value();
    else if (isArgument(token, 'wu_name')) {
      showWuName = false;
      job.wu.name = field(value());
    } else if (isArgument(token, 'wu_template')) job.wuTemplateFile = field(value());
    else if (isArgument(token, 'result_template')) job.resultTemplateFile = field(value());
    else if (isArgument(token, 'config_dir')) configDirectory = value();
    else if (isArgument(token, 'batch')) job.wu.batch = cInteger(value());
    else if (isArgument(token, 'priority')) job.wu.priority = cInteger(value());
    else if (isArgument(token, 'credit')) value();
    else if (isArgument(token, 'rsc_fpops_est')) job.wu.rscFpopsEst = cDouble(value());
    else if (isArgument(token, 'rsc_fpops_bound')) job.wu.rscFpopsBound = cDouble(value());
    else if (isArgument(token, 'rsc_memory_bound')) job.wu.rscMemoryBound = cDouble(value());
    else if (isArgument(token, 'size_class')) job.wu.sizeClass = cInteger(value());
    else if (isArgument(token, 'app_version_num')) job.wu.appVersionNum = cInteger(value());
    else if (isArgument(token, 'rsc_disk_bound')) job.wu.rscDiskBound = cDouble(value());
    else if (isArgument(token, 'delay_bound')) job.wu.delayBound = cInteger(value());
    else if (isArgument(token, 'hr_class')) value();
    else if (isArgument(token, 'min_quorum')) job.wu.minQuorum = cInteger(value());
    else if (isArgument(token, 'target_nresults')) job.wu.targetNresults = cInteger(value());
    else if (isArgument(token, 'max_error_results')) job.wu.maxErrorResults = cInteger(value());
    else if (isArgument(token, 'max_total_results')) job.wu.maxTotalResults = cInteger(value());
    else if (isArgument(token, 'max_success_results')) job.wu.maxSuccessResults = cInteger(value());
    else if (isArgument(token, 'command_line')) job.commandLine = value();
    else if (isArgument(token, 'wu_id')) value();
    else if (isArgument(token, 'broadcast')) {
      job.assignMulti = true;
      job.assignFlag = true;
      job.assignType = 'none';
    } else if (isArgument(token, 'broadcast_user')) assign('user', value(), true, job);
    else if (isArgument(token, 'broadcast_team')) assign('team', value(), true, job);
    else if (isArgument(token, 'target_host')) assign('host', value(), false, job);
    else if (isArgument(token, 'target_user')) assign('user', value(), false, job);
    else if (isArgument(token, 'target_team')) assign('team', value(), false, job);
    else if (isArgument(token, 'help')) {
      io.stderr('usage: create_work [options] infile1 infile2 ...\n');
      throw new ProgramExit(1);
    } else if (isArgument(token, 'stdin')) useStdin = true;
    else if (isArgument(token, 'remote_file')) {
      const url = field(value());
      const nbytes = cDouble(value());
      const md5 = field(value(), 33);
      job.infiles.push({ remote: true, name: '', url, nbytes, md5 });
    } else if (isArgument(token, 'verbose')) verbose = true;
    else if (isArgument(token, 'continue_on_error')) continueOnError = true;
    else if (isArgument(token, 'keywords')) job.wu.keywords = value();
    else if (isArgument(token, 'sub_appname')) job.subAppname = value();
    else {
      if (token.startsWith('-')) {
        io.stderr(`create_work: bad argument '${token}'\n`);
        throw new ProgramExit(1);
      }
      job.infiles.push({ remote: false, name: field(token), url: '', nbytes: 0, md5: '' });
    }
  }

  if (appName === '') {
    io.stderr('usage: create_work [options] infile1 infile2 ...\n');
    throw new ProgramExit(1);
  }
  if (job.wu.name === '') job.wu.name = `${appName}_${io.pid}_${(Date.now() / 1000).toFixed(6)}`;
  if (job.wuTemplateFile === '') job.wuTemplateFile = `templates/${appName}_in`;
  if (job.resultTemplateFile === '') job.resultTemplateFile = `templates/${appName}_out`;

  const found = configDirectory === undefined ? findProjectDirectory(io.cwd, io.env) : { directory: resolve(io.cwd, configDirectory) };
  if ('error' in found) {
    io.stderr(`${found.error}\n`);
    throw new ProgramExit(1);
  }
  const projectDirectory = found.directory;
  let config: ProjectConfig;
  try {
    config = readProjectConfig(projectDirectory);
  } catch {
    io.stderr(`Can't parse config file: ${boincError(ERR_FOPEN)}\n`);
    throw new ProgramExit(1);
  }
  const database: ProjectDatabase = openProjectDatabase(projectDirectory);
  const app = database.readAppTables().apps.find((candidate) => candidate.name === appName);
  if (!app) {
    io.stderr('create_work: app not found\n');
    throw new ProgramExit(1);
  }

  const templatePath = resolve(io.cwd, job.wuTemplateFile);
  if (existsSync(templatePath)) {
    try {
      job.wuTemplate = readFileSync(templatePath, 'latin1').slice(0, blobSize - 1);
    } catch {
      io.stderr(`create_work: can't open input template ${job.wuTemplateFile}\n`);
      throw new ProgramExit(1);
    }
  } else if (!useStdin) {
    io.stderr(`create_work: input template file ${job.wuTemplateFile} doesn't exist\n`);
    throw new ProgramExit(1);
  }

  const context: CreateContext = { config, projectDirectory, appId: app.id, appName, io };
  const templates = new Map<string, string>();
  const templateFor = (target: JobDescription): string => {
    let template = templates.get(target.wuTemplateFile);
    if (template === undefined) {
      try {
        template = readFileSync(resolve(io.cwd, target.wuTemplateFile), 'latin1');
      } catch {
        io.stderr(`Can't read WU template ${target.wuTemplateFile}\n`);
        throw new ProgramExit(1);
      }
      templates.set(target.wuTemplateFile, template);
    }
    return template;
  };

  /** `JOB_DESC::create()`: one job, inserted on its own. */
  const createOne = (target: JobDescription, template: string): void => {
    const outcome = createWork2(target, template, context);
    if ('error' in outcome) {
      io.stderr(`create_work: ${boincError(outcome.error)}\n`);
      throw new ProgramExit(1);
    }
    if ('record' in outcome) {
      const inserted = database.insertWorkunits([outcome.record]);
      if ('duplicateName' in inserted) {
        io.stderr(`Database error: Duplicate entry '${inserted.duplicateName}' for key 'name'\nquery=insert into workunit ...\n`);
        io.stderr('create_work: workunit.insert() Error 1\n');
        io.stderr('create_work: Error 1\n');
        throw new ProgramExit(1);
      }
      if (verbose) io.stderr(`created workunit; name ${outcome.record.name}, ID ${inserted.inserted[0]?.id ?? 0}\n`);
    }
  };

  if (!useStdin) {
    createOne(job, job.wuTemplate ?? '');
    if (showWuName) io.stdout(`workunit name: ${job.wu.name}\n`);
    return { usesStdin: false, line: () => {}, end: () => {} };
  }

  // --stdin: values accumulate; a "value" of null stands for the garbage BOINC appends after a
  // job whose result template is missing (a SQL error when the insert runs).
  let values: (Omit<WorkunitRecord, 'id'> | null)[] = [];
  let valuesSize = 0;
  let lastValue: Omit<WorkunitRecord, 'id'> | null = null;
  let lineIndex = 0;

  const insertValues = (flushing: boolean): void => {
    if (values.length === 0) return;
    const size = valuesSize;
    if (values.includes(null)) {
      io.stderr('Database error: You have an error in your SQL syntax\nquery=insert into workunit ...\n');
      io.stderr(flushing ? `wu.insert_batch() failed: 1; size ${size}\n` : 'wu.insert_batch() failed: 1\n');
      io.stderr('MySQL error: You have an error in your SQL syntax\n');
      throw new ProgramExit(1);
    }
    const inserted = database.insertWorkunits(values as Omit<WorkunitRecord, 'id'>[]);
    if ('duplicateName' in inserted) {
      io.stderr(`Database error: Duplicate entry '${inserted.duplicateName}' for key 'name'\nquery=insert into workunit ...\n`);
      io.stderr(flushing ? `wu.insert_batch() failed: 1; size ${size}\n` : 'wu.insert_batch() failed: 1\n');
      io.stderr(`MySQL error: Duplicate entry '${inserted.duplicateName}' for key 'name'\n`);
      throw new ProgramExit(1);
    }
    values = [];
    valuesSize = 0;
  };

  return {
    usesStdin: true,
    line(raw) {
      const index = lineIndex;
      lineIndex += 1;
      // fgets into a 4096-byte buffer: a line that fills it (4095 bytes with its newline) is refused.
      if (raw.length >= commandSize - 1) {
        io.stderr('fgets() buffer was too small\n');
        throw new ProgramExit(1);
      }
      const nul = raw.indexOf(0);
      const text = (nul === -1 ? raw : raw.subarray(0, nul)).toString('utf8');
      const tokens = parseCommandLine(text);
      if (tokens.length >= 100) {
        // The line's argv array holds 99 tokens; BOINC writes past it.
        io.stderr(`create_work: ${tokens.length} tokens on stdin line ${index}; create_work's argv array holds 99\n`);
        throw new ProgramExit(1);
      }
      const target = cloneJob(job);
      target.wu.name = '';
      for (let position = 0; position < tokens.length; position += 1) {
        const token = tokens[position] ?? '';
        const value = (): string => takeValue(tokens, ++position, token, io, 'stdin');
        if (isArgument(token, 'command_line')) {
          const addition = value();
          target.commandLine = target.commandLine.length > 0 ? `${target.commandLine} ${addition}` : addition;
          if (Buffer.byteLength(target.commandLine) >= commandSize) {
            io.stderr('create_work: command line overflows its 4096-byte buffer\n');
            throw new ProgramExit(1);
          }
        } else if (isArgument(token, 'wu_name')) target.wu.name = field(value());
        else if (isArgument(token, 'wu_template')) target.wuTemplateFile = field(value());
        else if (isArgument(token, 'result_template')) target.resultTemplateFile = field(value());
        else if (isArgument(token, 'remote_file')) {
          const url = field(value());
          const nbytes = cDouble(value());
          const md5 = field(value(), 33);
          target.infiles.push({ remote: true, name: '', url, nbytes, md5 });
        } else if (isArgument(token, 'target_host')) assign('host', value(), false, target);
        else if (isArgument(token, 'target_user')) assign('user', value(), false, target);
        else if (isArgument(token, 'priority')) target.wu.priority = cInteger(value());
        else {
          if (token.startsWith('-')) {
            io.stderr(`create_work: bad stdin argument '${token}'\n`);
            throw new ProgramExit(1);
          }
          target.infiles.push({ remote: false, name: field(token), url: '', nbytes: 0, md5: '' });
        }
      }
      if (target.wu.name === '') target.wu.name = field(`${job.wu.name}_${index}`);
      if (job.assignFlag || target.assignFlag) {
        // Assigned jobs are created one at a time (and the batch-level template is used as read).
        const template = job.assignFlag && target.wuTemplateFile === job.wuTemplateFile && job.wuTemplate !== undefined ? job.wuTemplate : templateFor(target);
        if (template === '') {
          io.stderr('job is missing input template\n');
          throw new ProgramExit(1);
        }
        createOne(target, template);
        return;
      }
      const template = templateFor(target);
      if (template === '') {
        io.stderr('job is missing input template\n');
        throw new ProgramExit(1);
      }
      const outcome = createWork2(target, template, context);
      if ('error' in outcome) {
        io.stderr(`create_work() failed: ${outcome.error}\n`);
        if (continueOnError) return;
        throw new ProgramExit(1);
      }
      const value = 'record' in outcome ? outcome.record : lastValue;
      if ('record' in outcome) lastValue = outcome.record;
      values.push(value);
      const length = value === null ? 0 : valueLength(value);
      valuesSize += (values.length > 1 ? 1 : 0) + length;
      if (valuesSize + 2 * length > 1_000_000) insertValues(true);
    },
    end() {
      insertValues(false);
    },
  };
}

/** Runs `create_work` over a whole stdin text (for tests that call it in-process). */
export function runCreateWork(argv: readonly string[], stdin: string | Buffer, io: CommandIo): number {
  try {
    const run = startCreateWork(argv, io);
    if (run.usesStdin) {
      const bytes = typeof stdin === 'string' ? Buffer.from(stdin) : stdin;
      let start = 0;
      while (start < bytes.length) {
        const newline = bytes.indexOf(0x0a, start);
        const end = newline === -1 ? bytes.length : newline + 1;
        run.line(bytes.subarray(start, end));
        start = end;
      }
      run.end();
    }
    return 0;
  } catch (error) {
    if (error instanceof ProgramExit) return error.status;
    throw error;
  }
}

