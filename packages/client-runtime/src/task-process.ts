import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import {
  WIRE_FORMAT_VERSION,
  decodeTaskEnvelope,
  decodeValue,
  encodeResultEnvelope,
  encodeValue,
  executeTaskEnvelope,
  indexTaskModule,
  serializeError,
} from '@tsmw/core';
import type { CheckpointStore, TaskRegistry } from '@tsmw/core';
import { createCheckpointFile } from './checkpoint-file.js';
import { resolveLogicalName } from './slot.js';
import type { RunTaskMessage, TaskProcessMessage } from './task-process-protocol.js';

/** Progress is sent to the runtime at most this often (it reports once a second). */
const progressIntervalMs = 200;

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function send(message: TaskProcessMessage): void {
  process.send?.(message);
}

/**
 * A checkpoint file holds `{ taskId, state }` (plain MessagePack): a state left in the directory
 * by another task (or a by-hand run of another envelope) is never handed to this one.
 */
function createSlotCheckpointStore(path: string, maxBytes: number, onSaved: () => void): CheckpointStore {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const file = createCheckpointFile({ slotDir: slash === -1 ? '.' : path.slice(0, slash), fileName: path.slice(slash + 1) });
  return {
    async save(taskId, state) {
      // Headroom for the wrapper around a state at the cap.
      await file.write(encodeValue({ taskId, state }, maxBytes + 1024, 'checkpoint'));
      onSaved();
    },
    async load(taskId) {
      const bytes = await file.read();
      if (bytes === undefined) return undefined;
      try {
        const saved = decodeValue(bytes, maxBytes + 1024, 'checkpoint') as { taskId?: unknown; state?: unknown };
        if (saved.taskId !== taskId || !(saved.state instanceof Uint8Array)) return undefined;
        return saved.state;
      } catch {
        return undefined; // torn or foreign: start afresh
      }
    },
  };
}

function processCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function run(message: RunTaskMessage): Promise<void> {
  const parentPid = process.ppid;
  // The runtime may be killed outright (the client does so to a hung app): then this process
  // must not go on computing, or writing checkpoints, as an orphan. `disconnect` catches it when
  // the event loop turns; `ppid` (read fresh each time) catches it inside a task's synchronous
  // loop, whenever the task reports progress or checkpoints.
  const exitIfOrphaned = (): void => {
    if (process.ppid !== parentPid) process.exit(0);
  };
  process.on('disconnect', () => process.exit(0));

  // An error the task throws outside its own promise chain (in a timer, an event handler, a
  // promise nobody awaits) is still the task's failure: it goes back as an error result.
  const envelope = decodeTaskEnvelope(message.envelope, { maxBytes: message.maxEnvelopeBytes });
  const startedAt = Date.now();
  let finished = false;
  const strayError = (error: unknown): void => {
    if (finished) return;
    finished = true;
    const wallMs = Date.now() - startedAt;
    const result = encodeResultEnvelope(
      {
        kind: 'tsmw-result',
        version: WIRE_FORMAT_VERSION,
        taskId: envelope.taskId,
        attempt: envelope.attempt,
        ok: false,
        error: serializeError(error),
        timing: { startedAt, wallMs, cpuMs: processCpuSeconds() * 1000 },
        ...(message.host === undefined ? {} : { host: message.host }),
      },
      { maxBytes: message.maxEnvelopeBytes },
    );
    send({ type: 'result', bytes: result });
  };
  process.on('uncaughtException', strayError);
  process.on('unhandledRejection', strayError);

  let registry: TaskRegistry;
  try {
    registry = indexTaskModule(await import(pathToFileURL(message.taskModulePath).href));
  } catch (error) {
    send({ type: 'failed', reason: oneLine(`cannot load the task module ${message.taskModulePath}: ${(error as Error)?.message ?? String(error)}`) });
    return;
  }

  let lastProgressAt = 0;
  let pendingFraction: number | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  const flushProgress = (): void => {
    progressTimer = undefined;
    if (pendingFraction === undefined) return;
    lastProgressAt = Date.now();
    send({ type: 'progress', fraction: pendingFraction });
    if (message.reportCpu) send({ type: 'cpu', seconds: processCpuSeconds() });
    pendingFraction = undefined;
  };
  let cpuTimer: NodeJS.Timeout | undefined;
  if (message.reportCpu) {
    cpuTimer = setInterval(() => send({ type: 'cpu', seconds: processCpuSeconds() }), 1000);
    cpuTimer.unref();
  }

  const store = createSlotCheckpointStore(message.checkpointPath, message.maxEnvelopeBytes, () => send({ type: 'checkpointed' }));
  const checkpoints: CheckpointStore = {
    save: async (taskId, state) => {
      exitIfOrphaned(); // before writing: an orphan must not overwrite the next run's checkpoint
      await store.save(taskId, state);
    },
    load: (taskId) => store.load(taskId),
  };
  send({ type: 'started' });
  const bytes = await executeTaskEnvelope(message.envelope, registry, {
    moduleHash: message.moduleHash,
    maxEnvelopeBytes: message.maxEnvelopeBytes,
    checkpoints,
    onProgress: (_taskId, fraction) => {
      exitIfOrphaned();
      pendingFraction = fraction;
      if (Date.now() - lastProgressAt >= progressIntervalMs) flushProgress();
      else if (progressTimer === undefined) {
        progressTimer = setTimeout(flushProgress, progressIntervalMs);
        progressTimer.unref();
      }
    },
    readFile: async (_taskId, name) => new Uint8Array(await readFile(resolveLogicalName(name, { slotDir: message.slotDir, boincDir: message.boincDir }))),
    // One task per process: the process's CPU time is the task's, and it stops while suspended.
    cpuClock: () => processCpuSeconds() * 1000,
    consoleCapture: 'exclusive',
    ...(message.host === undefined ? {} : { host: message.host }),
  });
  if (progressTimer !== undefined) clearTimeout(progressTimer);
  if (cpuTimer !== undefined) clearInterval(cpuTimer);
  if (finished) return;
  finished = true;
  send({ type: 'result', bytes });
}

/**
 * The task process: the runtime forks its own bundle with `--tsmw-task-process` and sends one
 * `run` message; this process imports the task module, runs the task with core's executor and
 * sends back progress, checkpoints and the result envelope. It runs apart from the runtime so
 * that the runtime keeps serving the client's channel whatever the task does, and so that
 * suspending it (SIGSTOP) pauses even a synchronous loop.
 */
export function runTaskProcess(): void {
  if (process.send === undefined) {
    process.stderr.write('tsmw-runtime: the task process needs an IPC channel (it is started by tsmw-runtime)\n');
    process.exitCode = 1;
    return;
  }
  process.once('message', (message: RunTaskMessage) => {
    run(message).catch((error: unknown) => {
      send({ type: 'failed', reason: oneLine(`the task process failed: ${(error as Error)?.message ?? String(error)}`) });
    });
  });
}
