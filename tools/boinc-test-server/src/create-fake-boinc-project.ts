import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { readCalls } from './fake-project-bin.js';
import type { FakeProjectCall, FakeProjectProgram } from './fake-project-bin.js';
import { runCreateWork } from './fake-project/create-work.js';
import { dirHierPath } from './fake-project/dir-hier.js';
import { readProjectConfig, shortHostname, type ProjectConfig } from './fake-project/project-config.js';
import { runStartStop, runXadd } from './fake-project/project-commands.js';
import { createProjectDaemons, ResultOutcome, ResultServerState } from './fake-project/project-daemons.js';
import type { AssimilatorRun, ResultFault, ValidatorRun, WorkunitState } from './fake-project/project-daemons.js';
import { openProjectDatabase } from './fake-project/project-database.js';
import type { WorkunitRecord } from './fake-project/project-database.js';
import { createRemoteFace } from './fake-project/remote-face.js';
import type { FakeBatch, FakeBoincUser, RemoteFault } from './fake-project/remote-face.js';
import { escapeXmlText } from './parse-xml.js';
import { parseSchedulerRequest } from './scheduler-request.js';
import { renderSchedulerReply } from './scheduler-reply.js';
import type { ReplyJob } from './scheduler-reply.js';
import { createUploadHandler } from './upload-handler.js';

export type { FakeBatch, FakeBoincUser, RemoteFault } from './fake-project/remote-face.js';
export type { AssimilatorRun, ResultFault, ValidatorRun } from './fake-project/project-daemons.js';
export type { FakeProjectCall, FakeProjectProgram } from './fake-project-bin.js';

export interface FakeBoincApp {
  readonly name: string;
  readonly userFriendlyName?: string;
  /** Written to `templates/NAME_in` and `templates/NAME_out` when given. */
  readonly inputTemplate?: string;
  readonly outputTemplate?: string;
}

export interface FakeBoincProjectOptions {
  /** The project directory; created (with its parents) if missing. */
  readonly directory: string;
  /** The short name in the URLs (`/NAME/`, `/NAME_cgi/`). Default `test`, as the recorded project. */
  readonly name?: string;
  /** config.xml `<host>`. Default this host's short name, so that `bin/start` starts the daemons. */
  readonly host?: string;
  /** Added to project.xml and registered with `bin/xadd` at creation. Default none. */
  readonly apps?: readonly FakeBoincApp[];
  /** `<daemon><cmd>` lines added to config.xml's `<daemons>` (feeder, transitioner, file_deleter are there already). */
  readonly daemons?: readonly string[];
  /** Run `bin/start` at creation (the project is enabled and its daemons run). Default true. */
  readonly start?: boolean;
  /** Remote-submission accounts. Default one user `submitter` with submit rights and a random authenticator. */
  readonly users?: readonly FakeBoincUser[];
  /** `<next_rpc_delay>` in scheduler replies. Default 5. */
  readonly nextRpcDelaySeconds?: number;
  /** How long a failed assimilator waits before it is run again. Default 1000 ms (BOINC: cron, 5 minutes). */
  readonly assimilatorRestartDelayMs?: number;
  /** How often the daemons look for new workunits and deadlines. Default 200 ms. */
  readonly daemonIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export interface FakeBoincProjectCounters {
  /** Workunit records per name in the database, counted over every insert (a name above 1 would be a duplicate). */
  readonly workunitsByName: ReadonlyMap<string, number>;
  /** Requests per endpoint: `scheduler`, `file_upload_handler`, `submit_rpc_handler:OP`, `job_file:OP`, `get_output2`, `get_output3`, `download`. */
  readonly requests: ReadonlyMap<string, number>;
  /** Files received per physical name: `job_file.php` uploads and `file_upload_handler` completions. */
  readonly filesUploaded: ReadonlyMap<string, number>;
}

export interface FakeWorkunitView {
  readonly id: number;
  readonly name: string;
  readonly appName: string;
  readonly batch: number;
  readonly record: WorkunitRecord;
  readonly errorMask: number;
  readonly canonicalResultId: number;
  /** 0 init, 1 ready, 2 done. */
  readonly assimilateState: number;
  readonly results: readonly {
    readonly id: number;
    readonly name: string;
    readonly serverState: number;
    readonly outcome: number;
    readonly validateState: number;
    readonly exitStatus: number;
    /** The host the scheduler sent the result to (its `hostid`), -1 for an injected fault's phantom host, 0 while unsent. */
    readonly hostId: number;
    readonly outputs: readonly { readonly physicalName: string; readonly openName: string; readonly path: string }[];
  }[];
}

export interface FakeBoincProject {
  readonly directory: string;
  /** Master URL `http://127.0.0.1:PORT/NAME/` (what a client attaches to, and the base of the remote face). */
  readonly url: string;
  readonly schedulerUrl: string;
  readonly uploadUrl: string;
  /** The first user's authenticator. */
  readonly authenticator: string;
  readonly users: readonly FakeBoincUser[];
  /** Runs a program of `bin/` in-process-free: spawned as a real process, in the project directory unless `cwd` is given. */
  run(program: FakeProjectProgram, argv?: readonly string[], options?: { readonly stdin?: string | Buffer; readonly cwd?: string; readonly env?: NodeJS.ProcessEnv }): Promise<{ readonly exitCode: number | null; readonly stdout: string; readonly stderr: string }>;
  /** `create_work` in this process (faster; same code as `bin/create_work`). */
  createWorkInProcess(argv: readonly string[], stdin?: string | Buffer): { readonly exitCode: number; readonly stdout: string; readonly stderr: string };
  /** Every program call recorded in `db/calls.jsonl` (start and end lines). */
  calls(program?: FakeProjectProgram): FakeProjectCall[];
  /** Reads new workunits and runs the daemons until they rest. */
  settle(): Promise<void>;
  workunit(name: string): FakeWorkunitView | undefined;
  workunits(): FakeWorkunitView[];
  readonly batches: ReadonlyMap<number, FakeBatch>;
  readonly assimilatorRuns: readonly AssimilatorRun[];
  readonly validatorRuns: readonly ValidatorRun[];
  /** Resolves when `check(project)` returns a value other than undefined, re-checked after every change. */
  waitFor<T>(check: () => T | undefined, options?: { readonly timeoutMs?: number; readonly what?: string }): Promise<T>;
  /**
   * The next `times` (default 1) results of the named workunit (created now or later) go to a host
   * that errs at once (`client-error`), never replies (`no-reply`: its deadline has passed), or
   * returns the given outputs (`success`).
   */
  injectResultFault(workunitName: string, fault: ResultFault, times?: number): void;
  /** The next `times` (default 1) replies of the remote face (for `op`, or any) carry this fault. */
  injectRemoteFault(fault: RemoteFault, options?: { readonly op?: string; readonly times?: number }): void;
  counters(): FakeBoincProjectCounters;
  /** Bytes of an uploaded output by physical name, or undefined. */
  readUpload(physicalName: string): Buffer | undefined;
  close(): Promise<void>;
}

function packageRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes('"@tsmw/boinc-test-server"')) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new BoincTestServerError('TSMW_BOINC_FAKE_PROJECT_INVALID', 'Cannot find the @tsmw/boinc-test-server package directory.');
    directory = parent;
  }
}

const programs: readonly FakeProjectProgram[] = ['create_work', 'xadd', 'update_versions', 'start', 'stop', 'status', 'stage_file', 'dir_hier_path'];

const defaultInputTemplate = (): string =>
  '<input_template>\n    <file_info>\n        <number>0</number>\n    </file_info>\n    <workunit>\n        <file_ref>\n            <file_number>0</file_number>\n            <open_name>in</open_name>\n        </file_ref>\n        <rsc_fpops_est>1e9</rsc_fpops_est>\n        <rsc_fpops_bound>1e12</rsc_fpops_bound>\n        <delay_bound>86400</delay_bound>\n    </workunit>\n</input_template>\n';

const defaultOutputTemplate = (): string =>
  '<output_template>\n    <file_info>\n        <name><OUTFILE_0/></name>\n        <generated_locally/>\n        <upload_when_present/>\n        <max_nbytes>10000000</max_nbytes>\n        <url><UPLOAD_URL/></url>\n    </file_info>\n    <result>\n        <file_ref>\n            <file_name><OUTFILE_0/></file_name>\n            <open_name>out</open_name>\n        </file_ref>\n    </result>\n</output_template>\n';

/**
 * A fake BOINC project home with the real layout, programs and daemons, and the web side (master
 * page, scheduler, downloads, file upload handler, remote job submission, output downloads) on
 * 127.0.0.1. See the package README for what it models and what it does not.
 */
export async function createFakeBoincProject(options: FakeBoincProjectOptions): Promise<FakeBoincProject> {
  const directory = resolve(options.directory);
  const name = options.name ?? 'test';
  const host = options.host ?? shortHostname();
  const log = options.log ?? (() => {});
  const users: FakeBoincUser[] = options.users ? [...options.users] : [{ name: 'submitter', authenticator: randomBytes(16).toString('hex'), submit: true }];
  const requestCounts = new Map<string, number>();
  const uploadCounts = new Map<string, number>();
  const count = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);
  const remoteFaults: { fault: RemoteFault; op: string | undefined; left: number }[] = [];
  const stalled = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };

  // Listen first: the URLs go into config.xml.
  let baseUrl = '';
  const server: Server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      log(`error handling ${request.method} ${request.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('internal error\n');
      } else response.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const masterUrl = `${baseUrl}/${name}/`;
  const downloadUrl = `${baseUrl}/${name}/download`;
  const uploadUrl = `${baseUrl}/${name}_cgi/file_upload_handler`;
  const schedulerUrl = `${baseUrl}/${name}_cgi/cgi`;

  // The layout.
  for (const folder of ['download', 'upload', 'templates', 'apps', 'bin', 'html/inc', 'html/user', 'html/ops', 'cgi-bin', 'keys', `log_${host}`, `tmp_${host}`, `pid_${host}`, 'db']) {
    mkdirSync(join(directory, folder), { recursive: true });
  }
  if (host !== shortHostname()) for (const folder of [`log_${shortHostname()}`, `tmp_${shortHostname()}`, `pid_${shortHostname()}`]) mkdirSync(join(directory, folder), { recursive: true });
  const root = packageRoot();
  const recordedRoot = '/home/boincadm/projects/test';
  let configXml = readFileSync(join(root, 'test/fixtures/project/config.xml'), 'latin1')
    .replaceAll(recordedRoot, directory)
    .replace('<host>vm</host>', `<host>${escapeXmlText(host)}</host>`)
    .replace('<log_dir>' + directory + '/log_vm</log_dir>', `<log_dir>${directory}/log_${host}</log_dir>`)
    .replace('<master_url>http://127.0.0.1/test/</master_url>', `<master_url>${masterUrl}</master_url>`)
    .replace('<download_url>http://127.0.0.1/test/download</download_url>', `<download_url>${downloadUrl}</download_url>`)
    .replace('<upload_url>http://127.0.0.1/test_cgi/file_upload_handler</upload_url>', `<upload_url>${uploadUrl}</upload_url>`);
  if (options.daemons && options.daemons.length > 0) {
    const added = options.daemons.map((cmd) => `        <daemon>\n            <cmd>${escapeXmlText(cmd)}</cmd>\n        </daemon>\n`).join('');
    configXml = configXml.replace('    </daemons>', `${added}    </daemons>`);
  }
  writeFileSync(join(directory, 'config.xml'), configXml);
  let projectXml = readFileSync(join(root, 'test/fixtures/project/project.xml'), 'latin1');
  if (options.apps && options.apps.length > 0) {
    const added = options.apps
      .map((app) => `    <app>\n        <name>${escapeXmlText(app.name)}</name>\n        <user_friendly_name>${escapeXmlText(app.userFriendlyName ?? app.name)}</user_friendly_name>\n    </app>\n`)
      .join('');
    projectXml = projectXml.replace('</boinc>', `${added}</boinc>`);
  }
  writeFileSync(join(directory, 'project.xml'), projectXml);
  for (const app of options.apps ?? []) {
    writeFileSync(join(directory, 'templates', `${app.name}_in`), app.inputTemplate ?? defaultInputTemplate());
    writeFileSync(join(directory, 'templates', `${app.name}_out`), app.outputTemplate ?? defaultOutputTemplate());
  }
  writeFileSync(join(directory, 'keys', 'code_sign_private'), 'fake code signing key of the test double\n');
  writeFileSync(join(directory, 'html', 'inc', 'dir_hier.inc'), '<?php // the fake project has no PHP; its web side runs in the test process\n');
  const binModule = join(root, 'dist', 'fake-project-bin.js');
  for (const program of programs) {
    const path = join(directory, 'bin', program);
    writeFileSync(
      path,
      `#!${process.execPath}\n// The fake BOINC project's ${program} (test double of @tsmw/boinc-test-server).\nimport(${JSON.stringify(binModule)}).then((module) => module.runFakeProjectProgram(${JSON.stringify(program)}, ${JSON.stringify(directory)}));\n`,
    );
    chmodSync(path, 0o755);
  }
  writeFileSync(join(directory, 'db', 'server.json'), JSON.stringify({ pid: process.pid, url: masterUrl }));

  const silentIo = (stdout: string[], stderr: string[]) => ({
    cwd: directory,
    env: { ...process.env, BOINC_PROJECT_DIR: directory },
    pid: process.pid,
    stdout: (text: string) => void stdout.push(text),
    stderr: (text: string) => void stderr.push(text),
  });
  if ((options.apps ?? []).length > 0) runXadd([], silentIo([], []));
  if (options.start ?? true) runStartStop('start', [], silentIo([], []));

  const database = openProjectDatabase(directory);
  let insertFilesRead = 0;
  const daemons = createProjectDaemons({
    projectDirectory: directory,
    uploadUrl: () => uploadUrl,
    assimilatorRestartDelayMs: options.assimilatorRestartDelayMs ?? 1000,
    log,
    onChange: notify,
  });
  function syncWorkunits(): void {
    const { workunits, files } = database.readWorkunitsSince(insertFilesRead);
    insertFilesRead = files;
    for (const record of workunits) if (!daemons.workunits.has(record.id)) daemons.addWorkunit(record);
  }
  const remote = createRemoteFace({ projectDirectory: directory, daemons, users, syncWorkunits, count: (key) => count(requestCounts, key.startsWith('uploaded:') ? key : key) });
  const settle = async (): Promise<void> => {
    syncWorkunits();
    await daemons.run();
  };
  const timer = setInterval(() => void settle(), options.daemonIntervalMs ?? 200);
  timer.unref();

  const uploadHandler = createUploadHandler({
    expectedUpload: (fileName) => {
      for (const result of daemons.results.values()) {
        const output = result.outputs.find((candidate) => candidate.physicalName === fileName);
        if (output) return { maxBytes: output.maxBytes };
      }
      return undefined;
    },
    onUploadComplete: (fileName, data) => {
      const config = readProjectConfig(directory);
      const path = dirHierPath(fileName, config.uploadDir, config.fanout);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
      count(uploadCounts, fileName);
    },
  });

  /** `config` is read only if a view's results are read (`workunits()` reads it once at most). */
  function workunitView(state: WorkunitState, config: () => ProjectConfig): FakeWorkunitView {
    return {
      id: state.record.id,
      name: state.record.name,
      appName: state.record.appName,
      batch: state.record.batch,
      record: state.record,
      errorMask: state.errorMask,
      canonicalResultId: state.canonicalResultId,
      assimilateState: state.assimilateState,
      // Built when read (output paths hash names): callers that poll every workunit skip it.
      get results() {
        const { uploadDir, fanout } = config();
        return state.results.map((result) => ({
          id: result.id,
          name: result.name,
          serverState: result.serverState,
          outcome: result.outcome,
          validateState: result.validateState,
          exitStatus: result.exitStatus,
          hostId: result.hostId,
          outputs: result.outputs.map((output) => ({ physicalName: output.physicalName, openName: output.openName, path: dirHierPath(output.physicalName, uploadDir, fanout) })),
        }));
      },
    };
  }

  function handleScheduler(body: string): string {
    syncWorkunits();
    const request = parseSchedulerRequest(body);
    const now = Date.now();
    const acknowledged: string[] = [];
    for (const message of request.results) {
      if (message.name === '') continue;
      acknowledged.push(message.name);
      const result = daemons.results.get(message.name);
      if (!result || (result.serverState === ResultServerState.over && result.outcome !== ResultOutcome.noReply)) continue;
      result.serverState = ResultServerState.over;
      result.receivedAt = now;
      result.exitStatus = message.exitStatus;
      result.cpuTime = message.finalCpuTime;
      result.elapsedTime = message.finalElapsedTime;
      result.stderrOut = message.stderrOut;
      result.outcome = message.outcome === 'success' ? ResultOutcome.success : ResultOutcome.clientError;
      result.workunit.transitionNeeded = true;
      result.workunit.modifiedAt = now;
    }
    const versions = new Map(request.appVersions.map((version) => [version.appName, version]));
    const sent: ReplyJob[] = [];
    const enabled = daemons.isRunning('feeder') && !existsSync(join(directory, 'stop_sched'));
    if (request.wantsWork && enabled) {
      const unsent = [...daemons.results.values()]
        .filter((result) => result.serverState === ResultServerState.unsent && versions.has(result.workunit.record.appName))
        .sort((a, b) => b.workunit.record.priority - a.workunit.record.priority || a.id - b.id);
      for (const result of unsent) {
        const record = result.workunit.record;
        const version = versions.get(record.appName)!;
        result.serverState = ResultServerState.inProgress;
        result.sentAt = now;
        result.hostId = request.hostId || 1;
        result.reportDeadline = Math.floor(now / 1000) + record.delayBound;
        result.workunit.modifiedAt = now;
        sent.push({
          workunitName: record.name,
          resultName: result.name,
          commandLine: record.commandLine === '' ? undefined : record.commandLine,
          inputFiles: record.inputFiles.map((input) => ({ physicalName: input.name, openName: input.openName, url: input.url, md5: input.md5, nbytes: input.nbytes, copyFile: input.copyFile })),
          outputFiles: result.outputs.map((output) => ({ physicalName: output.physicalName, openName: output.openName, maxBytes: output.maxBytes, uploadUrl, copyFile: output.copyFile })),
          reportDeadline: result.reportDeadline,
          rscFpopsEstimate: record.rscFpopsEst,
          rscFpopsBound: record.rscFpopsBound,
          rscMemoryBound: record.rscMemoryBound,
          rscDiskBound: record.rscDiskBound,
          appName: record.appName,
          versionNum: version.versionNum ?? 0,
          platform: version.platform ?? 'x86_64-pc-linux-gnu',
        });
      }
    }
    // send_result_abort: results the client holds whose workunit failed or was cancelled.
    const aborts = request.otherResults.filter((resultName) => {
      const result = daemons.results.get(resultName);
      return result !== undefined && (result.workunit.errorMask !== 0 || result.serverState === ResultServerState.over);
    });
    log(`scheduler: reported [${acknowledged.join(', ')}], sent [${sent.map((job) => job.resultName).join(', ')}], aborts [${aborts.join(', ')}]`);
    const firstApp = sent[0];
    return renderSchedulerReply({
      masterUrl,
      projectName: 'tsmw fake project',
      appName: firstApp?.appName ?? '',
      versionNum: firstApp?.versionNum ?? 0,
      platform: firstApp?.platform ?? 'x86_64-pc-linux-gnu',
      hostId: request.hostId || 1,
      requestDelaySeconds: 1,
      nextRpcDelaySeconds: options.nextRpcDelaySeconds ?? 5,
      jobs: sent,
      acknowledgedResults: acknowledged,
      resultAborts: aborts,
    });
  }

  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function takeRemoteFault(op: string): RemoteFault | undefined {
    const index = remoteFaults.findIndex((entry) => entry.op === undefined || entry.op === op);
    if (index === -1) return undefined;
    const entry = remoteFaults[index]!;
    entry.left -= 1;
    if (entry.left <= 0) remoteFaults.splice(index, 1);
    return entry.fault;
  }

  async function sendXml(response: ServerResponse, op: string, produce: () => Promise<string>): Promise<void> {
    const fault = takeRemoteFault(op);
    if (fault?.kind === 'stall') {
      stalled.add(response);
      response.on('close', () => stalled.delete(response));
      return;
    }
    if (fault?.kind === 'slow') await new Promise((resolveDelay) => setTimeout(resolveDelay, fault.delayMs));
    if (fault?.kind === 'http-500') {
      response.writeHead(500, { 'content-type': 'text/html' });
      response.end('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>500 Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n</body></html>\n');
      return;
    }
    if (fault?.kind === 'html-error-page') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!DOCTYPE html>\n<html lang="en">\n<head><title>Unable to handle request</title></head>\n<body><h2>Unable to handle request</h2>\nThe project is down for maintenance.\n</body>\n</html>\n');
      return;
    }
    if (fault?.kind === 'error-reply') {
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<?xml version="1.0" encoding="ISO-8859-1" ?>\n<${op}>\n<error>\n    <error_num>${fault.errorNum}</error_num>\n    <error_msg>${fault.message}</error_msg>\n</error>\n</${op}>\n`);
      return;
    }
    let body = await produce();
    if (fault?.kind === 'php-warning-before-xml') body = remote.phpWarning(42) + body;
    if (fault?.kind === 'php-warning-after-start-tag') body = body.replace(/(<\?xml[^>]*>\n<[a-z_0-9]+>\n)/, `$1${remote.phpWarning(250)}`);
    if (fault?.kind === 'truncated') body = body.slice(0, Math.floor(body.length / 2));
    response.writeHead(200, { 'content-type': 'text/xml' });
    response.end(body, 'latin1');
  }

  function cookieAuthenticator(request: IncomingMessage): string | undefined {
    const match = /(?:^|;\s*)auth=([^;]+)/.exec(request.headers.cookie ?? '');
    return match?.[1];
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', baseUrl);
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const send = (status: number, body: string | Buffer, contentType: string): void => {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
      response.writeHead(status, { 'content-type': contentType, 'content-length': String(bytes.length) });
      response.end(bytes);
    };
    if (method === 'GET' && (path === `/${name}/` || path === `/${name}`)) {
      send(200, `<!DOCTYPE html>\n<html lang="en">\n<head>\n<!-- <scheduler>${schedulerUrl}</scheduler> -->\n<link rel="boinc_scheduler" href="${schedulerUrl}">\n<title>tsmw fake project</title>\n</head>\n<body><h1>tsmw fake project</h1></body>\n</html>\n`, 'text/html');
      return;
    }
    if (method === 'GET' && path.startsWith(`/${name}/download/`)) {
      count(requestCounts, 'download');
      const relative = decodeURIComponent(path.slice(`/${name}/download/`.length));
      const file = resolve(directory, 'download', relative);
      if (!file.startsWith(join(directory, 'download') + sep) || !existsSync(file)) {
        send(404, 'not found\n', 'text/plain');
        return;
      }
      const data = readFileSync(file);
      const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
      if (range?.[1] !== undefined && Number(range[1]) < data.length) {
        const start = Number(range[1]);
        response.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${data.length - 1}/${data.length}`, 'content-length': String(data.length - start) });
        response.end(data.subarray(start));
        return;
      }
      send(200, data, 'application/octet-stream');
      return;
    }
    if (method === 'POST' && path === `/${name}_cgi/cgi`) {
      count(requestCounts, 'scheduler');
      const body = await readBody(request);
      send(200, handleScheduler(body.toString('latin1')), 'text/xml');
      void settle();
      notify();
      return;
    }
    if (method === 'POST' && path === `/${name}_cgi/file_upload_handler`) {
      count(requestCounts, 'file_upload_handler');
      const result = uploadHandler.handle(await readBody(request));
      send(200, result.reply, 'text/plain');
      if (result.completed) void settle();
      notify();
      return;
    }
    if (method === 'POST' && (path === `/${name}/submit_rpc_handler.php` || path === `/${name}/job_file.php`)) {
      const body = await readBody(request);
      const contentType = request.headers['content-type'] ?? '';
      let requestText = '';
      const files: Buffer[] = [];
      if (contentType.startsWith('multipart/form-data')) {
        const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2] ?? '';
        for (const part of splitMultipart(body, boundary)) {
          if (part.name === 'request') requestText = part.data.toString('latin1');
          else if (part.filename !== undefined) files.push(part.data);
        }
      } else {
        requestText = new URLSearchParams(body.toString('latin1')).get('request') ?? '';
      }
      const op = /<([A-Za-z_0-9]+)/.exec(requestText)?.[1] ?? '';
      const isJobFile = path.endsWith('job_file.php');
      await sendXml(response, op, async () => {
        const reply = isJobFile ? await remote.jobFile(requestText, files) : await remote.submitRpc(requestText);
        if (isJobFile && op === 'upload_files' && reply.includes('<success/>')) {
          const names = [...requestText.matchAll(/<phys_name>([^<]*)<\/phys_name>/g)].map((match) => match[1] ?? '');
          for (const each of names) count(uploadCounts, each);
        }
        void settle();
        return reply;
      });
      notify();
      return;
    }
    if (method === 'GET' && path === `/${name}/get_output2.php`) {
      count(requestCounts, 'get_output2');
      const outcome = remote.getOutput2(url.searchParams, cookieAuthenticator(request));
      if (typeof outcome === 'string') {
        send(200, outcome, 'text/html');
        return;
      }
      // do_download(): headers with Content-Length of one copy; with one output the file goes out twice.
      const header = `HTTP/1.1 200 OK\r\nContent-Description: File Transfer\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=${outcome.name}\r\nContent-Transfer-Encoding: binary\r\nContent-Length: ${outcome.body.length}\r\nConnection: close\r\n\r\n`;
      const socket = response.socket;
      if (!socket) return;
      response.detachSocket(socket);
      socket.end(Buffer.concat([Buffer.from(header), outcome.body, ...(outcome.twice ? [outcome.body] : [])]));
      return;
    }
    if (method === 'GET' && path === `/${name}/get_output3.php`) {
      count(requestCounts, 'get_output3');
      const outcome = remote.getOutput3(url.searchParams, cookieAuthenticator(request));
      if (typeof outcome === 'string') {
        send(200, `<!DOCTYPE html>\n<html><head><title>Unable to handle request</title></head><body>${escapeXmlText(outcome)}</body></html>\n`, 'text/html');
        return;
      }
      if (outcome.download) send(200, outcome.body, 'application/octet-stream');
      else send(200, `<pre>\n${escapeXmlText(outcome.body.toString('latin1'))}</pre>\n`, 'text/html');
      return;
    }
    send(404, 'not found\n', 'text/plain');
  }

  syncWorkunits();
  let closed = false;
  const project: FakeBoincProject = {
    directory,
    url: masterUrl,
    schedulerUrl,
    uploadUrl,
    authenticator: users[0]?.authenticator ?? '',
    users,
    run(program, argv = [], runOptions = {}) {
      return new Promise((resolveRun) => {
        import('node:child_process').then(({ spawn }) => {
          const child = spawn(join(directory, 'bin', program), [...argv], { cwd: runOptions.cwd ?? directory, env: { ...process.env, ...runOptions.env }, stdio: ['pipe', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.stdin.on('error', () => {});
          child.on('close', (exitCode) => {
            void settle();
            resolveRun({ exitCode, stdout, stderr });
          });
          child.stdin.end(runOptions.stdin ?? '');
        }, (error: unknown) => resolveRun({ exitCode: 127, stdout: '', stderr: String(error) }));
      });
    },
    createWorkInProcess(argv, stdin = '') {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const exitCode = runCreateWork(argv, stdin, silentIo(stdout, stderr));
      syncWorkunits();
      return { exitCode, stdout: stdout.join(''), stderr: stderr.join('') };
    },
    calls(program) {
      return readCalls(directory).filter((call) => program === undefined || call.program === program);
    },
    settle,
    workunit(workunitName) {
      syncWorkunits();
      const state = daemons.workunitsByName.get(workunitName);
      return state ? workunitView(state, () => readProjectConfig(directory)) : undefined;
    },
    workunits() {
      syncWorkunits();
      let config: ProjectConfig | undefined;
      const readConfig = (): ProjectConfig => (config ??= readProjectConfig(directory));
      return Array.from(daemons.workunits.values(), (state) => workunitView(state, readConfig));
    },
    batches: remote.batches,
    assimilatorRuns: daemons.assimilatorRuns,
    validatorRuns: daemons.validatorRuns,
    waitFor(check, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 60_000;
      return new Promise((resolveWait, reject) => {
        const attempt = (): boolean => {
          const value = check();
          if (value === undefined) return false;
          clearTimeout(timeout);
          waiters.delete(listener);
          resolveWait(value);
          return true;
        };
        const listener = (): void => void attempt();
        const timeout = setTimeout(() => {
          waiters.delete(listener);
          reject(new BoincTestServerError('TSMW_BOINC_TEST_SERVER_TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${waitOptions.what ?? 'a condition'}.`));
        }, timeoutMs);
        waiters.add(listener);
        attempt();
      });
    },
    injectResultFault(workunitName, fault, times = 1) {
      daemons.injectFaults(workunitName, fault, times);
      void settle();
    },
    injectRemoteFault(fault, faultOptions = {}) {
      remoteFaults.push({ fault, op: faultOptions.op, left: faultOptions.times ?? 1 });
    },
    counters() {
      const workunitsByName = new Map<string, number>();
      for (const record of database.readWorkunitsSince(0).workunits) workunitsByName.set(record.name, (workunitsByName.get(record.name) ?? 0) + 1);
      return { workunitsByName, requests: new Map(requestCounts), filesUploaded: new Map(uploadCounts) };
    },
    readUpload(physicalName) {
      const config = readProjectConfig(directory);
      try {
        return readFileSync(dirHierPath(physicalName, config.uploadDir, config.fanout));
      } catch {
        return undefined;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const response of stalled) response.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      await daemons.run();
    },
  };
  return project;
}

interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly data: Buffer;
}

/** Splits a multipart/form-data body into its parts (what PHP's `$_POST`/`$_FILES` see, in order). */
function splitMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const parts: MultipartPart[] = [];
  if (boundary === '') return parts;
  const delimiter = Buffer.from(`--${boundary}`);
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    const start = position + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd === -1) break;
    const headers = body.subarray(start, headerEnd).toString('latin1');
    const next = body.indexOf(delimiter, headerEnd + 4);
    if (next === -1) break;
    const data = body.subarray(headerEnd + 4, next - 2);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const partName = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    parts.push({ name: partName, filename, data });
    position = next;
  }
  return parts;
}
