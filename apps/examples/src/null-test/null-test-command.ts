import type { CommandModule } from 'yargs';
import { describeWorkers } from '../shared/describe-workers.js';
import { printReport } from '../shared/detached-report.js';
import { exampleGroup, formatExamples, type CommandExample } from '../shared/format-examples.js';
import { transportSettingsFrom, withTransportOptions, type TransportArguments } from '../shared/transport-options.js';
import { runNullTest } from './run-null-test.js';

/** What `--help` shows; the CLI's test runs each one as printed. */
export const nullTestExamples: readonly CommandExample[] = [
  { command: 'null-test', description: '20,000 empty tasks on all cores' },
  { command: 'null-test -n 1 -t 2000 -s 64', description: '64 KiB each way, 1 thread' },
];

interface NullTestArguments extends TransportArguments {
  tasks: number;
  'round-trips': number | undefined;
  size: number;
}

export const nullTestCommand: CommandModule<object, NullTestArguments> = {
  command: 'null-test',
  describe: "Measure a transport's overhead per task with empty tasks (PyMW null_test.py)",
  builder: (yargs) =>
    withTransportOptions(
      yargs
        .option('tasks', { group: exampleGroup, alias: 't', type: 'number', default: 20_000, describe: 'Empty tasks to run all at once (PyMW -t)' })
        .option('round-trips', { group: exampleGroup, type: 'number', describe: 'Tasks to run one at a time first [default: 200; 0 on BOINC]' })
        .option('size', { group: exampleGroup, alias: 's', type: 'number', default: 0, describe: 'Kilobytes each task carries there and back (PyMW -s)' }),
    ).epilogue(formatExamples(nullTestExamples)),
  handler: async (argv) => {
    const report = await runNullTest({ ...transportSettingsFrom(argv), tasks: argv.tasks, ...(argv['round-trips'] === undefined ? {} : { roundTrips: argv['round-trips'] }), kilobytes: argv.size, progress: !argv.json });
    printReport(report, argv.json, (report) => {
      const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
      return (
        `${describeWorkers(report)}, ${report.kilobytes} KiB per task each way\n` +
        `start:           ${number.format(report.startSeconds * 1000)} ms\n` +
        (report.roundTripMicroseconds === null ? '' : `one task alone:  ${number.format(report.roundTripMicroseconds)} µs from submit to result (median of ${report.roundTrips})\n`) +
        `all at once:     ${number.format(report.tasks)} tasks in ${report.seconds.toFixed(3)} s: ` +
        `${number.format(report.overheadMicroseconds)} µs per task, ${number.format(report.tasksPerSecond)} tasks/s` +
        (report.kilobytes > 0 ? `, ${number.format(report.megabytesPerSecond)} MB/s` : '') +
        '\n'
      );
    });
  },
};
