#!/usr/bin/env node
// Where the per-task time of tiny tasks goes: core's envelope codec alone, the transport alone
// (pre-encoded envelopes straight to doSubmit), and the whole stack (master + transport): every
// task submitted at once, 1,000 in flight, and map.
//
//   node bench/profile-stack.mjs [--tasks 200000] [--mode codec|transport|all|window|map]
//
// Without --mode every part runs. With --cpu-prof, run one mode at a time to get a profile of the
// master's thread for that mode alone, and sum it by layer with bench/cpu-profile-summary.mjs
// (bench/run.mjs does this for each mode).
//
// Each line also gives CPU time per task (Linux): the master thread's time on a CPU, its time
// runnable but waiting for a CPU (two workers and the master share this machine's two CPUs,
// with whatever else runs), and the whole process's. A CPU profile samples wall time: a thread
// waiting for a CPU is charged to the frame it was in, often postMessage (which wakes a worker
// that then takes the CPU).
import { createMaster, decodeResultEnvelope, encodeTaskEnvelope, executeTaskEnvelope, hashTaskModule, indexTaskModule } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allAtOnce, windowed } from './drivers.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : fallback;
};
const total = Number(option('tasks', 200_000));
const mode = option('mode', undefined);
const runs = (part) => mode === undefined || mode === part;

const tasksUrl = new URL('./tsmw-tasks.mjs', import.meta.url);
const moduleHash = hashTaskModule(readFileSync(fileURLToPath(tasksUrl)));
const tasksModule = await import(tasksUrl.href);
const perTask = (started) => (((performance.now() - started) * 1000) / total).toFixed(2);
const rate = (started) => `${(total / ((performance.now() - started) / 1000) / 1000).toFixed(0)}k tasks/s`;

/**
 * CPU time, not wall time: the master thread's time on a CPU and runnable but waiting for one
 * (Linux's schedstat of the main thread; absent elsewhere), and the whole process's CPU time
 * (master, workers and Node's own threads), in milliseconds.
 */
function clocks() {
  let thread;
  try {
    const [onCpu, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    thread = { onCpu: onCpu / 1e6, waiting: waiting / 1e6 };
  } catch {
    thread = undefined;
  }
  const usage = process.cpuUsage();
  return { thread, process: (usage.user + usage.system) / 1000 };
}
/** Per task, since `before`: the master thread on a CPU, waiting for a CPU, and the process's CPU. */
function cpuPerTask(before) {
  const after = clocks();
  const us = (ms) => ((ms * 1000) / total).toFixed(2);
  const thread = before.thread === undefined || after.thread === undefined ? '' : `; master thread ${us(after.thread.onCpu - before.thread.onCpu)} us/task on a CPU, ${us(after.thread.waiting - before.thread.waiting)} us/task waiting for one`;
  return `${thread}; process CPU ${us(after.process - before.process)} us/task`;
}
const envelopeOf = (index) =>
  encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: `t${index}`, taskName: 'add', moduleHash, attempt: 1, input: { a: index, b: 1 } });

// 1. Codec and executor in this thread: what a worker and the master must do per task at least.
if (runs('codec')) {
  let started = performance.now();
  const envelopes = Array.from({ length: total }, (_, index) => envelopeOf(index));
  console.log(`encode task envelope:                 ${perTask(started)} us/task`);
  const registry = indexTaskModule(tasksModule);
  started = performance.now();
  const results = [];
  for (const envelope of envelopes) results.push(await executeTaskEnvelope(envelope, registry, { moduleHash }));
  console.log(`executeTaskEnvelope (worker):         ${perTask(started)} us/task`);
  started = performance.now();
  for (const bytes of results) decodeResultEnvelope(bytes);
  console.log(`decode result envelope:               ${perTask(started)} us/task`);
}

// 2. The transport alone: pre-encoded envelopes straight to doSubmit, events counted.
if (runs('transport')) {
  const transport = createLocalTransport({ workers: 2 });
  await transport.doStart({ taskModule: { url: tasksUrl.href, hash: moduleHash, taskNames: ['add', 'montePi'] }, maxEnvelopeBytes: 64 * 1024 * 1024 });
  const tasks = Array.from({ length: total }, (_, index) => ({ taskId: `t${index}`, taskName: 'add', attempt: 1, envelope: envelopeOf(index), files: [] }));
  const before = clocks();
  const started = performance.now();
  let results = 0;
  const receiving = (async () => {
    for await (const events of transport.doReceive()) {
      for (const event of events) if (event.type === 'task-result') results += 1;
      if (results === total) return;
    }
  })();
  for (let index = 0; index < total; index += 256) await transport.doSubmit(tasks.slice(index, index + 256));
  await receiving;
  console.log(`transport alone (2 workers):          ${perTask(started)} us/task = ${rate(started)}${cpuPerTask(before)}`);
  await transport.doClose({ force: false });
}

// 3. The whole stack, through the public API.
if (runs('all') || runs('window') || runs('map')) {
  const master = await createMaster({ transport: createLocalTransport({ workers: 2 }), tasks: tasksUrl });
  const runOne = (index) => master.submit(tasksModule.add, { a: index, b: 1 }).then((handle) => handle.result);
  if (runs('all')) {
    const before = clocks();
    const started = performance.now();
    await allAtOnce(total, runOne);
    console.log(`master + transport (all at once):     ${perTask(started)} us/task = ${rate(started)}${cpuPerTask(before)}`);
  }
  if (runs('window')) {
    const before = clocks();
    const started = performance.now();
    await windowed(total, 1000, runOne);
    console.log(`master + transport (1,000 in flight): ${perTask(started)} us/task = ${rate(started)}${cpuPerTask(before)}`);
  }
  if (runs('map')) {
    function* inputs() {
      for (let index = 0; index < total; index += 1) yield { a: index, b: 1 };
    }
    const before = clocks();
    const started = performance.now();
    await master.map(tasksModule.add, inputs());
    console.log(`master + transport (map):             ${perTask(started)} us/task = ${rate(started)}${cpuPerTask(before)}`);
  }
  await master.close();
}
