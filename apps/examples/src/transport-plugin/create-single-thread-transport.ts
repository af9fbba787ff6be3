// An example of a third-party transport, written against @tsmw/core's public entry point only:
// every task runs, one after another, on ONE worker thread. It is deliberately plain (one
// message per task, no batching) so that it reads as a tutorial for docs/writing-a-transport.md;
// @tsmw/transport-local is the fast one.
import { Worker } from 'node:worker_threads';
import {
  createEventQueue,
  TransportError,
  WorkerCrashedError,
  type SubmittedTaskV1,
  type TransportEventV1,
  type TransportV1,
} from '@tsmw/core';
import type { WorkerReply, WorkerRequest } from './single-thread-worker.js';

export interface SingleThreadTransportOptions {
  /** How long a cancelled task that ignores its signal may run before the thread is replaced (ms). */
  readonly cancelGraceMs?: number;
}

export function createSingleThreadTransport(options: SingleThreadTransportOptions = {}): TransportV1 {
  const cancelGraceMs = options.cancelGraceMs ?? 500;
  const events = createEventQueue<TransportEventV1>();
  const queue: SubmittedTaskV1[] = [];
  let running: SubmittedTaskV1 | undefined;
  let worker: Worker | undefined;
  let start: { url: string; hash: string; maxEnvelopeBytes: number } | undefined;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  let closing = false;
  let whenIdle: (() => void) | undefined;

  const spawn = (): Worker => {
    const thread = new Worker(new URL('./single-thread-worker.js', import.meta.url), { workerData: start });
    thread.on('message', (reply: WorkerReply) => {
      if (reply.type === 'progress') events.push({ type: 'task-progress', taskId: reply.taskId, fraction: reply.fraction });
      else {
        if (running?.taskId === reply.taskId) running = undefined;
        events.push({ type: 'task-result', taskId: reply.taskId, bytes: reply.bytes });
        next();
      }
    });
    thread.on('error', (error) => lose(thread, `it threw outside the task: ${error.message}`));
    thread.on('exit', (code) => lose(thread, `it exited with code ${code}`));
    return thread;
  };

  /** The thread died: only the running task is lost; the queue goes on with a new thread. */
  const lose = (thread: Worker, detail: string): void => {
    if (thread !== worker) return;
    worker = undefined;
    if (stopTimer !== undefined) clearTimeout(stopTimer);
    stopTimer = undefined;
    if (running !== undefined && !closing) events.push({ type: 'task-lost', taskId: running.taskId, error: new WorkerCrashedError(running.taskId, detail) });
    running = undefined;
    next();
  };

  const next = (): void => {
    if (running !== undefined) return;
    const task = queue.shift();
    if (task === undefined || closing) {
      if (task === undefined) whenIdle?.();
      return;
    }
    running = task;
    worker ??= spawn();
    const request: WorkerRequest = { type: 'run', taskId: task.taskId, envelope: task.envelope };
    worker.postMessage(request);
  };

  return {
    specificationVersion: 'v1',
    transportId: 'example.single-thread',
    capabilities: {
      cancel: true,
      progress: true,
      durable: false,
      checkpoint: false,
      files: false,
      latency: 'interactive',
      maxEnvelopeBytes: 64 * 1024 * 1024,
      maxBatchSize: 64,
      maxInFlight: 1024,
    },
    async doStart(startOptions) {
      start = { url: startOptions.taskModule.url, hash: startOptions.taskModule.hash, maxEnvelopeBytes: startOptions.maxEnvelopeBytes };
      return {};
    },
    async doSubmit(tasks) {
      if (closing) throw new TransportError('The single-thread transport is closing');
      queue.push(...tasks);
      next();
    },
    async doCancel(taskIds) {
      const ids = new Set(taskIds);
      for (let index = queue.length - 1; index >= 0; index -= 1) if (ids.has(queue[index]!.taskId)) queue.splice(index, 1);
      if (running !== undefined && ids.has(running.taskId) && worker !== undefined) {
        const request: WorkerRequest = { type: 'abort', taskId: running.taskId };
        worker.postMessage(request);
        const thread = worker;
        // A task that ignores its signal (a synchronous loop cannot even read the message) is stopped by force.
        stopTimer = setTimeout(() => void thread.terminate(), cancelGraceMs);
      }
    },
    doReceive: () => events,
    async doClose({ force }) {
      if (force) queue.length = 0;
      else if (running !== undefined || queue.length > 0) await new Promise<void>((resolve) => (whenIdle = resolve));
      closing = true;
      if (stopTimer !== undefined) clearTimeout(stopTimer);
      const thread = worker;
      worker = undefined;
      await thread?.terminate();
      events.end();
    },
  };
}
