#!/usr/bin/env node
// Where the per-task time of tiny tasks goes: the transport alone (pre-encoded envelopes straight
// to doSubmit), core's envelope codec alone, and the whole stack (master + transport).
// Run with `node --cpu-prof bench/profile-stack.mjs [tasks]` to get a profile of the whole stack.
import { createMaster, decodeResultEnvelope, encodeTaskEnvelope, executeTaskEnvelope, indexTaskModule } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const total = Number(process.argv[2] ?? 200_000);
const tasksUrl = new URL('./tsmw-tasks.mjs', import.meta.url);
const moduleHash = createHash('sha256').update(readFileSync(fileURLToPath(tasksUrl))).digest('hex');
const tasksModule = await import(tasksUrl.href);
const perTask = (started) => (((performance.now() - started) * 1000) / total).toFixed(2);
const envelopeOf = (index) =>
  encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: `t${index}`, taskName: 'add', moduleHash, attempt: 1, input: { a: index, b: 1 } });

// 1. Codec and executor in this thread: what a worker and the master must do per task at least.
{
  let started = performance.now();
  const envelopes = Array.from({ length: total }, (_, index) => envelopeOf(index));
  console.log(`encode task envelope:            ${perTask(started)} us/task`);
  const registry = indexTaskModule(tasksModule);
  started = performance.now();
  const results = [];
  for (const envelope of envelopes) results.push(await executeTaskEnvelope(envelope, registry, { moduleHash }));
  console.log(`executeTaskEnvelope (worker):    ${perTask(started)} us/task`);
  started = performance.now();
  for (const bytes of results) decodeResultEnvelope(bytes);
  console.log(`decode result envelope:          ${perTask(started)} us/task`);
}

// 2. The transport alone: pre-encoded envelopes straight to doSubmit, results counted.
{
  const transport = createLocalTransport({ workers: 2 });
  await transport.doStart({ taskModule: { url: tasksUrl.href, hash: moduleHash, taskNames: ['add', 'montePi'] }, maxEnvelopeBytes: 64 * 1024 * 1024 });
  const tasks = Array.from({ length: total }, (_, index) => ({ taskId: `t${index}`, taskName: 'add', attempt: 1, envelope: envelopeOf(index), files: [] }));
  const started = performance.now();
  let received = 0;
  const receiving = (async () => {
    for await (const events of transport.doReceive()) {
      received += events.length;
      if (received === total) return;
    }
  })();
  for (let index = 0; index < total; index += 256) await transport.doSubmit(tasks.slice(index, index + 256));
  await receiving;
  console.log(`transport alone (2 workers):     ${perTask(started)} us/task = ${(total / ((performance.now() - started) / 1000) / 1000).toFixed(0)}k tasks/s`);
  await transport.doClose({ force: false });
}

// 3. The whole stack: master.submit for every task, all at once and 1,000 in flight, then map.
{
  const master = await createMaster({ transport: createLocalTransport({ workers: 2 }), tasks: tasksUrl });
  let started = performance.now();
  const handles = [];
  for (let index = 0; index < total; index += 1) handles.push(master.submit(tasksModule.add, { a: index, b: 1 }));
  await Promise.all((await Promise.all(handles)).map((handle) => handle.result));
  console.log(`master + transport (all at once): ${perTask(started)} us/task = ${(total / ((performance.now() - started) / 1000) / 1000).toFixed(0)}k tasks/s`);
  started = performance.now();
  await new Promise((resolve) => {
    let next = 0;
    let done = 0;
    const launch = () => {
      const index = next++;
      master
        .submit(tasksModule.add, { a: index, b: 1 })
        .then((handle) => handle.result)
        .then(() => {
          done += 1;
          if (next < total) launch();
          else if (done === total) resolve();
        });
    };
    for (let slot = 0; slot < 1000; slot += 1) launch();
  });
  console.log(`master + transport (1,000 in flight): ${perTask(started)} us/task = ${(total / ((performance.now() - started) / 1000) / 1000).toFixed(0)}k tasks/s`);
  started = performance.now();
  await master.map(tasksModule.add, Array.from({ length: total }, (_, index) => ({ a: index, b: 1 })));
  console.log(`master + transport (map):         ${perTask(started)} us/task = ${(total / ((performance.now() - started) / 1000) / 1000).toFixed(0)}k tasks/s`);
  await master.close();
}
