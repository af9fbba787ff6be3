// The master the durable conformance group kills: started in a child process with
// `node durable-child.js <json>`, it maps the `sleep` task over the given inputs with a
// transport made by the module under test, and prints `progress` once `reportAfter` tasks have
// completed (the parent then sends SIGKILL), and `finished` if it gets that far.
import { createMaster, type Transport } from '@tsmw/core';
import { conformanceTasksUrl } from './conformance-tasks-url.js';
import { sleep } from './conformance-tasks.js';

interface ChildConfiguration {
  readonly transportModule: string;
  readonly batch: string;
  readonly inputs: ReadonlyArray<{ ms: number; value: number }>;
  readonly reportAfter: number;
}

const configuration = JSON.parse(process.argv[2] ?? '{}') as ChildConfiguration;
const module = (await import(configuration.transportModule)) as { createConformanceTransport?: () => Transport | Promise<Transport> };
if (typeof module.createConformanceTransport !== 'function') {
  process.stderr.write(`${configuration.transportModule} does not export createConformanceTransport()\n`);
  process.exit(2);
}
const master = await createMaster({ transport: await module.createConformanceTransport(), tasks: conformanceTasksUrl(), batch: configuration.batch });
let completed = 0;
master.on('task-completed', () => {
  completed += 1;
  if (completed === configuration.reportAfter) process.stdout.write('progress\n');
});
await master.map(sleep, configuration.inputs);
process.stdout.write('finished\n');
await master.close();
