#!/usr/bin/env node
// Sums a .cpuprofile of the master's thread by layer: GC, idle, postMessage, core's wire codec,
// core's master (the rest of core), transport-local, the benchmark driver, Node internals; then
// the busiest functions of core and transport-local. Usage:
//   node --cpu-prof --cpu-prof-dir=/tmp/profile bench/profile-stack.mjs --mode all
//   node bench/cpu-profile-summary.mjs /tmp/profile/CPU.<date>.<time>.<pid>.0.<n>.cpuprofile   (thread 0: the main thread)
// bench/run.mjs imports summarizeProfile to print one summary per mode.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const LAYERS = ['GC', 'postMessage (native)', 'core wire (codec)', 'core master', 'transport-local', 'benchmark driver', 'Node internals, other'];

/**
 * core is bundled into chunks whose names say nothing: its codec is told apart by function name
 * (the writer's and reader's methods, the envelope encoders and decoders of src/wire).
 */
const codecFunction = /^(write|read|encode|decode|finish|grow|skip|allocate|concatenate|replaceBuffer|need|enter|checkMaxBytes|expect|fieldError|isDecodedMap|serializeError|refusalError|describeValue|TaskEnvelopeEncoder|Writer|Reader)/;

function layerOf(frame) {
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(garbage collector)') return 'GC';
  if (frame.functionName === 'postMessage' && frame.url === '') return 'postMessage (native)';
  if (frame.url.includes('/packages/core/')) return codecFunction.test(frame.functionName) ? 'core wire (codec)' : 'core master';
  if (frame.url.includes('/transport-local/')) return 'transport-local';
  if (frame.url.includes('/bench/')) return 'benchmark driver';
  return 'Node internals, other';
}

/**
 * Milliseconds per layer (self time of the sampled frames), per function of core and
 * transport-local, and per function of any layer (`frames`), from a parsed .cpuprofile.
 */
export function summarizeProfile(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const layers = new Map();
  const functions = new Map();
  const frames = new Map();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const frame = nodes.get(id).callFrame;
    const layer = layerOf(frame);
    total += micros;
    layers.set(layer, (layers.get(layer) ?? 0) + micros);
    if (layer === 'idle') return;
    const file = frame.url.slice(frame.url.lastIndexOf('/') + 1);
    const where = file === '' ? '' : ` (${file}:${frame.lineNumber + 1})`;
    const frameName = `${layer}: ${frame.functionName || '(anonymous)'}${where}`;
    frames.set(frameName, (frames.get(frameName) ?? 0) + micros);
    if (layer === 'core wire (codec)' || layer === 'core master' || layer === 'transport-local') {
      const name = `${layer === 'transport-local' ? 'transport-local' : 'core'}: ${frame.functionName || '(anonymous)'}${where}`;
      functions.set(name, (functions.get(name) ?? 0) + micros);
    }
  });
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]).map(([name, micros]) => [name, micros / 1000]);
  const busy = total - (layers.get('idle') ?? 0);
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    layers: new Map([...layers].map(([layer, micros]) => [layer, micros / 1000])),
    functions: sorted(functions),
    frames: sorted(frames),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const summary = summarizeProfile(JSON.parse(readFileSync(process.argv[2], 'utf8')));
  for (const [layer, ms] of [...summary.layers].sort((a, b) => b[1] - a[1])) {
    const ofBusy = layer === 'idle' ? '' : `${((100 * ms) / summary.busyMs).toFixed(1).padStart(5)} % of busy`;
    console.log(`${layer.padEnd(28)}${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)} % of wall ${ofBusy}`);
  }
  console.log('busiest functions of core and transport-local:');
  for (const [name, ms] of summary.functions.slice(0, 20)) console.log(`  ${name.padEnd(72)}${ms.toFixed(0).padStart(7)} ms`);
  console.log('busiest functions of any layer:');
  for (const [name, ms] of summary.frames.slice(0, 20)) console.log(`  ${name.padEnd(90)}${ms.toFixed(0).padStart(7)} ms`);
}
