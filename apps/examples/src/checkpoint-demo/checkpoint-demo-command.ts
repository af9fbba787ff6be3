import type { CommandModule } from 'yargs';
import { describeWorkers } from '../shared/describe-workers.js';
import { printReport } from '../shared/detached-report.js';
import { exampleGroup, formatExamples, type CommandExample } from '../shared/format-examples.js';
import { transportSettingsFrom, withTransportOptions, type TransportArguments } from '../shared/transport-options.js';
import { runCheckpointDemo } from './run-checkpoint-demo.js';

/** What `--help` shows; the CLI's test runs each one as printed. */
export const checkpointDemoExamples: readonly CommandExample[] = [
  { command: 'checkpoint-demo', description: 'Primes below 10^9: 50,847,534', long: true },
  { command: 'checkpoint-demo -l 1e8 -t 4', description: 'Primes below 10^8, in 4 tasks' },
];

interface CheckpointDemoArguments extends TransportArguments {
  limit: number;
  segment: number;
  tasks: number | undefined;
}

export const checkpointDemoCommand: CommandModule<object, CheckpointDemoArguments> = {
  command: 'checkpoint-demo',
  describe: 'Count primes in long tasks that checkpoint and resume',
  builder: (yargs) =>
    withTransportOptions(
      yargs
        .option('limit', { group: exampleGroup, alias: 'l', type: 'number', default: 1e9, describe: 'Count the primes below this' })
        .option('segment', { group: exampleGroup, type: 'number', default: 1e7, describe: 'Numbers sieved between two checkpoints' })
        .option('tasks', { group: exampleGroup, alias: 't', type: 'number', describe: 'Tasks to share the range [default: 1 per worker; 4 on BOINC]' }),
    ).epilogue(
      formatExamples(
        checkpointDemoExamples,
        'Each task saves where it got to after every segment (context.checkpoint) and, started ' +
          'again after a stop, goes on from there (context.restore). That matters on BOINC, where ' +
          'a volunteer may quit or reboot at any time; the local transport runs tasks through.',
      ),
    ),
  handler: async (argv) => {
    const report = await runCheckpointDemo({
      ...transportSettingsFrom(argv),
      limit: argv.limit,
      segment: argv.segment,
      progress: !argv.json,
      ...(argv.tasks === undefined ? {} : { tasks: argv.tasks }),
    });
    printReport(report, argv.json, (report) => {
      const number = new Intl.NumberFormat('en-US');
      return (
        `${number.format(report.primes)} primes below ${number.format(report.limit)}\n` +
        `${number.format(report.checkpoints)} checkpoints saved ${report.checkpointsKept ? 'and kept' : `(not kept: ${report.transport} runs tasks through)`}; ` +
        `${report.resumed} of ${report.tasks} tasks resumed from a checkpoint\n` +
        `${report.tasks} tasks on ${describeWorkers(report)}: ${report.seconds.toFixed(2)} s\n`
      );
    });
  },
};
