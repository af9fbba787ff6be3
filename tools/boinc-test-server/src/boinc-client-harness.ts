import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BoincTestServerError } from './boinc-test-server-error.js';
import { escapeProjectUrl } from './escape-project-url.js';
import { escapeXmlText } from './parse-xml.js';

export interface BoincClientAppFile {
  /** The physical name in the project directory. */
  readonly name: string;
  /** Copy the file from here... */
  readonly path?: string;
  /** ...or write these bytes. */
  readonly data?: string | Uint8Array;
  /** The program the client starts. Exactly one file should be the main program. */
  readonly mainProgram?: boolean;
  /** Mode 755 (the client does not set the exec bit on anonymous-platform files). Default: true for the main program. */
  readonly executable?: boolean;
  /** The name the app sees in its slot, when not `name`. */
  readonly openName?: string;
  /** Copy the file into the slot instead of a `<soft_link>` file. */
  readonly copyFile?: boolean;
}

export interface BoincClientHarnessOptions {
  /** The project's master URL (`BoincTestServer.url`). */
  readonly serverUrl: string;
  readonly appName: string;
  readonly versionNum: number;
  readonly appFiles: readonly BoincClientAppFile[];
  /** `<api_version>` in `app_info.xml`; with it (>= 6.0) the client uses the `boinc_mmap_file` channel. Default `7.20.0`. */
  readonly apiVersion?: string;
  /** The client's data directory; default a new temporary directory, removed by `close()`. */
  readonly dataDir?: string;
  /** Keep the data directory after `close()`. Default false (true when `dataDir` is given). */
  readonly keepDataDir?: boolean;
  /** Default: `findBoincClient()`. */
  readonly boincPath?: string;
  /** Default: `boinccmd` beside the client. */
  readonly boinccmdPath?: string;
  /** Default: a free port. */
  readonly guiRpcPort?: number;
  /** CPUs the client may use (`<ncpus>` in cc_config.xml). Default: all. */
  readonly ncpus?: number;
  /**
   * Keep suspended apps in memory (`leave_apps_in_memory` preference). Default false, as BOINC:
   * then suspending a task that has checkpointed sends it `<quit/>` (it exits and restarts later
   * from its checkpoint); only a task that never checkpointed receives `<suspend/>`.
   */
  readonly leaveAppsInMemory?: boolean;
  /** Extra `<log_flags>` to turn on, e.g. `['sched_op_debug', 'http_debug']`. */
  readonly logFlags?: readonly string[];
  /** Receives each line the client prints (its event log). */
  readonly onOutput?: (line: string) => void;
  /** How long `start()` waits for the GUI RPC port. Default 15 000 ms. */
  readonly startTimeoutMs?: number;
}

/** One task as `boinccmd --get_tasks` shows it. */
export interface BoincClientTask {
  readonly name: string;
  readonly workunitName: string | undefined;
  readonly projectUrl: string | undefined;
  readonly readyToReport: boolean;
  /** e.g. `downloading`, `downloaded`, `uploading`, `uploaded`, `compute error`, `aborted`. */
  readonly state: string | undefined;
  /** e.g. `uninitialized`, `preempted`, `scheduled`. */
  readonly schedulerState: string | undefined;
  /** e.g. `EXECUTING`, `SUSPENDED`, `UNINITIALIZED`; absent when the task has not started. */
  readonly activeTaskState: string | undefined;
  readonly suspendedViaGui: boolean;
  readonly slot: number | undefined;
  readonly pid: number | undefined;
  readonly fractionDone: number | undefined;
  readonly currentCpuTime: number | undefined;
  readonly checkpointCpuTime: number | undefined;
  readonly exitStatus: number | undefined;
  /** Every `key: value` line of the task, as printed. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface BoincClientHarness {
  readonly dataDir: string;
  /** `DIR/projects/<escaped url>`. */
  readonly projectDir: string;
  readonly guiRpcPort: number;
  readonly password: string;
  /** The client process id once started. */
  readonly pid: number | undefined;
  /** Writes the data directory (app files, app_info.xml, account, preferences, configs) without starting the client. */
  prepare(): Promise<void>;
  /**
   * Prepares (if not done yet) and starts the client; resolves once its GUI RPC answers. After
   * `quit()` it starts the client again on the same data directory (its tasks resume in their slots).
   */
  start(): Promise<void>;
  /** Everything the client printed so far. */
  output(): string;
  /** Runs `boinccmd --host 127.0.0.1:PORT --passwd P ...args` and resolves to its stdout. */
  boinccmd(args: readonly string[]): Promise<string>;
  getTasks(): Promise<BoincClientTask[]>;
  suspendTask(name: string): Promise<void>;
  resumeTask(name: string): Promise<void>;
  abortTask(name: string): Promise<void>;
  /** `--project URL update`: contact the scheduler now, clearing any back-off. */
  projectUpdate(): Promise<void>;
  readGlobalPreferencesOverride(): Promise<void>;
  /** Asks the client to exit (`--quit`) and waits for it, up to `timeoutMs` (default 10 000). */
  quit(timeoutMs?: number): Promise<void>;
  /** Stops the client whatever its state (quit, then SIGKILL of its process group) and removes the data directory unless kept. */
  close(): Promise<void>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findProgram(name: string): string | null {
  const directories = (process.env['PATH'] ?? '').split(delimiter).filter((directory) => directory !== '');
  for (const directory of [...directories, '/usr/bin', '/usr/local/bin']) {
    const candidate = join(directory, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** The path of the `boinc` client program (on PATH or in /usr/bin), or null when it is not installed. */
export function findBoincClient(): string | null {
  return findProgram('boinc');
}

/** The path of `boinccmd`, or null when it is not installed. */
export function findBoinccmd(): string | null {
  return findProgram('boinccmd');
}

async function findFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

function optionalNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number.parseFloat(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Parses the output of `boinccmd --get_tasks`. */
export function parseBoinccmdTasks(text: string): BoincClientTask[] {
  const tasks: BoincClientTask[] = [];
  let fields: Record<string, string> | undefined;
  const flush = (): void => {
    if (fields?.['name'] === undefined) return;
    const current = fields;
    tasks.push({
      name: current['name'] ?? '',
      workunitName: current['WU name'],
      projectUrl: current['project URL'],
      readyToReport: current['ready to report'] === 'yes',
      state: current['state'],
      schedulerState: current['scheduler state'],
      activeTaskState: current['active_task_state'],
      suspendedViaGui: current['suspended via GUI'] === 'yes',
      slot: optionalNumber(current['slot']),
      pid: optionalNumber(current['PID']),
      fractionDone: optionalNumber(current['fraction done']),
      currentCpuTime: optionalNumber(current['current CPU time']),
      checkpointCpuTime: optionalNumber(current['CPU time at last checkpoint']),
      exitStatus: optionalNumber(current['exit_status'] ?? current['exit status']),
      fields: current,
    });
  };
  for (const line of text.split('\n')) {
    if (/^\d+\) -+/.test(line.trim())) {
      flush();
      fields = {};
      continue;
    }
    if (!fields) continue;
    const match = /^\s+([^:]+):\s?(.*)$/.exec(line);
    if (match?.[1] !== undefined) fields[match[1].trim()] = (match[2] ?? '').trim();
  }
  flush();
  return tasks;
}

function renderAppInfo(options: BoincClientHarnessOptions): string {
  const apiVersion = options.apiVersion ?? '7.20.0';
  const lines = ['<app_info>', '    <app>', `        <name>${escapeXmlText(options.appName)}</name>`, `        <user_friendly_name>${escapeXmlText(options.appName)}</user_friendly_name>`, '    </app>'];
  for (const file of options.appFiles) {
    const executable = file.executable ?? file.mainProgram ?? false;
    lines.push('    <file_info>', `        <name>${escapeXmlText(file.name)}</name>`, ...(executable ? ['        <executable/>'] : []), '    </file_info>');
  }
  lines.push(
    '    <app_version>',
    `        <app_name>${escapeXmlText(options.appName)}</app_name>`,
    `        <version_num>${options.versionNum}</version_num>`,
    `        <api_version>${escapeXmlText(apiVersion)}</api_version>`,
  );
  for (const file of options.appFiles) {
    lines.push(
      '        <file_ref>',
      `            <file_name>${escapeXmlText(file.name)}</file_name>`,
      ...(file.mainProgram ? ['            <main_program/>'] : []),
      ...(file.openName !== undefined ? [`            <open_name>${escapeXmlText(file.openName)}</open_name>`] : []),
      ...(file.copyFile ? ['            <copy_file/>'] : []),
      '        </file_ref>',
    );
  }
  lines.push('    </app_version>', '</app_info>', '');
  return lines.join('\n');
}

/**
 * Runs a real BOINC client (`boinc`, 7.20.5 on Debian) for tests: a private data directory with
 * preferences that never suspend work, results reported at once, the network test pointed at
 * 127.0.0.1, the project attached at start through an account file, and an anonymous-platform
 * `app_info.xml` with the app's files (made executable) written before the client starts.
 */
export function createBoincClientHarness(options: BoincClientHarnessOptions): BoincClientHarness {
  const projectDirectoryName = escapeProjectUrl(options.serverUrl);
  const password = randomBytes(12).toString('hex');
  const outputLines: string[] = [];
  let dataDir = options.dataDir ?? '';
  let guiRpcPort = options.guiRpcPort ?? 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  let boinccmdPath = options.boinccmdPath ?? '';
  let closed = false;
  let prepared = false;
  const keepDataDir = options.keepDataDir ?? options.dataDir !== undefined;

  async function writeDataDirectory(): Promise<void> {
    if (prepared) return;
    prepared = true;
    if (dataDir === '') dataDir = await mkdtemp(join(tmpdir(), 'tsmw-boinc-client-'));
    const projectDir = join(dataDir, 'projects', projectDirectoryName);
    await mkdir(projectDir, { recursive: true });
    for (const file of options.appFiles) {
      const target = join(projectDir, file.name);
      if (file.path !== undefined) await copyFile(file.path, target);
      else if (file.data !== undefined) await writeFile(target, file.data);
      else throw new BoincTestServerError('TSMW_BOINC_CLIENT_FAILED', `App file "${file.name}" needs a path or data.`);
      await chmod(target, (file.executable ?? file.mainProgram ?? false) ? 0o755 : 0o644);
    }
    await writeFile(join(projectDir, 'app_info.xml'), renderAppInfo(options));
    const serverOrigin = new URL(options.serverUrl).origin;
    await writeFile(
      join(dataDir, `account_${projectDirectoryName}.xml`),
      [
        '<account>',
        `    <master_url>${escapeXmlText(options.serverUrl)}</master_url>`,
        `    <authenticator>${randomBytes(16).toString('hex')}</authenticator>`,
        '    <project_name>tsmw test project</project_name>',
        '</account>',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dataDir, 'global_prefs_override.xml'),
      [
        '<global_preferences>',
        '    <run_on_batteries>1</run_on_batteries>',
        '    <run_if_user_active>1</run_if_user_active>',
        '    <run_gpu_if_user_active>1</run_gpu_if_user_active>',
        '    <suspend_cpu_usage>0</suspend_cpu_usage>',
        '    <suspend_if_no_recent_input>0</suspend_if_no_recent_input>',
        '    <max_ncpus_pct>100</max_ncpus_pct>',
        '    <cpu_usage_limit>100</cpu_usage_limit>',
        '    <work_buf_min_days>0</work_buf_min_days>',
        '    <work_buf_additional_days>0</work_buf_additional_days>',
        '    <disk_min_free_gb>0</disk_min_free_gb>',
        '    <disk_max_used_pct>100</disk_max_used_pct>',
        `    <leave_apps_in_memory>${options.leaveAppsInMemory ? 1 : 0}</leave_apps_in_memory>`,
        '</global_preferences>',
        '',
      ].join('\n'),
    );
    const logFlags = ['task', 'file_xfer', 'sched_ops', ...(options.logFlags ?? [])];
    await writeFile(
      join(dataDir, 'cc_config.xml'),
      [
        '<cc_config>',
        '    <log_flags>',
        ...logFlags.map((flag) => `        <${flag}>1</${flag}>`),
        '    </log_flags>',
        '    <options>',
        '        <report_results_immediately>1</report_results_immediately>',
        ...(options.ncpus !== undefined ? [`        <ncpus>${options.ncpus}</ncpus>`] : []),
        '    </options>',
        '</cc_config>',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dataDir, 'nvc_config.xml'),
      ['<nvc_config>', `    <network_test_url>${escapeXmlText(serverOrigin)}/</network_test_url>`, '</nvc_config>', ''].join('\n'),
    );
    await writeFile(join(dataDir, 'gui_rpc_auth.cfg'), `${password}\n`, { mode: 0o600 });
  }

  function runBoinccmd(args: readonly string[]): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      execFile(
        boinccmdPath,
        ['--host', `127.0.0.1:${guiRpcPort}`, '--passwd', password, ...args],
        { timeout: 15_000 },
        (error, stdout, stderr) => {
          if (error) {
            reject(
              new BoincTestServerError('TSMW_BOINC_CLIENT_FAILED', `boinccmd ${args.join(' ')} failed: ${stderr.trim() || stdout.trim() || error.message}`, {
                cause: error,
              }),
            );
          } else {
            resolve(stdout);
          }
        },
      );
    });
  }

  /** Signals the client's process group (it was spawned detached, so the group is its own), apps included. */
  function killGroup(signal: NodeJS.Signals): void {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  async function waitForExit(timeoutMs: number): Promise<boolean> {
    if (!exited) return true;
    const result = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    return result;
  }

  const harness: BoincClientHarness = {
    get dataDir() {
      return dataDir;
    },
    get projectDir() {
      return join(dataDir, 'projects', projectDirectoryName);
    },
    get guiRpcPort() {
      return guiRpcPort;
    },
    password,
    get pid() {
      return child?.pid;
    },

    prepare: writeDataDirectory,

    async start() {
      // Running already: nothing to do. Exited (after `quit()`): start again on the same data directory.
      if (child && child.exitCode === null && child.signalCode === null) return;
      if (closed) throw new BoincTestServerError('TSMW_BOINC_CLIENT_FAILED', 'The harness is closed.');
      const boincPath = options.boincPath ?? findBoincClient();
      if (boincPath === null || !isExecutable(boincPath)) {
        throw new BoincTestServerError(
          'TSMW_BOINC_CLIENT_NOT_FOUND',
          `The BOINC client is not installed${boincPath === null ? '' : ` at ${boincPath}`}: apt-get install -y --no-install-recommends boinc-client`,
        );
      }
      if (boinccmdPath === '') boinccmdPath = findBoinccmd() ?? join(boincPath, '..', 'boinccmd');
      if (guiRpcPort === 0) guiRpcPort = await findFreePort();
      await writeDataDirectory();
      const started = spawn(
        boincPath,
        ['--dir', dataDir, '--gui_rpc_port', String(guiRpcPort), '--no_gpus', '--skip_cpu_benchmarks', '--no_info_fetch', '--allow_multiple_clients'],
        { cwd: dataDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = started;
      // If the test process ends without close() (a runner stopping it early), the detached
      // client must not outlive it.
      const killOnExit = (): void => {
        try {
          if (started.pid !== undefined) process.kill(-started.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      };
      process.once('exit', killOnExit);
      exited = new Promise<void>((resolve) =>
        started.once('exit', () => {
          process.off('exit', killOnExit);
          resolve();
        }),
      );
      let pending = '';
      const collect = (chunk: Buffer): void => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          outputLines.push(line);
          options.onOutput?.(line);
        }
      };
      started.stdout?.on('data', collect);
      started.stderr?.on('data', collect);
      const spawnError = new Promise<never>((_, reject) => started.once('error', (error) => reject(error)));
      spawnError.catch(() => {});

      const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
      for (;;) {
        if (started.exitCode !== null || started.signalCode !== null) {
          throw new BoincTestServerError('TSMW_BOINC_CLIENT_FAILED', `The BOINC client exited at start:\n${outputLines.slice(-20).join('\n')}`);
        }
        try {
          await Promise.race([runBoinccmd(['--get_cc_status']), spawnError]);
          return;
        } catch (error) {
          if (Date.now() > deadline) {
            await harness.close();
            throw new BoincTestServerError('TSMW_BOINC_CLIENT_FAILED', `The BOINC client's GUI RPC did not answer:\n${outputLines.slice(-20).join('\n')}`, {
              cause: error,
            });
          }
          await sleep(200);
        }
      }
    },

    output() {
      return outputLines.join('\n');
    },

    boinccmd: runBoinccmd,

    async getTasks() {
      return parseBoinccmdTasks(await runBoinccmd(['--get_tasks']));
    },
    async suspendTask(name) {
      await runBoinccmd(['--task', options.serverUrl, name, 'suspend']);
    },
    async resumeTask(name) {
      await runBoinccmd(['--task', options.serverUrl, name, 'resume']);
    },
    async abortTask(name) {
      await runBoinccmd(['--task', options.serverUrl, name, 'abort']);
    },
    async projectUpdate() {
      await runBoinccmd(['--project', options.serverUrl, 'update']);
    },
    async readGlobalPreferencesOverride() {
      await runBoinccmd(['--read_global_prefs_override']);
    },

    async quit(timeoutMs = 10_000) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await runBoinccmd(['--quit']).catch(() => {});
      if (!(await waitForExit(timeoutMs))) {
        throw new BoincTestServerError('TSMW_BOINC_CLIENT_FAILED', `The BOINC client did not exit within ${timeoutMs} ms of --quit.`);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (child) {
        await harness.quit(5_000).catch(() => {});
        killGroup('SIGKILL');
        await waitForExit(5_000);
      }
      if (!keepDataDir && dataDir !== '') await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
