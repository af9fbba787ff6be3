/** The entry of a worker thread of the local transport (built by tsup as its own file). */
import { parentPort } from 'node:worker_threads';
import type { ToWorkerMessage } from './protocol.js';
import { startWorkerRuntime } from './worker-runtime.js';

if (parentPort === null) throw new Error('thread-worker is the entry of a worker thread; it cannot run on its own');
const port = parentPort;

startWorkerRuntime({
  post: (message, transfer) => port.postMessage(message, transfer ?? []),
  onMessage: (listener) => port.on('message', (message: ToWorkerMessage) => listener(message)),
  exit: (code) => process.exit(code),
});
