#!/usr/bin/env node
// Encode+decode throughput (per second of CPU time) of tsmw task envelopes (1 KiB and 1 MiB inputs, and 1 KiB of Maps,
// Sets, typed arrays, dates and bigints) against bare msgpackr, JSON and Node's structured-clone
// serializer (v8.serialize), measured in the same process, interleaved in rounds. Prints MB/s and
// the median of per-round ratios. Run after a build: `node bench/wire-throughput.mjs [--quick]`.
// Bare msgpackr and JSON do not keep those types (a Float64Array comes back a Uint8Array view, a
// Map an object); msgpackr with `moreTypes` and `structuredClone` does, in its own extensions.
import { deserialize, serialize } from 'node:v8';
import { decodeTaskEnvelope, encodeTaskEnvelope } from '@tsmw/core';
import { Packr } from 'msgpackr';

const quick = process.argv.includes('--quick');
const rounds = quick ? 5 : 15;
const bare = new Packr({ useRecords: false });
const structuredPackr = new Packr({ useRecords: false, moreTypes: true, structuredClone: true });

function makeInput(bytes, structured) {
  if (structured) {
    // Typed values: a Map of rows, a Set of tags, a Float64Array, dates and bigints.
    const rows = new Map();
    for (let index = 0; index < 12; index += 1) rows.set(`row-${index}`, { at: new Date(1_795_000_000_000 + index), count: BigInt(index) * 10n ** 12n, ok: index % 3 !== 0 });
    return { rows, tags: new Set(['a', 'b', 'c']), samples: new Float64Array(32).map((_, index) => index / 3) };
  }
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

/** Operations per second of CPU time (this process: the main thread and its GC threads), so that
 * other programs sharing the machine do not count against whichever variant they interrupted. */
function measure(run, budgetMs) {
  let operations = 0;
  const cpuMs = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  const start = cpuMs();
  let now = start;
  while (now - start < budgetMs) {
    for (let index = 0; index < 8; index += 1) run();
    operations += 8;
    now = cpuMs();
  }
  return operations / ((now - start) / 1000);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const [label, bytes, structured] of [['1 KiB', 1024, false], ['1 MiB', 1024 * 1024, false], ['1 KiB structured', 1024, true]]) {
  const input = makeInput(bytes, structured);
  const task = envelope(input);
  const jsonInput = bytes >= 1024 * 1024 ? { samples: Array.from(input.samples) } : input;
  const jsonTask = envelope(jsonInput);
  const payload = encodeTaskEnvelope(task).byteLength;
  const variants = structured
    ? {
        'tsmw envelope': () => decodeTaskEnvelope(encodeTaskEnvelope(task)),
        'msgpackr types': () => structuredPackr.unpack(structuredPackr.pack(task)),
        'v8.serialize': () => deserialize(serialize(task)),
      }
    : {
        'tsmw envelope': () => decodeTaskEnvelope(encodeTaskEnvelope(task)),
        'bare msgpackr': () => bare.unpack(bare.pack(task)),
        JSON: () => JSON.parse(JSON.stringify(jsonTask)),
        'v8.serialize': () => deserialize(serialize(task)),
      };
  const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  // Short slices, many rounds: each variant runs between the others again and again.
  const budget = bytes >= 1024 * 1024 ? (quick ? 60 : 120) : quick ? 30 : 60;
  // Warm-up, until the JIT has optimized each variant (tsmw's codec has more code to optimize).
  for (let pass = 0; pass < 3; pass += 1) for (const run of Object.values(variants)) measure(run, budget * 5);
  for (let round = 0; round < rounds * 5; round += 1) {
    for (const [name, run] of Object.entries(variants)) results[name].push(measure(run, budget));
  }
  console.log(`\n${label} input (${payload} bytes as a tsmw envelope), encode+decode, ${rounds * 5} rounds:`);
  for (const name of Object.keys(variants)) {
    const perSecond = median(results[name]);
    const ratios = results[name].map((value, round) => value / results['tsmw envelope'][round]);
    const versusJson = results.JSON === undefined ? undefined : results['tsmw envelope'].map((value, round) => value / results.JSON[round]);
    console.log(
      `  ${name.padEnd(14)} ${perSecond.toFixed(0).padStart(9)} ops/s  ${((perSecond * payload) / 1e6).toFixed(1).padStart(8)} MB/s` +
        `  x tsmw ${median(ratios).toFixed(2)}` +
        (name === 'tsmw envelope' && versusJson !== undefined ? `  (tsmw x JSON ${median(versusJson).toFixed(2)})` : ''),
    );
  }
}
