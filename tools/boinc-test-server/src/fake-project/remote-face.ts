import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { childNumber, childText, escapeXmlText, findChild, findChildren, textOf, tryParseXml } from '../parse-xml.js';
import type { XmlElement } from '../parse-xml.js';
import { dirHierPath } from './dir-hier.js';
import { readProjectConfig } from './project-config.js';
import { checkDownloadFile } from './project-commands.js';
import { AssimilateState, ResultOutcome, ResultServerState, WorkunitError } from './project-daemons.js';
import type { ProjectDaemons, WorkunitState } from './project-daemons.js';
import { openProjectDatabase } from './project-database.js';

/** A user of the fake project's remote job submission. */
export interface FakeBoincUser {
  readonly name: string;
  readonly authenticator: string;
  /** A `user_submit` row: true for every app, a list of app names, or false (no submit rights). Default true. */
  readonly submit?: boolean | readonly string[];
}

export interface FakeBatch {
  readonly id: number;
  readonly userName: string;
  name: string;
  readonly appName: string;
  readonly createTime: number;
  /** 0 init, 1 in progress, 2 complete, 3 aborted, 4 retired. */
  state: number;
  njobs: number;
  completionTime: number;
  expireTime: number;
}

/** A fault the remote face injects into its next replies (for the op given, or any). */
export type RemoteFault =
  | { readonly kind: 'php-warning-before-xml' }
  | { readonly kind: 'php-warning-after-start-tag' }
  | { readonly kind: 'html-error-page' }
  | { readonly kind: 'http-500' }
  | { readonly kind: 'truncated' }
  | { readonly kind: 'stall' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'error-reply'; readonly errorNum: number; readonly message: string };

/** What the handler wants sent back. */
export interface RemoteReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  /** Raw bytes for the whole HTTP response (status line and headers included), for BOINC's double-send. */
  readonly raw?: Buffer;
}

class XmlErrorExit {
  constructor(readonly body: string) {}
}

const phpWarning = (line: number): string =>
  `<br />\n<b>Warning</b>:  Undefined variable $job_id in <b>/home/boincadm/projects/test/html/user/submit_rpc_handler.php</b> on line <b>${line}</b><br />\n`;

export interface RemoteFaceOptions {
  readonly projectDirectory: string;
  readonly daemons: ProjectDaemons;
  readonly users: readonly FakeBoincUser[];
  /** Picks up workunits that `create_work` wrote. */
  readonly syncWorkunits: () => void;
  readonly count: (key: string) => void;
}

function batchState(batch: FakeBatch, workunits: readonly WorkunitState[]): { fractionDone: number; nerror: number } {
  if (batch.state === 0 || workunits.length === 0) return { fractionDone: 0, nerror: 0 };
  let done = 0;
  let nerror = 0;
  let completed = true;
  for (const workunit of workunits) {
    if (workunit.canonicalResultId) done += 1;
    else if (workunit.errorMask) nerror += 1;
    else completed = false;
  }
  batch.njobs = workunits.length;
  if (completed && batch.state === 1) {
    batch.state = 2;
    batch.completionTime = Math.floor(Date.now() / 1000);
  }
  return { fractionDone: (done + nerror) / workunits.length, nerror };
}

/**
 * The PHP side of BOINC's remote job submission, as `html/user/submit_rpc_handler.php`,
 * `job_file.php`, `get_output2.php` and `get_output3.php` behave today, known bugs included.
 */
export function createRemoteFace(options: RemoteFaceOptions) {
  const batches = new Map<number, FakeBatch>();
  let nextBatchId = 1;
  const { daemons } = options;

  function workunitsOf(batch: FakeBatch): WorkunitState[] {
    return [...daemons.workunits.values()].filter((workunit) => workunit.record.batch === batch.id).sort((a, b) => a.record.id - b.record.id);
  }

  function start(tag: string): string {
    return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<${tag}>\n`;
  }

  function xmlError(tag: string, message: string, num = -1): never {
    throw new XmlErrorExit(`${start(tag)}<error>\n    <error_num>${num}</error_num>\n    <error_msg>${message}</error_msg>\n</error>\n</${tag}>\n`);
  }

  function user(tag: string, request: XmlElement, appName: string | null): FakeBoincUser {
    const authenticator = childText(request, 'authenticator') ?? '';
    if (authenticator === '') xmlError(tag, 'no authenticator');
    const found = options.users.find((candidate) => candidate.authenticator === authenticator);
    if (!found) xmlError(tag, 'bad authenticator');
    const rights = found!.submit ?? true;
    const allowed = appName === null ? rights !== false : rights === true || (Array.isArray(rights) && rights.includes(appName));
    if (!allowed) xmlError(tag, appName === null ? 'no file access' : 'no submit access');
    return found!;
  }

  function app(tag: string, name: string): void {
    const apps = openProjectDatabase(options.projectDirectory).readAppTables().apps;
    if (!apps.some((candidate) => candidate.name === name)) xmlError(tag, `app not found: ${escapeXmlText(name)}`);
  }

  function getBatch(tag: string, request: XmlElement, owner: FakeBoincUser): FakeBatch {
    const id = childNumber(request, 'batch_id') ?? 0;
    const name = childText(request, 'batch_name') ?? '';
    let batch: FakeBatch | undefined;
    if (id) batch = batches.get(id);
    else if (name !== '') batch = [...batches.values()].find((candidate) => candidate.name === name);
    else xmlError(tag, 'batch not specified');
    if (!batch) xmlError(tag, 'no such batch');
    if (batch!.userName !== owner.name) xmlError(tag, 'not owner of batch');
    return batch!;
  }

  function batchName(owner: FakeBoincUser, appName: string): string {
    return `${owner.name}:${appName}:${new Date().toUTCString().replace('GMT', '+0000')}`;
  }

  function printBatch(batch: FakeBatch): string {
    const { fractionDone, nerror } = batchState(batch, workunitsOf(batch));
    return `
        <id>${batch.id}</id>
        <create_time>${batch.createTime}</create_time>
        <expire_time>${batch.expireTime}</expire_time>
        <est_completion_time>0</est_completion_time>
        <njobs>${batch.njobs}</njobs>
        <fraction_done>${fractionDone}</fraction_done>
        <nerror_jobs>${nerror}</nerror_jobs>
        <state>${batch.state}</state>
        <completion_time>${batch.completionTime}</completion_time>
        <credit_estimate>0</credit_estimate>
        <credit_canonical>0</credit_canonical>
        <name>${batch.name}</name>
        <app_name>${batch.appName}</app_name>
`;
  }

  function runCreateWork(argv: readonly string[], stdin: string): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(join(options.projectDirectory, 'bin', 'create_work'), argv, { cwd: options.projectDirectory, stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdin.on('error', () => {});
      child.on('error', (error) => resolve({ code: 127, output: output + String(error) }));
      child.on('close', (code) => resolve({ code, output }));
      child.stdin.end(stdin);
    });
  }

  async function submitBatch(request: XmlElement): Promise<string> {
    const tag = 'submit_batch';
    const batchElement = findChild(request, 'batch');
    const appName = (batchElement && childText(batchElement, 'app_name')) ?? '';
    app(tag, appName);
    const owner = user(tag, request, appName);
    const config = readProjectConfig(options.projectDirectory);
    const jobs = batchElement ? findChildren(batchElement, 'job') : [];
    const inputTemplatePath = join(options.projectDirectory, 'templates', `${appName}_in`);
    if (existsSync(inputTemplatePath)) {
      const template = tryParseXml(readFileSync(inputTemplatePath, 'latin1'));
      const root = template && (findChild(template, 'input_template') ?? template);
      if (!root) xmlError(tag, `couldn't parse input template file ${inputTemplatePath}`);
      const expected = findChildren(root!, 'file_info').length;
      jobs.forEach((job, index) => {
        const given = findChildren(job, 'input_file').length;
        if (given !== expected) xmlError(tag, `wrong # of input files for job ${index}: need ${expected}, got ${given}`);
      });
    }
    // stage_files()
    const lines: string[] = [];
    for (const job of jobs) {
      let line = '';
      const name = childText(job, 'name') ?? '';
      const commandLine = findChild(job, 'command_line') ? textOf(findChild(job, 'command_line')!) : '';
      if (name) line += ` --wu_name ${name}`;
      if (commandLine) line += ` --command_line "${commandLine}"`;
      const team = Math.trunc(childNumber(job, 'target_team') ?? 0);
      const targetUser = Math.trunc(childNumber(job, 'target_user') ?? 0);
      const targetHost = Math.trunc(childNumber(job, 'target_host') ?? 0);
      if (team) line += ` --target_team ${team}`;
      else if (targetUser) line += ` --target_user ${targetUser}`;
      else if (targetHost) line += ` --target_host ${targetHost}`;
      for (const file of findChildren(job, 'input_file')) {
        const mode = childText(file, 'mode') ?? '';
        if (mode === 'remote') {
          line += ` --remote_file ${childText(file, 'url') ?? ''} ${Number(childText(file, 'nbytes') ?? 0)} ${childText(file, 'md5') ?? ''}`;
          continue;
        }
        const source = findChild(file, 'source') ? textOf(findChild(file, 'source')!) : '';
        if (mode === 'local_staged') line += ` ${source}`;
        else if (mode === 'inline' || mode === 'sandbox') {
          // BOINC's stage_file(): `sandbox` falls through into `inline` (its source is then the content).
          const md5 = createHash('md5').update(source, 'latin1').digest('hex');
          const physical = `jf_${md5}`;
          const path = dirHierPath(physical, config.downloadDir, config.fanout);
          mkdirSync(dirname(path), { recursive: true });
          if (!existsSync(path)) {
            if (source.length === 0) xmlError(tag, `can't write to file ${path}`);
            writeFileSync(path, source, 'latin1');
          }
          line += ` ${physical}`;
        } else xmlError(tag, `unsupported file mode: ${mode}`);
      }
      const priority = childText(job, 'priority');
      if (priority !== undefined) line += ` --priority ${Math.trunc(Number(priority) || 0)}`;
      lines.push(`${line}\n`);
    }
    let batchId = Math.trunc((batchElement && childNumber(batchElement, 'batch_id')) ?? 0);
    let batch: FakeBatch;
    if (batchId) {
      const existing = batches.get(batchId);
      if (!existing) xmlError(tag, `no batch ${batchId}`);
      if (existing!.userName !== owner.name) xmlError(tag, 'not owner of batch');
      if (existing!.state !== 0) xmlError(tag, 'batch not in init state');
      batch = existing!;
      batch.njobs = jobs.length;
    } else {
      batchId = nextBatchId++;
      batch = {
        id: batchId,
        userName: owner.name,
        name: ((batchElement && childText(batchElement, 'batch_name')) || '') || batchName(owner, appName),
        appName,
        createTime: Math.floor(Date.now() / 1000),
        state: 0,
        njobs: jobs.length,
        completionTime: 0,
        expireTime: 0,
      };
      batches.set(batchId, batch);
    }
    const argv = ['--appname', appName, '--batch', String(batchId)];
    const batchPriority = batchElement && childText(batchElement, 'priority');
    if (batchPriority !== undefined && batchPriority !== null) argv.push('--priority', String(Math.trunc(Number(batchPriority) || 0)));
    const params = batchElement && findChild(batchElement, 'job_params');
    for (const name of ['rsc_disk_bound', 'rsc_fpops_est', 'rsc_fpops_bound', 'rsc_memory_bound', 'delay_bound']) {
      const value = params ? Number(childText(params, name) ?? 0) : 0;
      if (value) argv.push(`--${name}`, String(value));
    }
    argv.push('--stdin');
    const outcome = await runCreateWork(argv, lines.join(''));
    options.syncWorkunits();
    if (outcome.code !== 0) xmlError(tag, `create_work failed: ${outcome.output}`);
    batch.state = 1;
    return `${start(tag)}<batch_id>${batchId}</batch_id>\n        </submit_batch>\n    `;
  }

  function jobDetails(workunit: WorkunitState): string {
    let text = '';
    const mask = workunit.errorMask;
    const names: [number, string][] = [
      [WorkunitError.couldntSendResult, 'couldnt_send_result'],
      [WorkunitError.tooManyErrorResults, 'too_many_error_results'],
      [WorkunitError.tooManySuccessResults, 'too_many_success_results'],
      [WorkunitError.tooManyTotalResults, 'too_many_total_results'],
      [WorkunitError.cancelled, 'cancelled'],
      [WorkunitError.noCanonicalResult, 'no_canonical_result'],
    ];
    for (const [bit, name] of names) if (mask & bit) text += `   <error>${name}</error>\n`;
    let inProgress = 0;
    for (const result of workunit.results) {
      if (result.serverState === ResultServerState.inProgress) inProgress += 1;
      if (mask && result.outcome === ResultOutcome.clientError) text += `            <exit_status>${result.exitStatus}</exit_status>\n`;
      if (result.id === workunit.canonicalResultId) text += `            <cpu_time>${result.cpuTime}</cpu_time>\n`;
    }
    if (mask) return `${text}            <status>error</status>\n`;
    if (workunit.canonicalResultId) return `${text}            <status>done</status>\n`;
    return `${text}            <status>${inProgress > 0 ? 'in_progress' : 'queued'}</status>\n`;
  }

  function abortWorkunit(workunit: WorkunitState): void {
    for (const result of workunit.results) {
      if (result.serverState === ResultServerState.unsent) {
        result.serverState = ResultServerState.over;
        result.outcome = ResultOutcome.didntNeed;
      }
    }
    workunit.errorMask |= WorkunitError.cancelled;
    workunit.transitionNeeded = true;
    workunit.modifiedAt = Date.now();
  }

  async function handleSubmitRpc(requestText: string): Promise<string> {
    options.syncWorkunits();
    const document = tryParseXml(requestText);
    const request = document?.children.find((node): node is XmlElement => typeof node !== 'string');
    if (!request) xmlError('', `can't parse request message: ${escapeXmlText(requestText)}`);
    const tag = request!.name;
    options.count(`submit_rpc_handler:${tag}`);
    switch (tag) {
      case 'ping':
        return `${start(tag)}<success>1</success>\n        </ping>\n    `;
      case 'submit_batch':
        return submitBatch(request!);
      case 'create_batch': {
        const appName = childText(request!, 'app_name') ?? '';
        app(tag, appName);
        const owner = user(tag, request!, appName);
        const id = nextBatchId++;
        batches.set(id, {
          id,
          userName: owner.name,
          name: childText(request!, 'batch_name') || batchName(owner, appName),
          appName,
          createTime: Math.floor(Date.now() / 1000),
          state: 0,
          njobs: 0,
          completionTime: 0,
          expireTime: Number(childText(request!, 'expire_time') ?? 0) || 0,
        });
        return `${start(tag)}<batch_id>${id}</batch_id>\n        </create_batch>\n    `;
      }
      case 'query_batch': {
        const owner = user(tag, request!, null);
        const batch = getBatch(tag, request!, owner);
        const details = (childNumber(request!, 'get_job_details') ?? 0) !== 0;
        let body = start(tag) + printBatch(batch);
        for (const workunit of workunitsOf(batch)) {
          body += `        <job>\n        <id>${workunit.record.id}</id>\n        <name>${workunit.record.name}</name>\n        <canonical_instance_id>${workunit.canonicalResultId}</canonical_instance_id>\n`;
          if (details) body += jobDetails(workunit);
          body += '        </job>\n';
        }
        return `${body}</query_batch>\n`;
      }
      case 'query_batches': {
        const owner = user(tag, request!, null);
        let body = start(tag);
        for (const batch of batches.values()) {
          if (batch.userName !== owner.name || batch.state === 4) continue;
          body += `    <batch>\n${printBatch(batch)}   </batch>\n`;
        }
        return `${body}</query_batches>\n`;
      }
      case 'query_batch2': {
        const owner = user(tag, request!, null);
        const selected: FakeBatch[] = [];
        for (const element of findChildren(request!, 'batch_name')) {
          const name = textOf(element).trim();
          const batch = [...batches.values()].find((candidate) => candidate.name === name);
          if (!batch) xmlError(tag, `no batch named ${name}`);
          if (batch!.userName !== owner.name) xmlError(tag, `not owner of ${name}`);
          selected.push(batch!);
        }
        const minModTime = Number(childText(request!, 'min_mod_time') ?? 0) || 0;
        let body = `${start(tag)}<server_time>${(Date.now() / 1000).toFixed(6)}</server_time>\n`;
        for (const batch of selected) {
          const workunits = workunitsOf(batch).filter((workunit) => !minModTime || workunit.modifiedAt / 1000 > minModTime);
          body += `   <batch_size>${workunits.length}</batch_size>\n`;
          for (const workunit of workunits) {
            const status = workunit.canonicalResultId
              ? 'DONE'
              : workunit.errorMask
                ? 'ERROR'
                : workunit.results.some((result) => result.sentAt > 0)
                  ? 'IN_PROGRESS'
                  : 'UNSENT';
            body += `    <job>\n        <job_name>${workunit.record.name}</job_name>\n        <status>${status}</status>\n    </job>\n`;
          }
        }
        return `${body}</query_batch2>\n`;
      }
      case 'query_completed_job': {
        const owner = user(tag, request!, null);
        const name = childText(request!, 'job_name') ?? '';
        const workunit = daemons.workunitsByName.get(name);
        if (!workunit) xmlError(tag, 'no such job');
        const batch = batches.get(workunit!.record.batch);
        if (!batch || batch.userName !== owner.name) xmlError(tag, 'not owner');
        let body = `${start(tag)}<completed_job>\n   <error_mask>${workunit!.errorMask}</error_mask>\n`;
        const canonical = daemons.resultsById.get(workunit!.canonicalResultId);
        if (workunit!.canonicalResultId && canonical) {
          body += `   <canonical_resultid>${canonical.id}</canonical_resultid>\n`;
          body += `   <exit_status>${canonical.exitStatus}</exit_status>\n   <elapsed_time>${canonical.elapsedTime}</elapsed_time>\n   <cpu_time>${canonical.cpuTime}</cpu_time>\n`;
          body += `   <stderr_out><![CDATA[\n${escapeXmlText(canonical.stderrOut).replaceAll('"', '&quot;')}   ]]></stderr_out>\n`;
        } else {
          // BOINC reads an undefined $job_id here: the warnings, and no instance for a failed job.
          body += phpWarning(950) + phpWarning(951).replace('$job_id', '$result');
        }
        return `${body}</completed_job>\n        </query_completed_job>\n    `;
      }
      case 'abort_batch': {
        const owner = user(tag, request!, null);
        const batch = getBatch(tag, request!, owner);
        for (const workunit of workunitsOf(batch)) abortWorkunit(workunit);
        batch.state = 3;
        batch.completionTime = Math.floor(Date.now() / 1000);
        return `${start(tag)}<success>1</success>\n        </abort_batch>\n    `;
      }
      case 'abort_jobs': {
        const owner = user(tag, request!, null);
        let body = start(tag);
        for (const element of findChildren(request!, 'job_name')) {
          const name = textOf(element).trim();
          const workunit = daemons.workunitsByName.get(name);
          if (!workunit) throw new XmlErrorExit(`${body}<error>\n    <error_num>-1</error_num>\n    <error_msg>no job ${name}</error_msg>\n</error>\n</${tag}>\n`);
          if (!workunit.record.batch) throw new XmlErrorExit(`${body}<error>\n    <error_num>-1</error_num>\n    <error_msg>job ${name} is not part of a batch</error_msg>\n</error>\n</${tag}>\n`);
          const batch = batches.get(workunit.record.batch);
          if (!batch || batch.userName !== owner.name) throw new XmlErrorExit(`${body}<error>\n    <error_num>-1</error_num>\n    <error_msg>not owner of batch</error_msg>\n</error>\n</${tag}>\n`);
          body += `<aborted ${name}>\n`;
          abortWorkunit(workunit);
        }
        return `${body}<success>1</success>\n        </abort_jobs>\n    `;
      }
      case 'retire_batch': {
        const owner = user(tag, request!, null);
        const batch = getBatch(tag, request!, owner);
        const workunits = workunitsOf(batch);
        batchState(batch, workunits);
        batch.state = 4;
        for (const workunit of workunits) {
          const unsent = !workunit.canonicalResultId && !workunit.errorMask && !workunit.results.some((result) => result.sentAt > 0);
          if (unsent) {
            workunit.errorMask |= WorkunitError.cancelled;
            workunit.transitionNeeded = true;
          }
        }
        return `${start(tag)}<success>1</success>\n        </retire_batch>\n    `;
      }
      case 'get_templates': {
        let appName = childText(request!, 'app_name') ?? '';
        if (appName) app(tag, appName);
        else {
          const workunit = daemons.workunitsByName.get(childText(request!, 'job_name') ?? '');
          if (!workunit) xmlError(tag, `job not found: ${escapeXmlText(childText(request!, 'job_name') ?? '')}`);
          appName = workunit!.record.appName;
        }
        user(tag, request!, appName);
        const read = (suffix: string): string | undefined => {
          try {
            return readFileSync(join(options.projectDirectory, 'templates', `${appName}_${suffix}`), 'latin1');
          } catch {
            return undefined;
          }
        };
        const input = read('in');
        const output = read('out');
        if (input === undefined || output === undefined) xmlError(tag, 'template file missing');
        return `${start(tag)}<templates>\n${input}\n${output}\n</templates>\n        </get_templates>\n    `;
      }
      default:
        return xmlError(tag, 'bad command');
    }
  }

  async function handleJobFile(requestText: string, files: readonly Buffer[]): Promise<string> {
    const document = tryParseXml(requestText);
    const request = document?.children.find((node): node is XmlElement => typeof node !== 'string');
    if (!request) xmlError('', `can't parse request message: ${escapeXmlText(requestText)}`);
    const tag = request!.name;
    options.count(`job_file:${tag}`);
    const validName = (name: string): boolean => name.length <= 255 && /^[A-Za-z0-9_\-. ]+$/.test(name);
    const config = readProjectConfig(options.projectDirectory);
    const downloadRoot = join(options.projectDirectory, 'download');
    if (tag === 'query_files') {
      user(tag, request!, null);
      const absent: number[] = [];
      findChildren(request!, 'phys_name').forEach((element, index) => {
        const name = textOf(element);
        if (!validName(name)) xmlError(tag, 'bad filename');
        if (!existsSync(dirHierPath(name, downloadRoot, config.fanout))) absent.push(index);
      });
      return `${start(tag)}<absent_files>\n${absent.map((index) => `<file>${index}</file>\n`).join('')}</absent_files>\n        </query_files>\n    `;
    }
    if (tag === 'upload_files') {
      user(tag, request!, null);
      const names = findChildren(request!, 'phys_name').map((element) => textOf(element));
      if (files.length !== names.length) xmlError(tag, `# of uploaded files (${files.length}) doesn't agree with request (${names.length})`);
      for (const name of names) if (!validName(name)) xmlError(tag, 'bad filename');
      const temporaryDirectory = join(options.projectDirectory, 'tmp_upload');
      mkdirSync(temporaryDirectory, { recursive: true });
      files.forEach((data, index) => {
        const name = names[index]!;
        options.count(`uploaded:${name}`);
        const path = dirHierPath(name, downloadRoot, config.fanout);
        mkdirSync(dirname(path), { recursive: true });
        const temporary = join(temporaryDirectory, `php${process.pid}_${index}`);
        writeFileSync(temporary, data);
        const state = checkDownloadFile(temporary, path);
        if (state === 1) {
          renameSync(temporary, path);
          const now = new Date();
          utimesSync(`${path}.md5`, now, now);
        } else if (state === -1) {
          xmlError(tag, `file immutability violation for ${name}`);
        }
      });
      return `${start(tag)}<success/>\n        </upload_files>\n    `;
    }
    return xmlError(tag, 'no such action');
  }

  return {
    batches,
    async submitRpc(requestText: string): Promise<string> {
      try {
        return await handleSubmitRpc(requestText);
      } catch (error) {
        if (error instanceof XmlErrorExit) return error.body;
        throw error;
      }
    },
    async jobFile(requestText: string, files: readonly Buffer[]): Promise<string> {
      try {
        return await handleJobFile(requestText, files);
      } catch (error) {
        if (error instanceof XmlErrorExit) return error.body;
        throw error;
      }
    },
    /** `get_output2.php`: `cmd=file` (with the one-output double send), `cmd=result`. Returns undefined for a `die()` text reply. */
    getOutput2(query: URLSearchParams, cookieAuthenticator: string | undefined): { body: Buffer; name: string; twice: boolean } | string {
      const command = query.get('cmd') ?? '';
      const authenticator = cookieAuthenticator ?? query.get('auth') ?? '';
      if (command !== 'file' && command !== 'result') return 'bad cmd\n';
      const resultId = Number.parseInt(query.get('result_id') ?? '', 10);
      const result = daemons.resultsById.get(resultId);
      if (!result) return `no result ${query.get('result_id') ?? ''}`;
      const batch = batches.get(result.workunit.record.batch);
      if (!batch) return `no batch for ${resultId}`;
      const owner = options.users.find((candidate) => candidate.name === batch.userName);
      if (!owner) return `no batch owner for ${batch.id}`;
      if (owner.authenticator !== authenticator) return 'bad auth';
      const config = readProjectConfig(options.projectDirectory);
      const read = (index: number): Buffer | undefined => {
        const output = result.outputs[index];
        if (!output) return undefined;
        try {
          return readFileSync(dirHierPath(output.physicalName, config.uploadDir, config.fanout));
        } catch {
          return undefined;
        }
      };
      const index = command === 'file' ? Number.parseInt(query.get('file_num') ?? '0', 10) || 0 : 0;
      const data = read(index);
      if (!data) return `no such file`;
      // With file_num given, do_result_aux() sends that file, then (one output) sends the first again.
      return { body: data, name: `${result.name}__${result.outputs[index]?.openName ?? ''}`, twice: command === 'file' && result.outputs.length === 1 };
    },
    /** `get_output3.php?action=get_file`: serves `results/<batch>/<wu>__file_<logical>` (written by an assimilator like `batch_collect_assimilator`). */
    getOutput3(query: URLSearchParams, cookieAuthenticator: string | undefined): { body: Buffer; download: boolean } | string {
      if ((query.get('action') ?? '') !== 'get_file') return 'Unable to handle request';
      const owner = options.users.find((candidate) => candidate.authenticator === cookieAuthenticator);
      if (!owner) return 'not logged in';
      const result = daemons.resultsById.get(Number.parseInt(query.get('result_id') ?? '', 10));
      if (!result) return 'no result';
      const batch = batches.get(result.workunit.record.batch);
      if (!batch || batch.userName !== owner.name) return 'not owner';
      const index = Number.parseInt(query.get('index') ?? '0', 10) || 0;
      const output = result.outputs[index];
      if (!output) return 'bad index';
      const path = join(options.projectDirectory, 'results', String(batch.id), `${result.workunit.record.name}__file_${output.openName}`);
      if (!existsSync(path) || !statSync(path).isFile()) return `file not found: ${path}`;
      return { body: readFileSync(path), download: query.get('download') !== null };
    },
    assimilated(workunit: WorkunitState): boolean {
      return workunit.assimilateState === AssimilateState.done;
    },
    phpWarning,
  };
}

export type RemoteFace = ReturnType<typeof createRemoteFace>;
