#!/usr/bin/env node
// Encode+decode throughput of tsmw task envelopes (1 KiB and 1 MiB inputs) against bare
// msgpackr and JSON, measured in the same process, interleaved in rounds. Prints MB/s and the
// median of per-round ratios. Run after a build: `node bench/wire-throughput.mjs [--quick]`.
import { decodeTaskEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { Packr } from 'msgpackr';

const quick = process.argv.includes('--quick');
const rounds = quick ? 5 : 15;
const bare = new Packr({ useRecords: false });

function makeInput(bytes) {
  // A realistic mix: numbers, strings, a nested record per ~64 bytes.
  if (bytes >= 1024 * 1024) return { samples: new Float64Array(bytes / 8).map((_, index) => Math.sin(index)) };
  const items = [];
  let size = 0;
  for (let index = 0; size < bytes; index += 1) {
    const item = { id: index, name: `item-${index}`, value: index * 1.5, tags: ['a', 'b'] };
    items.push(item);
    size += JSON.stringify(item).length;
  }
  return { items };
}

function envelope(input) {
  return { kind: 'tsmw-task', version: 1, taskId: 'bench-0', taskName: 'bench', moduleHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', attempt: 1, input };
}

function measure(run, budgetMs) {
  let operations = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budgetMs) {
    for (let index = 0; index < 8; index += 1) run();
    operations += 8;
    now = performance.now();
  }
  return operations / ((now - start) / 1000);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const [label, bytes] of [['1 KiB', 1024], ['1 MiB', 1024 * 1024]]) {
  const input = makeInput(bytes);
  const task = envelope(input);
  const jsonInput = bytes >= 1024 * 1024 ? { samples: Array.from(input.samples) } : input;
  const jsonTask = envelope(jsonInput);
  const payload = encodeTaskEnvelope(task).byteLength;
  const variants = {
    'tsmw envelope': () => decodeTaskEnvelope(encodeTaskEnvelope(task)),
    'bare msgpackr': () => bare.unpack(bare.pack(task)),
    JSON: () => JSON.parse(JSON.stringify(jsonTask)),
  };
  const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const budget = bytes >= 1024 * 1024 ? (quick ? 300 : 600) : quick ? 150 : 300;
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, run] of Object.entries(variants)) results[name].push(measure(run, budget));
  }
  console.log(`\n${label} input (${payload} bytes as a tsmw envelope), encode+decode, ${rounds} rounds:`);
  for (const name of Object.keys(variants)) {
    const perSecond = median(results[name]);
    const ratios = results[name].map((value, round) => value / results['tsmw envelope'][round]);
    const versusJson = results['tsmw envelope'].map((value, round) => value / results.JSON[round]);
    console.log(
      `  ${name.padEnd(14)} ${perSecond.toFixed(0).padStart(9)} ops/s  ${((perSecond * payload) / 1e6).toFixed(1).padStart(8)} MB/s` +
        `  x tsmw ${median(ratios).toFixed(2)}` +
        (name === 'tsmw envelope' ? `  (tsmw x JSON ${median(versusJson).toFixed(2)})` : ''),
    );
  }
}
