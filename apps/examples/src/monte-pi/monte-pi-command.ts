import type { CommandModule } from 'yargs';
import { runMontePi } from './run-monte-pi.js';

interface MontePiArguments {
  transport: 'local' | 'boinc';
  workers: number | undefined;
  'project-home': string | undefined;
  tasks: number;
  darts: number;
  seed: number | undefined;
  json: boolean;
}

export const montePiCommand: CommandModule<object, MontePiArguments> = {
  command: 'monte-pi',
  describe: 'Estimate pi by throwing random darts in parallel tasks (PyMW monte_pi.py)',
  builder: (yargs) =>
    yargs
      .option('transport', { alias: 'i', choices: ['local', 'boinc'] as const, default: 'local' as const, describe: 'Where tasks run (PyMW -i)' })
      .option('workers', { alias: 'n', type: 'number', describe: 'Worker threads for the local transport (default: this machine\'s cores)' })
      .option('project-home', { alias: 'p', type: 'string', describe: 'BOINC project directory (reserved for --transport boinc)' })
      .option('tasks', { type: 'number', default: 32, describe: 'How many tasks to split the darts into' })
      .option('darts', { type: 'number', default: 320_000_000, describe: 'How many darts to throw in all' })
      .option('seed', { type: 'number', describe: 'Seed of the random numbers (default: random), to repeat a run exactly' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object instead of text' })
      .example('$0 monte-pi', 'Throw 320 million darts on all cores')
      .example('$0 monte-pi -n 1 --tasks 8 --darts 80000000 --json', 'One worker, JSON output'),
  handler: async (argv) => {
    const report = await runMontePi({
      transport: argv.transport,
      tasks: argv.tasks,
      darts: argv.darts,
      json: argv.json,
      progress: !argv.json,
      ...(argv.workers === undefined ? {} : { workers: argv.workers }),
      ...(argv['project-home'] === undefined ? {} : { projectHome: argv['project-home'] }),
      ...(argv.seed === undefined ? {} : { seed: argv.seed }),
    });
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const number = new Intl.NumberFormat('en-US');
    process.stdout.write(
      `pi ≈ ${report.estimate.toFixed(7)}  (error ${report.error.toExponential(2)})\n` +
        `${number.format(report.darts)} darts in ${report.tasks} tasks on ${report.workers} ${report.transport} workers: ` +
        `${report.seconds.toFixed(2)} s, ${number.format(Math.round(report.dartsPerSecond))} darts/s, ${report.tasksPerSecond.toFixed(1)} tasks/s\n`,
    );
  },
};
