import type { CommandModule } from 'yargs';
import { exampleGroup, formatExamples, type CommandExample } from '../shared/format-examples.js';
import { transportSettingsFrom, withTransportOptions, type TransportArguments } from '../shared/transport-options.js';
import { describeWorkers } from '../shared/describe-workers.js';
import { printReport } from '../shared/detached-report.js';
import { runMontePi } from './run-monte-pi.js';

/** What `--help` shows; the CLI's test runs each one as printed. */
export const montePiExamples: readonly CommandExample[] = [
  { command: 'monte-pi', description: '320 million darts in 32 tasks, all cores', long: true },
  { command: 'monte-pi -n 2 -d 4e7', description: '40 million darts, 2 threads' },
  { command: 'monte-pi -t 8 -d 1e7 --seed 1 --json', description: 'Repeatable: the same seed, the same darts' },
  { command: 'monte-pi -i boinc -p ~/projects/test -t 100 -d 1e10', description: 'On a BOINC server (after tsmw-setup init -a monte-pi)', long: true },
];

interface MontePiArguments extends TransportArguments {
  tasks: number;
  darts: number;
  seed: number | undefined;
}

export const montePiCommand: CommandModule<object, MontePiArguments> = {
  command: 'monte-pi',
  describe: 'Estimate pi with random darts (PyMW monte_pi.py)',
  builder: (yargs) =>
    withTransportOptions(
      yargs
        .option('tasks', { group: exampleGroup, alias: 't', type: 'number', default: 32, describe: 'Tasks to split the darts into' })
        .option('darts', { group: exampleGroup, alias: 'd', type: 'number', default: 320_000_000, describe: 'Darts to throw in all' })
        .option('seed', { group: exampleGroup, type: 'number', describe: 'Seed of the random numbers, to repeat a run exactly [default: random; on BOINC: from the batch name]' }),
    ).epilogue(formatExamples(montePiExamples)),
  handler: async (argv) => {
    const report = await runMontePi({ ...transportSettingsFrom(argv), tasks: argv.tasks, darts: argv.darts, progress: !argv.json, ...(argv.seed === undefined ? {} : { seed: argv.seed }) });
    printReport(report, argv.json, (report) => {
      const number = new Intl.NumberFormat('en-US');
      return (
        `pi ≈ ${report.estimate.toFixed(7)}  (error ${report.error.toExponential(2)}, seed ${report.seed})\n` +
        `${number.format(report.darts)} darts in ${report.tasks} tasks on ${describeWorkers(report)}: ` +
        `${report.seconds.toFixed(2)} s, ${number.format(Math.round(report.dartsPerSecond))} darts/s, ${report.tasksPerSecond.toFixed(1)} tasks/s\n`
      );
    });
  },
};
