import type { CommandModule } from 'yargs';
import { describeWorkers } from '../shared/describe-workers.js';
import { printReport } from '../shared/detached-report.js';
import { exampleGroup, formatExamples, type CommandExample } from '../shared/format-examples.js';
import { transportSettingsFrom, withTransportOptions, type TransportArguments } from '../shared/transport-options.js';
import { runPrimeFinder } from './run-prime-finder.js';

/** What `--help` shows; the CLI's test runs each one as printed. */
export const primeFinderExamples: readonly CommandExample[] = [
  { command: 'prime-finder', description: 'i from 1 to 10,000: 841 primes' },
  { command: 'prime-finder -s 100000 -n 2', description: 'i up to 100,000, 2 threads' },
  { command: 'prime-finder -s 1000 --json', description: 'All primes found, as JSON' },
];

interface PrimeFinderArguments extends TransportArguments {
  min: number;
  max: number;
  tasks: number | undefined;
}

export const primeFinderCommand: CommandModule<object, PrimeFinderArguments> = {
  command: 'prime-finder',
  describe: 'Find the primes of the form i*i+1 (PyMW prime_finder.py)',
  builder: (yargs) =>
    withTransportOptions(
      yargs
        .option('min', { group: exampleGroup, alias: 'r', type: 'number', default: 1, describe: 'First i to try (PyMW -r)' })
        .option('max', { group: exampleGroup, alias: 's', type: 'number', default: 10_000, describe: 'Last i to try (PyMW -s)' })
        .option('tasks', { group: exampleGroup, alias: 't', type: 'number', describe: 'Tasks to split the range into [default: 3 per worker; 12 on BOINC]' }),
    ).epilogue(formatExamples(primeFinderExamples)),
  handler: async (argv) => {
    const report = await runPrimeFinder({ ...transportSettingsFrom(argv), min: argv.min, max: argv.max, progress: !argv.json, ...(argv.tasks === undefined ? {} : { tasks: argv.tasks }) });
    printReport(report, argv.json, (report) => {
      const number = new Intl.NumberFormat('en-US');
      return (
        `${number.format(report.count)} primes of the form i*i+1 for i from ${number.format(report.min)} to ${number.format(report.max)}\n` +
        (report.count > 0 ? `largest: ${report.primes.slice(-5).map((prime) => number.format(prime)).join(', ')}\n` : '') +
        `${report.tasks} tasks on ${describeWorkers(report)}: ${report.seconds.toFixed(2)} s\n`
      );
    });
  },
};
