/**
 * The entry of a child process of the local transport (built by tsup as its own file). The pool
 * forks it with `serialization: 'advanced'`, so messages are structured clones as with threads.
 */
import type { FromWorkerMessage, ToWorkerMessage } from './protocol.js';
import { startWorkerRuntime } from './worker-runtime.js';

const send = process.send?.bind(process);
if (send === undefined) throw new Error('process-worker is the entry of a child process forked with an IPC channel; it cannot run on its own');

let sending = 0;
let exitCode: number | undefined;
const sent = (): void => {
  sending -= 1;
  if (sending === 0 && exitCode !== undefined) process.exit(exitCode);
};

startWorkerRuntime({
  post: (message: FromWorkerMessage) => {
    sending += 1;
    send(message, undefined, {}, sent);
  },
  onMessage: (listener) => process.on('message', (message) => listener(message as ToWorkerMessage)),
  exit: (code) => {
    // Let the messages already posted (the reason for exiting) leave first.
    exitCode = code;
    if (sending === 0) process.exit(code);
  },
});
// The pool closing the channel (or dying) ends this process.
process.on('disconnect', () => process.exit(0));
