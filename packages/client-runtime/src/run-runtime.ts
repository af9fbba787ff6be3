import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_MAX_ENVELOPE_BYTES, decodeTaskEnvelope } from '@tsmw/core';
import type { HostInfo, TaskEnvelope } from '@tsmw/core';
import { boincMmapFileName, createBoincChannel } from './boinc-channel.js';
import type { BoincChannel, ControlMessage } from './boinc-channel.js';
import { writeFinishCalled, writeTemporaryExit } from './exit-files.js';
import { initDataFileName, readInitDataSync } from './init-data.js';
import type { InitData } from './init-data.js';
import { readProcessStat } from './process-cpu-time.js';
import type { RuntimeArguments } from './runtime-arguments.js';
import { probeWritableDirectory, regularFileTarget, resolveLogicalName, writeFileAtomicSync } from './slot.js';
import { createStatusReporter } from './status-reporter.js';
import type { ClientGoneReason, StatusReporter } from './status-reporter.js';
import { taskProcessFlag } from './task-process-protocol.js';
import type { RunTaskMessage, TaskProcessMessage } from './task-process-protocol.js';

/** Exit status of an app the client aborted, as the BOINC API uses (`EXIT_ABORTED_BY_CLIENT`). */
export const abortedExitStatus = 194;
/** Seconds before the client retries a task that ran out of memory. */
export const outOfMemoryRetryDelaySeconds = 300;

export interface RuntimeEnvironment {
  /** The runtime bundle itself: forked with `--tsmw-task-process` to run the task. */
  readonly bundlePath: string;
  /** The runtime's version, reported in the result's host info. */
  readonly version: string;
  /** Receives each line for stderr (default: `process.stderr`). */
  readonly writeError?: (line: string) => void;
}

const outOfMemoryPattern = /heap out of memory|Allocation failed|ENOMEM|Cannot allocate memory|out of memory/i;

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    // System errors name their errno (ENOENT...); other codes (tsmw's) stay out of the message.
    return code !== undefined && /^E[A-Z0-9]+$/.test(code) && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** A runtime failure: the task cannot be run at all (exit 1 with this one-line reason). */
class RuntimeFailure extends Error {}

/**
 * The runtime's main process: reads the slot, checks the task envelope and the task module,
 * serves the client's channel once a second, and runs the task in a child process (the same
 * bundle, with `--tsmw-task-process`) that it stops and continues on suspend and resume, and
 * kills on quit, abort, or when the client is gone. Resolves with the exit status.
 */
export function runRuntime(args: RuntimeArguments, environment: RuntimeEnvironment): Promise<number> {
  const writeError = environment.writeError ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const say = (text: string): void => writeError(`tsmw-runtime: ${oneLine(text)}`);
  const slotDir = resolve(args.slotDir ?? process.cwd());
  const maxEnvelopeBytes = args.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;

  let settle: (code: number) => void = () => {};
  const exited = new Promise<number>((resolvePromise) => {
    settle = resolvePromise;
  });
  let ended = false;
  let child: ChildProcess | undefined;
  let childKilledByRuntime = false;
  let suspended = false;
  let channel: BoincChannel | undefined;
  let reporter: StatusReporter | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  /** Last CPU seconds known of the task process (from /proc, or reported by it elsewhere). */
  let childCpuSeconds = 0;
  let childCpuFromProc = process.platform === 'linux';
  const signalHandlers = new Map<NodeJS.Signals, () => void>();

  function stopChild(): void {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      childKilledByRuntime = true;
      child.kill('SIGKILL'); // a stopped process dies too
    }
  }

  function end(code: number, line?: string): void {
    if (ended) return;
    ended = true;
    if (line !== undefined) say(line);
    if (pollTimer !== undefined) clearInterval(pollTimer);
    reporter?.stop();
    stopChild();
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    settle(code);
  }

  // A bug here must still end in one line and no orphaned task process.
  const onUnexpected = (error: unknown): void => end(1, `unexpected failure: ${errorText(error)}`);
  process.on('uncaughtException', onUnexpected);
  process.on('unhandledRejection', onUnexpected);

  // Quit, abort or a signal can arrive at any point: every path below checks `ended`.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const handler = (): void => {
      end(0);
      // Die of the same signal: the client then restarts the task (a non-zero status would be an error).
      process.kill(process.pid, signal);
    };
    signalHandlers.set(signal, handler);
    process.on(signal, handler);
  }

  function childCpu(): number {
    if (child?.pid !== undefined && childCpuFromProc && child.exitCode === null) {
      const stat = readProcessStat(child.pid);
      if (stat !== undefined) childCpuSeconds = stat.cpuSeconds;
      else if (process.platform !== 'linux') childCpuFromProc = false;
    }
    return childCpuSeconds;
  }

  function onControl(message: ControlMessage): void {
    switch (message) {
      case 'suspend':
        suspended = true;
        child?.kill('SIGSTOP');
        break;
      case 'resume':
        suspended = false;
        child?.kill('SIGCONT');
        break;
      case 'quit':
        // The last checkpoint (written atomically) is what the next run restores; exit 0 without
        // boinc_finish_called, so the client starts the task again later.
        end(0, 'the client asked the task to quit; it restarts later from its last checkpoint');
        break;
      case 'abort':
        end(abortedExitStatus, 'the client aborted the task');
        break;
      default:
        break;
    }
  }

  function onClientGone(reason: ClientGoneReason): void {
    end(0, reason === 'heartbeat-timeout' ? `no heartbeat from the client for ${args.heartbeatTimeoutSeconds} s: stopping` : 'the client process is gone: stopping');
  }

  function startChannel(init: InitData): void {
    const hasMmapFile = existsSync(join(slotDir, boincMmapFileName));
    if (init.shmKey !== -1 && !hasMmapFile) {
      say(
        'the client shares no boinc_mmap_file (init_data.xml has no <shm_key>-1</shm_key>: the app version declares no <api_version>?); running without the client channel (no progress, CPU time, checkpoint reports or graceful suspend)',
      );
      return;
    }
    try {
      channel = createBoincChannel({ slotDir, fractionDoneStart: init.fractionDoneStart, fractionDoneEnd: init.fractionDoneEnd });
    } catch (error) {
      say(`${errorText(error)}; running without the client channel (no progress, CPU time, checkpoint reports or graceful suspend)`);
      return;
    }
    const activeReporter = createStatusReporter({
      channel,
      clientPid: init.clientPid,
      initialCpuTime: init.workunitCpuTime,
      heartbeatTimeoutMs: args.heartbeatTimeoutSeconds * 1000,
      cpuTime: () => ownCpuSeconds() + childCpu(),
      onControl,
      onClientGone,
    });
    reporter = activeReporter;
    const poll = (): void => {
      if (ended) return;
      try {
        activeReporter.poll();
      } catch (error) {
        // The task goes on; only the reports stop.
        if (pollTimer !== undefined) clearInterval(pollTimer);
        say(`lost the client channel (${errorText(error)}); the task goes on without it`);
      }
    };
    poll();
    pollTimer = setInterval(poll, 1000);
    pollTimer.unref();
  }

  function temporaryExit(reason: string): void {
    try {
      writeTemporaryExit(slotDir, { delaySeconds: outOfMemoryRetryDelaySeconds, reason });
    } catch (error) {
      end(1, `${reason}, and cannot write boinc_temporary_exit: ${errorText(error)}`);
      return;
    }
    end(0, `${reason}: the client retries the task in ${outOfMemoryRetryDelaySeconds} s`);
  }

  function prepare(): { message: RunTaskMessage; outputPath: string } {
    let init: InitData | undefined;
    if (existsSync(join(slotDir, initDataFileName))) {
      try {
        init = readInitDataSync(slotDir);
      } catch (error) {
        throw new RuntimeFailure(errorText(error));
      }
    } else {
      say(`no ${initDataFileName} in ${slotDir}: running by hand, without a BOINC client`);
    }
    // In a slot, names are logical names (link files or copies) that must stay inside the BOINC
    // directory; by hand they are paths relative to the slot (working) directory.
    const boincDir = init === undefined ? slotDir : resolve(slotDir, '..', '..');
    const locate = (name: string, what: string): string => {
      if (init === undefined) return resolve(slotDir, name);
      try {
        return resolveLogicalName(name, { slotDir, boincDir });
      } catch (error) {
        throw new RuntimeFailure(`cannot resolve the ${what} "${name}": ${errorText(error)}`);
      }
    };

    // Everything the runtime will write, checked before the task runs: a slot it cannot write
    // in, or an output that is a device, fails now with the real cause, not after hours of work.
    try {
      probeWritableDirectory(slotDir);
    } catch (error) {
      throw new RuntimeFailure(`cannot write in the slot ${slotDir} (${errorText(error)}): the exit files and the task module copy go there; nothing was run`);
    }
    const outputPath = writableTarget(locate(args.output, 'output'), `the output "${args.output}"`);
    const checkpointPath = writableTarget(locate(args.checkpoint, 'checkpoint file'), `the checkpoint file "${args.checkpoint}"`);
    if (init !== undefined) startChannel(init);

    const inputPath = locate(args.input, 'input');
    let envelopeBytes: Uint8Array;
    try {
      envelopeBytes = readFileSync(inputPath);
    } catch (error) {
      throw new RuntimeFailure(`cannot read the input "${args.input}" (${inputPath}): ${errorText(error)}`);
    }
    let envelope: TaskEnvelope;
    try {
      envelope = decodeTaskEnvelope(envelopeBytes, { maxBytes: maxEnvelopeBytes });
    } catch (error) {
      throw new RuntimeFailure(`the input "${args.input}" is not a valid task envelope: ${errorText(error)}`);
    }

    const tasksPath = locate(args.tasks, 'task module');
    let moduleBytes: Buffer;
    try {
      moduleBytes = readFileSync(tasksPath);
    } catch (error) {
      throw new RuntimeFailure(`cannot read the task module "${args.tasks}" (${tasksPath}): ${errorText(error)}`);
    }
    const moduleHash = createHash('sha256').update(moduleBytes).digest('hex');
    if (moduleHash !== envelope.moduleHash) {
      throw new RuntimeFailure(
        `task module hash mismatch: task ${envelope.taskId} was submitted against task module ${envelope.moduleHash}, but "${args.tasks}" (${tasksPath}) has ${moduleHash}`,
      );
    }
    // Node picks the module format by extension: a physical name without `.mjs` is imported from a copy.
    let taskModulePath = tasksPath;
    if (!tasksPath.toLowerCase().endsWith('.mjs')) {
      taskModulePath = join(slotDir, `tsmw_tasks_${moduleHash.slice(0, 16)}.mjs`);
      try {
        if (!existsSync(taskModulePath)) writeFileAtomicSync(taskModulePath, moduleBytes, { fsync: false });
      } catch (error) {
        throw new RuntimeFailure(`cannot copy the task module to ${taskModulePath}: ${errorText(error)}`);
      }
    }

    const host: HostInfo = {
      hostname: init?.hostInfo?.domainName ?? hostname(),
      platform: process.platform,
      arch: process.arch,
      runtime: `node ${process.versions.node}; tsmw-runtime ${environment.version}`,
    };
    return {
      outputPath,
      message: {
        type: 'run',
        envelope: envelopeBytes,
        taskModulePath,
        moduleHash,
        maxEnvelopeBytes,
        checkpointPath,
        slotDir,
        boincDir,
        host,
        reportCpu: process.platform !== 'linux',
      },
    };
  }

  /** The path to write `what` to: a regular file or nothing yet, in a directory this process can write in. */
  function writableTarget(path: string, what: string): string {
    let target: string;
    try {
      target = regularFileTarget(path);
    } catch (error) {
      throw new RuntimeFailure(`${what} cannot be written: ${errorText(error)}; nothing was run`);
    }
    try {
      probeWritableDirectory(dirname(target));
    } catch (error) {
      throw new RuntimeFailure(`${what} cannot be written: its directory ${dirname(target)} is not writable (${errorText(error)}); nothing was run`);
    }
    return target;
  }

  function onResult(outputPath: string, bytes: Uint8Array): void {
    try {
      writeFileAtomicSync(outputPath, bytes);
    } catch (error) {
      end(1, `cannot write the output "${args.output}" (${outputPath}): ${errorText(error)}`);
      return;
    }
    try {
      writeFinishCalled(slotDir, { status: 0 });
    } catch (error) {
      end(1, `cannot write boinc_finish_called: ${errorText(error)}`);
      return;
    }
    // A last status (best effort, as boinc_finish): the client reads it when the app exits and
    // takes its CPU time as the result's final CPU time.
    if (reporter !== undefined) {
      reporter.setFractionDone(1);
      try {
        reporter.sendStatus();
      } catch {
        // the channel is gone; the result is written
      }
    }
    end(0);
  }

  function start(): void {
    let prepared: { message: RunTaskMessage; outputPath: string };
    try {
      prepared = prepare();
    } catch (error) {
      end(1, error instanceof RuntimeFailure ? error.message : `unexpected failure: ${errorText(error)}`);
      return;
    }
    if (ended) return; // quit or abort while preparing
    const { message, outputPath } = prepared;
    let stderrTail = '';
    let started: ChildProcess;
    try {
      started = fork(environment.bundlePath, [taskProcessFlag], {
        cwd: slotDir,
        execArgv: [],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      });
    } catch (error) {
      const text = errorText(error);
      if (/ENOMEM|EAGAIN/.test(text)) temporaryExit(`out of memory: cannot start the task process (${text})`);
      else end(1, `cannot start the task process: ${text}`);
      return;
    }
    child = started;
    if (suspended) started.kill('SIGSTOP');
    started.on('error', (error) => {
      if (ended) return;
      const text = errorText(error);
      if (/ENOMEM|EAGAIN/.test(text)) temporaryExit(`out of memory: cannot start the task process (${text})`);
      else end(1, `the task process failed: ${text}`);
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-8192);
    });
    started.on('message', (received: TaskProcessMessage) => {
      if (ended) return;
      switch (received.type) {
        case 'progress':
          reporter?.setFractionDone(received.fraction);
          break;
        case 'checkpointed':
          reporter?.checkpointCompleted();
          break;
        case 'cpu':
          childCpuSeconds = received.seconds;
          break;
        case 'result':
          onResult(outputPath, received.bytes);
          break;
        case 'failed':
          end(1, received.reason);
          break;
        default:
          break;
      }
    });
    started.on('exit', (code, signal) => {
      if (ended) return;
      // Let the last of its stderr arrive (briefly: a grandchild may hold the pipe open).
      const closed = new Promise<void>((resolveClosed) => started.once('close', () => resolveClosed()));
      void Promise.race([closed, new Promise((resolveLater) => setTimeout(resolveLater, 500))]).then(() => {
        if (ended) return;
        // The last telling line (Node ends a crash report with its version).
        const lastLine =
          stderrTail
            .split('\n')
            .map((text) => text.trim())
            .filter((text) => text !== '' && !/^Node\.js v\d/.test(text))
            .pop() ?? '';
        if (outOfMemoryPattern.test(stderrTail) || (signal === 'SIGKILL' && !childKilledByRuntime)) {
          temporaryExit(`out of memory: the task process ${signal === null ? `exited with code ${code}` : `was killed (${signal})`}`);
          return;
        }
        end(1, `the task process ${signal === null ? `exited with code ${code}` : `was killed by ${signal}`} before returning a result${lastLine === '' ? '' : `: ${lastLine}`}`);
      });
    });
    started.send(message, (error) => {
      if (error && !ended) end(1, `cannot send the task to the task process: ${errorText(error)}`);
    });
  }

  start();
  return exited;
}
