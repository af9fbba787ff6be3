import { Worker, MessagePort } from 'node:worker_threads';
import { createMaster } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
const counts = { posts: 0, tasks: 0, results: 0, resultMessages: 0 };
const original = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (message, transfer) { if (message?.type === 'run') { counts.posts++; counts.tasks += message.count; } return original.call(this, message, transfer); };
const tasksUrl = new URL('./tsmw-tasks.mjs', import.meta.url);
const master = await createMaster({ transport: createLocalTransport({ workers: 2 }), tasks: tasksUrl });
const { add } = await import(tasksUrl.href);
const mode = process.argv[2] ?? 'map';
const total = 100000;
const t = performance.now();
if (mode === 'map') {
  function* inputs() { for (let i = 0; i < total; i++) yield { a: i, b: 1 }; }
  await master.map(add, inputs());
} else if (mode === 'all') {
  await Promise.all(Array.from({ length: total }, (_, i) => master.submit(add, { a: i, b: 1 }).then((h) => h.result)));
} else {
  await new Promise((resolve) => { let next = 0, done = 0; const launch = () => { const i = next++; master.submit(add, { a: i, b: 1 }).then((h) => h.result).then(() => { done++; if (next < total) launch(); else if (done === total) resolve(); }); }; for (let s = 0; s < 1000; s++) launch(); });
}
console.log(mode, ((performance.now() - t) / total * 1000).toFixed(2), 'us/task', counts, 'tasks/post', (counts.tasks / counts.posts).toFixed(1));
await master.close();
