#!/usr/bin/env node
// Sums a .cpuprofile of the master thread by layer: GC, idle, postMessage, msgpackr (core's
// codec), core, transport-local, the benchmark driver, Node internals; then the busiest
// functions of core and transport-local. Usage:
//   node --cpu-prof --cpu-prof-dir=/tmp/profile bench/profile-stack.mjs 200000
//   node bench/cpu-profile-summary.mjs /tmp/profile/CPU.<...>.001.cpuprofile   (001: the main thread)
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const layers = new Map();
const functions = new Map();
let total = 0;

function layerOf(frame) {
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(garbage collector)') return 'GC';
  if (frame.functionName === 'postMessage' && frame.url === '') return 'postMessage (native)';
  if (frame.url.includes('/msgpackr/')) return 'msgpackr (core codec)';
  if (frame.url.includes('/packages/core/')) return 'core (master, wire)';
  if (frame.url.includes('/transport-local/')) return 'transport-local';
  if (frame.url.includes('/bench/')) return 'benchmark driver';
  return 'Node internals, other';
}

profile.samples.forEach((id, index) => {
  const micros = profile.timeDeltas[index] ?? 0;
  const frame = nodes.get(id).callFrame;
  const layer = layerOf(frame);
  total += micros;
  layers.set(layer, (layers.get(layer) ?? 0) + micros);
  if (layer === 'core (master, wire)' || layer === 'transport-local') {
    const name = `${layer}: ${frame.functionName || '(anonymous)'}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
});

const busy = total - (layers.get('idle') ?? 0);
for (const [layer, micros] of [...layers].sort((a, b) => b[1] - a[1])) {
  const ofBusy = layer === 'idle' ? '' : `${((100 * micros) / busy).toFixed(1).padStart(5)} % of busy`;
  console.log(`${layer.padEnd(28)}${(micros / 1000).toFixed(0).padStart(7)} ms ${((100 * micros) / total).toFixed(1).padStart(5)} % of wall ${ofBusy}`);
}
console.log('busiest functions of core and transport-local:');
for (const [name, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 16)) console.log(`  ${name.padEnd(56)}${(micros / 1000).toFixed(0).padStart(7)} ms`);
