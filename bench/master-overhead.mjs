#!/usr/bin/env node
// The master's own CPU per task, without workers: a transport that answers every task in the
// master's thread (each doSubmit's batch answered on the next turn, a result envelope encoded
// per task as a worker would), so the figure is the master's work plus one result encoding,
// and does not depend on how busy the machine's other CPUs are.
//
//   node bench/master-overhead.mjs [--tasks 100000] [--rounds 3] [--mode all,window,map]
//
// Modes as in bench/run.mjs: all submitted at once, 1,000 in flight (each by `submit` and
// `result`), and `map`. Prints process CPU microseconds per task (median of the rounds).
import { createEventQueue, createMaster, encodeResultEnvelope } from '@tsmw/core';
import { allAtOnce, windowed } from './drivers.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? Number(argv[index + 1]) : fallback;
};
const total = option('tasks', 100_000);
const rounds = option('rounds', 3);
const tasksUrl = new URL('./tsmw-tasks.mjs', import.meta.url);
const { add } = await import(tasksUrl.href);

/** Answers each task with the output 2, one turn after its batch was submitted. */
function createAnsweringTransport() {
  const events = createEventQueue();
  return {
    specificationVersion: 'v1',
    transportId: 'bench.answering',
    // The local transport's limits for 2 workers.
    capabilities: { cancel: true, progress: false, durable: false, checkpoint: false, files: false, latency: 'interactive', maxEnvelopeBytes: 64 * 1024 * 1024, maxBatchSize: 256, maxInFlight: 3072 },
    async doStart() {
      return {};
    },
    async doSubmit(tasks) {
      setImmediate(() => {
        for (const task of tasks) {
          const timing = { startedAt: Date.now(), wallMs: 0.01, cpuMs: 0.01 };
          events.push({ type: 'task-result', taskId: task.taskId, bytes: encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: task.taskId, attempt: task.attempt, ok: true, output: 2, timing }) });
        }
      });
    },
    async doCancel() {},
    doReceive() {
      return events;
    },
    async doClose() {
      events.end();
    },
  };
}

const modes = {
  all: (master) => allAtOnce(total, (index) => master.submit(add, { a: index, b: 1 }).then((handle) => handle.result)),
  window: (master) => windowed(total, 1000, (index) => master.submit(add, { a: index, b: 1 }).then((handle) => handle.result)),
  map: (master) => {
    function* inputs() {
      for (let index = 0; index < total; index += 1) yield { a: index, b: 1 };
    }
    return master.map(add, inputs());
  },
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const onlyArgument = argv.indexOf('--mode');
const chosen = onlyArgument >= 0 ? argv[onlyArgument + 1].split(',') : Object.keys(modes);
const figures = {};
for (const [mode, run] of Object.entries(modes).filter(([name]) => chosen.includes(name))) {
  const perTask = [];
  for (let round = 0; round < rounds; round += 1) {
    const master = await createMaster({ transport: createAnsweringTransport(), tasks: tasksUrl });
    const before = process.cpuUsage();
    await run(master);
    const used = process.cpuUsage(before);
    perTask.push((used.user + used.system) / total);
    await master.close();
  }
  figures[mode] = median(perTask);
}
console.log(
  `master alone (a transport answering in its thread), ${total.toLocaleString('en')} tasks, median of ${rounds}: ` +
    Object.entries(figures)
      .map(([mode, us]) => `${mode} ${us.toFixed(2)} us CPU/task`)
      .join(', '),
);
