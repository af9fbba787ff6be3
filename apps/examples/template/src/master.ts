// The master: splits the work into tasks, runs them on this machine's cores, adds up the results.
//   npm run build && npm start -- --darts 100000000 --tasks 16
import { parseArgs } from 'node:util';
import { createMaster } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
import { throwDarts, type DartsInput } from './tasks.ts';

const { values } = parseArgs({
  options: {
    darts: { type: 'string', default: '40000000' },
    tasks: { type: 'string', default: '16' },
    workers: { type: 'string' },
  },
});
const darts = Number(values.darts);
const tasks = Number(values.tasks);
if (!Number.isSafeInteger(darts) || !Number.isSafeInteger(tasks) || tasks < 1 || darts < tasks) {
  console.error(`--darts and --tasks must be whole numbers with darts >= tasks >= 1, not ${values.darts} and ${values.tasks}`);
  process.exit(2);
}

const inputs: DartsInput[] = Array.from({ length: tasks }, (_, index) => ({
  darts: Math.floor(darts / tasks) + (index < darts % tasks ? 1 : 0),
  seed: 12_345 + index,
}));

const master = await createMaster({
  transport: createLocalTransport(values.workers === undefined ? {} : { workers: Number(values.workers) }),
  // The module the workers load: tasks.ts under tsx, tasks.js once compiled.
  tasks: new URL(import.meta.url.endsWith('.ts') ? './tasks.ts' : './tasks.js', import.meta.url),
});
try {
  const outputs = await master.map(throwDarts, inputs); // in input order
  const hits = outputs.reduce((sum, output) => sum + output.hits, 0);
  const thrown = outputs.reduce((sum, output) => sum + output.darts, 0);
  const estimate = (4 * hits) / thrown;
  console.log(`pi is about ${estimate.toFixed(5)} (${thrown} darts in ${tasks} tasks, error ${Math.abs(estimate - Math.PI).toExponential(1)})`);
} finally {
  await master.close();
}
