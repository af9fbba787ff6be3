#!/usr/bin/env node
// The local transport against the Node pools users would otherwise pick, in one process and on
// the same worker count. Prints tasks/s, ratios and the headline figures:
//   1. tiny tasks (a + b): tsmw local vs piscina vs tinypool vs raw worker_threads (one message
//      per task, and 256 tasks per message), in three modes: all submitted at once, 1,000 in
//      flight, and map over 1,000,000 inputs (tsmw's `map`; the others run the same inputs with
//      1,000 in flight, which is how one keeps memory bounded with them); then, for each mode,
//      tsmw's ratio to each of the others, as the median of per-round ratios;
//   2. CPU-bound monte-pi, 1 worker vs N: the speed-up of tsmw next to raw worker_threads';
//   3. peak RSS of the master while `map` runs over 1,000,000 inputs (in a fresh child process;
//      with thread workers the process's RSS includes theirs, so it is measured both ways);
//   4. where the master's thread spends its time, by layer, in each mode (a CPU profile of
//      bench/profile-stack.mjs, one child process per mode, summed by bench/cpu-profile-summary.mjs).
//
// Run after a build: `npm run bench` (builds first), or
// `node bench/run.mjs [--quick] [--workers 2] [--skip tiny,pi,rss,profile] [--rounds 5] [--tasks 100000] [--peers piscina,raw]`
// (`--rounds`: rounds of the tiny tasks; `--tasks`: tiny tasks per round in the all-at-once and
// 1,000-in-flight modes, by default 100,000 in 5 rounds, as the targets were set: with more tasks
// submitted at once every variant holds more live objects, and the ratio of "all at once" moves; `--peers`: which of the others to run beside tsmw, by a word of their
// names: piscina, tinypool, raw).
// `--quick` takes a few minutes; figures from it are rougher. The machine's load is printed at
// the start and the end: figures taken under load are low for every variant, ratios less so.
// On demand only: never part of CI's pass/fail.
import { execFile, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createMaster } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import { LAYERS, summarizeProfile } from './cpu-profile-summary.mjs';
import { allAtOnce, windowed } from './drivers.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const workersArgument = argv.indexOf('--workers');
const workers = workersArgument >= 0 ? Number(argv[workersArgument + 1]) : Math.min(2, availableParallelism());
const skipArgument = argv.indexOf('--skip');
const skipped = new Set(skipArgument >= 0 ? argv[skipArgument + 1].split(',') : []);
const roundsArgument = argv.indexOf('--rounds');
const peersArgument = argv.indexOf('--peers');
const peers = peersArgument >= 0 ? argv[peersArgument + 1].split(',') : undefined;

const tasksUrl = new URL('./tsmw-tasks.mjs', import.meta.url);
const poolWorkerUrl = new URL('./pool-worker.mjs', import.meta.url);
const rawWorkerUrl = new URL('./raw-worker.mjs', import.meta.url);

const settings = quick
  ? { tinyTasks: 50_000, mapInputs: 100_000, tinyRounds: 1, piTasks: 8, piDarts: 2_500_000, piRounds: 2, rssInputs: 200_000, profileTasks: 50_000 }
  : { tinyTasks: 100_000, mapInputs: 1_000_000, tinyRounds: 5, piTasks: 8, piDarts: 10_000_000, piRounds: 5, rssInputs: 1_000_000, profileTasks: 200_000 };
if (roundsArgument >= 0) settings.tinyRounds = Math.max(1, Number(argv[roundsArgument + 1]));
const tasksArgument = argv.indexOf('--tasks');
if (tasksArgument >= 0) settings.tinyTasks = Math.max(1, Number(argv[tasksArgument + 1]));
const MODES = [
  ['all', 'all at once'],
  ['window', '1,000 in flight'],
  ['map', `map over ${settings.mapInputs.toLocaleString('en')}`],
];
const TSMW = 'tsmw local';
const REFERENCE = 'piscina (default)';
const WINDOW = 1000;
const RAW_BATCH = 256;

if (argv[0] === '--rss-child') {
  await rssChild(Number(argv[1]), Number(argv[2]), argv[3]);
  process.exit(0);
}

// ---- helpers --------------------------------------------------------------------------------

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const format = (value) => (value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0));
const pad = (text, width) => String(text).padEnd(width);
const padLeft = (text, width) => String(text).padStart(width);

function startRawWorkers(count) {
  const list = Array.from({ length: count }, () => new Worker(rawWorkerUrl));
  return Promise.all(list.map((worker) => new Promise((resolve) => worker.once('online', resolve)))).then(() => list);
}

// ---- tiny tasks -----------------------------------------------------------------------------

/**
 * Each variant: start(), then run(total, mode) where mode is 'all', 'window' or 'map' (for the
 * pools, 'map' is `total` tasks with 1,000 in flight), then close().
 */
const allTinyVariants = [
  {
    name: TSMW,
    async start() {
      this.master = await createMaster({ transport: createLocalTransport({ workers }), tasks: tasksUrl });
      this.add = (await import(tasksUrl.href)).add;
    },
    async run(total, mode) {
      if (mode === 'map') {
        function* inputs() {
          for (let index = 0; index < total; index += 1) yield { a: index, b: 1 };
        }
        let sum = 0;
        for (const value of await this.master.map(this.add, inputs())) sum += value;
        return sum;
      }
      const runOne = (index) => this.master.submit(this.add, { a: index, b: 1 }).then((handle) => handle.result);
      return mode === 'all' ? allAtOnce(total, runOne) : windowed(total, WINDOW, runOne);
    },
    close() {
      return this.master.close();
    },
  },
  {
    name: 'piscina (default)',
    async start() {
      this.pool = new Piscina({ filename: poolWorkerUrl.href, minThreads: workers, maxThreads: workers });
    },
    run(total, mode) {
      const runOne = (index) => this.pool.run({ a: index, b: 1 });
      return mode === 'all' ? allAtOnce(total, runOne) : windowed(total, WINDOW, runOne);
    },
    close() {
      return this.pool.destroy();
    },
  },
  {
    name: 'tinypool',
    async start() {
      this.pool = new Tinypool({ filename: poolWorkerUrl.href, minThreads: workers, maxThreads: workers });
    },
    run(total, mode) {
      const runOne = (index) => this.pool.run({ a: index, b: 1 });
      return mode === 'all' ? allAtOnce(total, runOne) : windowed(total, WINDOW, runOne);
    },
    close() {
      return this.pool.destroy();
    },
  },
  {
    name: 'raw, 1 task/message',
    async start() {
      this.workers = await startRawWorkers(workers);
      this.pending = new Map();
      this.nextId = 0;
      for (const worker of this.workers) {
        worker.on('message', (message) => {
          const resolve = this.pending.get(message.id);
          this.pending.delete(message.id);
          resolve(message.result);
        });
      }
    },
    run(total, mode) {
      const runOne = (index) =>
        new Promise((resolve) => {
          const id = this.nextId++;
          this.pending.set(id, resolve);
          this.workers[id % this.workers.length].postMessage({ id, a: index, b: 1 });
        });
      return mode === 'all' ? allAtOnce(total, runOne) : windowed(total, WINDOW, runOne);
    },
    close() {
      return Promise.all(this.workers.map((worker) => worker.terminate()));
    },
  },
  {
    name: `raw, ${RAW_BATCH} tasks/message`,
    async start() {
      this.workers = await startRawWorkers(workers);
    },
    run(total, mode) {
      // No promise per task: batches of plain task objects out, arrays of results back.
      return new Promise((resolve) => {
        const window = mode === 'all' ? total : WINDOW;
        let sent = 0;
        let outstanding = 0;
        let done = 0;
        let sum = 0;
        let turn = 0;
        const send = () => {
          while (sent < total && outstanding < window) {
            const count = Math.min(RAW_BATCH, total - sent, window - outstanding);
            const tasks = new Array(count);
            for (let index = 0; index < count; index += 1) tasks[index] = { a: sent + index, b: 1 };
            this.workers[turn++ % this.workers.length].postMessage({ first: sent, tasks });
            sent += count;
            outstanding += count;
          }
        };
        const onMessage = (message) => {
          for (const value of message.results) sum += value;
          done += message.results.length;
          outstanding -= message.results.length;
          if (done === total) {
            for (const worker of this.workers) worker.off('message', onMessage);
            resolve(sum);
          } else send();
        };
        for (const worker of this.workers) worker.on('message', onMessage);
        send();
      });
    },
    close() {
      return Promise.all(this.workers.map((worker) => worker.terminate()));
    },
  },
];

async function benchTiny() {
  const tinyVariants = allTinyVariants.filter((variant) => variant.name === TSMW || variant.name === REFERENCE || peers === undefined || peers.some((word) => variant.name.includes(word)));
  const rates = new Map(); // `${variant}|${mode}` -> tasks/s per round
  for (const variant of tinyVariants) await variant.start();
  for (const variant of tinyVariants) await variant.run(Math.min(settings.tinyTasks, 20_000), 'window'); // warm-up
  for (let round = 0; round < settings.tinyRounds; round += 1) {
    for (const [mode] of MODES) {
      const total = mode === 'map' ? settings.mapInputs : settings.tinyTasks;
      const expected = (total * (total - 1)) / 2 + total;
      for (const variant of tinyVariants) {
        const started = performance.now();
        const sum = await variant.run(total, mode);
        const seconds = (performance.now() - started) / 1000;
        if (sum !== expected) throw new Error(`${variant.name} (${mode}) returned a wrong sum: ${sum}, expected ${expected}`);
        const key = `${variant.name}|${mode}`;
        if (!rates.has(key)) rates.set(key, []);
        rates.get(key).push(total / seconds);
      }
    }
  }
  for (const variant of tinyVariants) await variant.close();

  console.log(
    `\n1. Tiny tasks (a + b), ${workers} workers: ${format(settings.tinyTasks)} tasks all at once and 1,000 in flight, map over ${format(settings.mapInputs)} inputs (the pools: the same inputs, 1,000 in flight); median of ${settings.tinyRounds} round(s)`,
  );
  console.log(pad('tasks/s', 24) + MODES.map(([, label]) => padLeft(label, 20)).join(''));
  const summary = {};
  for (const variant of tinyVariants) {
    console.log(pad(variant.name, 24) + MODES.map(([mode]) => padLeft(`${format(median(rates.get(`${variant.name}|${mode}`)))}/s`, 20)).join(''));
  }
  console.log(`\n${pad(`${TSMW} / variant`, 24)}${MODES.map(([, label]) => padLeft(label, 20)).join('')}   (medians of per-round ratios, same run)`);
  for (const variant of tinyVariants) {
    if (variant.name === TSMW) continue;
    const cells = MODES.map(([mode]) => {
      const own = rates.get(`${TSMW}|${mode}`);
      const other = rates.get(`${variant.name}|${mode}`);
      const ratio = median(own.map((rate, round) => rate / other[round]));
      summary[`${variant.name}|${mode}`] = ratio;
      return padLeft(`${ratio.toFixed(2)}x`, 20);
    });
    console.log(pad(variant.name, 24) + cells.join(''));
  }
  for (const [mode] of MODES) summary[`${TSMW}|${mode}`] = median(rates.get(`${TSMW}|${mode}`));
  return summary;
}

// ---- monte-pi -------------------------------------------------------------------------------

const piInputs = () => Array.from({ length: settings.piTasks }, (_, index) => ({ darts: settings.piDarts, seed: index + 1 }));

async function timeTsmwPi(workerCount) {
  const master = await createMaster({ transport: createLocalTransport({ workers: workerCount }), tasks: tasksUrl });
  const { montePi } = await import(tasksUrl.href);
  await master.map(montePi, Array.from({ length: workerCount * 2 }, (_, index) => ({ darts: 100_000, seed: index + 1 }))); // warm-up
  const started = performance.now();
  const hits = await master.map(montePi, piInputs());
  const seconds = (performance.now() - started) / 1000;
  await master.close();
  return { seconds, hits: hits.reduce((total, value) => total + value, 0) };
}

async function timeRawPi(workerCount) {
  const list = await startRawWorkers(workerCount);
  const runAll = (inputs) =>
    new Promise((resolve) => {
      // Dynamic dispatch, one task per worker at a time: the next input goes to whichever worker is free.
      let next = 0;
      let done = 0;
      let hits = 0;
      const feed = (worker) => {
        if (next < inputs.length) worker.postMessage({ id: next, ...inputs[next++] });
      };
      const listeners = list.map((worker) => {
        const listener = (message) => {
          hits += message.result;
          done += 1;
          if (done === inputs.length) resolve(hits);
          else feed(worker);
        };
        worker.on('message', listener);
        return listener;
      });
      for (const worker of list) feed(worker);
      return listeners;
    });
  await runAll(Array.from({ length: workerCount * 2 }, (_, index) => ({ darts: 100_000, seed: index + 1 }))); // warm-up
  for (const worker of list) worker.removeAllListeners('message');
  const started = performance.now();
  const hits = await runAll(piInputs());
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(list.map((worker) => worker.terminate()));
  return { seconds, hits };
}

async function timePiscinaPi(workerCount) {
  const pool = new Piscina({ filename: poolWorkerUrl.href, minThreads: workerCount, maxThreads: workerCount });
  await Promise.all(Array.from({ length: workerCount * 2 }, (_, index) => pool.run({ darts: 100_000, seed: index + 1 }))); // warm-up
  const started = performance.now();
  const results = await Promise.all(piInputs().map((input) => pool.run(input)));
  const seconds = (performance.now() - started) / 1000;
  await pool.destroy();
  return { seconds, hits: results.reduce((total, value) => total + value, 0) };
}

async function benchPi() {
  const variants = [
    [TSMW, timeTsmwPi],
    ['raw worker_threads', timeRawPi],
    ['piscina', timePiscinaPi],
  ];
  const speedUps = new Map(variants.map(([name]) => [name, []]));
  const times = new Map(variants.map(([name]) => [name, { one: [], many: [] }]));
  let expectedHits;
  for (let round = 0; round < settings.piRounds; round += 1) {
    for (const [name, time] of variants) {
      const one = await time(1);
      const many = await time(workers);
      expectedHits ??= one.hits;
      if (one.hits !== expectedHits || many.hits !== expectedHits) throw new Error(`${name}: monte-pi hits differ (${one.hits}, ${many.hits}, expected ${expectedHits})`);
      speedUps.get(name).push(one.seconds / many.seconds);
      times.get(name).one.push(one.seconds);
      times.get(name).many.push(many.seconds);
    }
  }
  const pi = (4 * expectedHits) / (settings.piTasks * settings.piDarts);
  console.log(`\n2. CPU-bound monte-pi: ${settings.piTasks} tasks x ${format(settings.piDarts)} darts (pi ~ ${pi.toFixed(5)}), 1 worker vs ${workers}, median of ${settings.piRounds} round(s)`);
  console.log(`${pad('variant', 24)}${padLeft('1 worker', 11)}${padLeft(`${workers} workers`, 12)}${padLeft('speed-up', 11)}${padLeft('x raw', 9)}`);
  const raw = speedUps.get('raw worker_threads');
  const summary = {};
  for (const [name] of variants) {
    const own = speedUps.get(name);
    const ratio = median(own.map((value, round) => value / raw[round]));
    summary[name] = { speedUp: median(own), ratioToRaw: ratio };
    console.log(
      `${pad(name, 24)}${padLeft(`${median(times.get(name).one).toFixed(3)} s`, 11)}${padLeft(`${median(times.get(name).many).toFixed(3)} s`, 12)}${padLeft(`${median(own).toFixed(2)}x`, 11)}${padLeft(ratio.toFixed(3), 9)}`,
    );
  }
  return summary;
}

// ---- master RSS -----------------------------------------------------------------------------

async function rssChild(inputs, workerCount, isolation) {
  const master = await createMaster({ transport: createLocalTransport({ workers: workerCount, isolation }), tasks: tasksUrl });
  const { add } = await import(tasksUrl.href);
  global.gc?.();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakHeap = baseline.heapUsed;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const timer = setInterval(sample, 20);
  const quarters = [];
  function* generate() {
    for (let index = 0; index < inputs; index += 1) {
      if (index > 0 && index % Math.floor(inputs / 4) === 0) quarters.push(process.memoryUsage().rss);
      yield { a: index, b: 1 };
    }
  }
  const started = performance.now();
  const outputs = await master.map(add, generate());
  const seconds = (performance.now() - started) / 1000;
  sample();
  clearInterval(timer);
  await master.close();
  let sum = 0;
  for (const value of outputs) sum += value;
  if (outputs.length !== inputs || sum !== (inputs * (inputs - 1)) / 2 + inputs) throw new Error('map returned wrong outputs');
  quarters.push(process.memoryUsage().rss);
  process.send({ baselineRss: baseline.rss, peakRss, baselineHeap: baseline.heapUsed, peakHeap, seconds, quarters });
}

async function benchRss() {
  const inputs = settings.rssInputs;
  const measure = (isolation) =>
    new Promise((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), ['--rss-child', String(inputs), String(workers), isolation], { execArgv: ['--expose-gc'] });
      let message;
      child.on('message', (received) => (message = received));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 && message !== undefined ? resolve(message) : reject(new Error(`the RSS child exited with code ${code}`))));
    });
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`\n3. Master memory while map runs over ${format(inputs)} inputs, ${workers} workers (each in a fresh child process)`);
  const results = {};
  for (const isolation of ['thread', 'process']) {
    const result = await measure(isolation);
    results[isolation] = result;
    const who = isolation === 'thread' ? 'RSS of the process (master + worker threads)' : 'RSS of the master alone (workers are processes)';
    console.log(
      `   ${pad(`isolation ${isolation}:`, 20)}${who}: ${mb(result.baselineRss)} before, ${mb(result.peakRss)} peak; at 25/50/75/100 %: ${result.quarters.map(mb).join(', ')}; master JS heap peak ${mb(result.peakHeap)}; ${format(inputs / result.seconds)} tasks/s`,
    );
  }
  return results;
}

// ---- master profile by layer ---------------------------------------------------------------

const execFileAsync = promisify(execFile);

/** Runs bench/profile-stack.mjs for one mode under --cpu-prof; returns its line and the master thread's profile summary. */
async function profileMode(mode) {
  const directory = mkdtempSync(join(tmpdir(), 'tsmw-profile-'));
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${directory}`, fileURLToPath(new URL('./profile-stack.mjs', import.meta.url)), '--mode', mode, '--tasks', String(settings.profileTasks)],
      { maxBuffer: 1024 * 1024 },
    );
    // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the master's.
    const file = readdirSync(directory).find((name) => name.split('.')[4] === '0');
    if (file === undefined) throw new Error(`no profile of the main thread in ${directory}`);
    return { line: stdout.trim(), summary: summarizeProfile(JSON.parse(readFileSync(join(directory, file), 'utf8'))) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function benchProfile() {
  const modes = [
    ['transport', 'transport alone'],
    ['all', 'all at once'],
    ['window', '1,000 in flight'],
    ['map', 'map'],
  ];
  const results = [];
  for (const [mode, label] of modes) results.push([label, await profileMode(mode)]);
  console.log(`\n4. The master's thread by layer (CPU profile of bench/profile-stack.mjs, ${format(settings.profileTasks)} tiny tasks, 2 workers, one process per mode; % of busy time)`);
  for (const [label, { line }] of results) console.log(`   ${pad(`${label}:`, 18)}${line.replace(/^.*?:\s+/, '')}`);
  console.log(pad('layer', 26) + results.map(([label]) => padLeft(label, 18)).join(''));
  for (const layer of LAYERS) {
    console.log(pad(layer, 26) + results.map(([, { summary }]) => padLeft(`${((100 * (summary.layers.get(layer) ?? 0)) / summary.busyMs).toFixed(1)} %`, 18)).join(''));
  }
  console.log(pad('busy ms (of wall ms)', 26) + results.map(([, { summary }]) => padLeft(`${summary.busyMs.toFixed(0)} (${summary.totalMs.toFixed(0)})`, 18)).join(''));
  for (const [label, { summary }] of results) {
    console.log(`   busiest functions, ${label} (% of busy): core and transport-local | any layer`);
    const share = (ms) => `${((100 * ms) / summary.busyMs).toFixed(1)} %`;
    for (let index = 0; index < 10; index += 1) {
      const [ours, oursMs] = summary.functions[index] ?? ['', 0];
      const [any, anyMs] = summary.frames[index] ?? ['', 0];
      console.log(`     ${pad(ours, 62)}${padLeft(ours === '' ? '' : share(oursMs), 7)} | ${pad(any, 70)}${padLeft(any === '' ? '' : share(anyMs), 7)}`);
    }
  }
}

// ---- main -----------------------------------------------------------------------------------

const load = () => loadavg().map((value) => value.toFixed(2)).join(', ');
console.log(`tsmw local transport benchmark${quick ? ' (quick)' : ''}: Node ${process.version}, ${availableParallelism()} CPUs, ${workers} workers; load average at start ${load()}`);
const tiny = skipped.has('tiny') ? undefined : await benchTiny();
const pi = skipped.has('pi') ? undefined : await benchPi();
const rss = skipped.has('rss') ? undefined : await benchRss();
if (!skipped.has('profile')) await benchProfile();

console.log(`\nSummary (targets in brackets); load average at the end ${load()}`);
if (tiny !== undefined) {
  const ratios = MODES.map(([mode, label]) => `${tiny[`${REFERENCE}|${mode}`].toFixed(2)}x ${label}`).join(', ');
  const submitMet = Math.min(tiny[`${REFERENCE}|all`], tiny[`${REFERENCE}|window`]) >= 5;
  console.log(`  tiny-task throughput vs piscina: ${ratios} [>= 5x submit, >= 8x map] ${submitMet && tiny[`${REFERENCE}|map`] >= 8 ? 'met' : 'NOT met'}`);
}
if (pi !== undefined) {
  const piRatio = pi[TSMW].ratioToRaw;
  console.log(`  monte-pi speed-up 1 -> ${workers} workers: ${pi[TSMW].speedUp.toFixed(2)}x vs raw ${pi['raw worker_threads'].speedUp.toFixed(2)}x, ratio ${piRatio.toFixed(3)} [>= 0.95] ${piRatio >= 0.95 ? 'met' : 'NOT met'}`);
}
if (rss !== undefined) {
  const peakMb = rss.thread.peakRss / 1024 / 1024;
  const masterPeakMb = rss.process.peakRss / 1024 / 1024;
  console.log(
    `  peak RSS over ${format(settings.rssInputs)} inputs: master alone ${masterPeakMb.toFixed(0)} MB [< 200 MB] ${masterPeakMb < 200 ? 'met' : 'NOT met'}; master + worker threads ${peakMb.toFixed(0)} MB`,
  );
}
