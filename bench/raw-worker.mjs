// Hand-written worker_threads: the floor a pool could reach. Messages are
// { id, a, b } (one task), { first, tasks: [{ a, b }, ...] } (a batch; results come back in
// order as one array), or { id, darts, seed } (monte-pi).
import { parentPort } from 'node:worker_threads';
import { countHits } from './monte-pi.mjs';

parentPort.on('message', (message) => {
  if (message.tasks !== undefined) {
    const { tasks } = message;
    const results = new Array(tasks.length);
    for (let index = 0; index < tasks.length; index += 1) results[index] = tasks[index].a + tasks[index].b;
    parentPort.postMessage({ first: message.first, results });
  } else if (message.darts !== undefined) {
    parentPort.postMessage({ id: message.id, result: countHits(message.darts, message.seed) });
  } else {
    parentPort.postMessage({ id: message.id, result: message.a + message.b });
  }
});
