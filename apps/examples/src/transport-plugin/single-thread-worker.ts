// The worker side of the example transport: load the task module once, then run envelopes with
// core's executor, the same one every transport uses.
import { parentPort, workerData } from 'node:worker_threads';
import { executeTaskEnvelope, indexTaskModule } from '@tsmw/core';

export type WorkerRequest = { type: 'run'; taskId: string; envelope: Uint8Array } | { type: 'abort'; taskId: string };
export type WorkerReply = { type: 'result'; taskId: string; bytes: Uint8Array } | { type: 'progress'; taskId: string; fraction: number };

const port = parentPort;
if (port !== null) {
  const { url, hash, maxEnvelopeBytes } = workerData as { url: string; hash: string; maxEnvelopeBytes: number };
  const registry = indexTaskModule(await import(url));
  const controllers = new Map<string, AbortController>();
  port.on('message', async (request: WorkerRequest) => {
    if (request.type === 'abort') {
      controllers.get(request.taskId)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(request.taskId, controller);
    const bytes = await executeTaskEnvelope(request.envelope, registry, {
      moduleHash: hash,
      maxEnvelopeBytes,
      signal: controller.signal,
      onProgress: (taskId, fraction) => port.postMessage({ type: 'progress', taskId, fraction } satisfies WorkerReply),
    });
    controllers.delete(request.taskId);
    port.postMessage({ type: 'result', taskId: request.taskId, bytes } satisfies WorkerReply);
  });
}
