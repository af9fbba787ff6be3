import type { CommandModule } from 'yargs';
import { describeWorkers } from '../shared/describe-workers.js';
import { printReport } from '../shared/detached-report.js';
import { resolveUserPath } from '../shared/resolve-user-path.js';
import { exampleGroup, formatExamples, type CommandExample } from '../shared/format-examples.js';
import { transportSettingsFrom, withTransportOptions, type TransportArguments } from '../shared/transport-options.js';
import { runWordCount } from './run-word-count.js';

/** What `--help` shows; the CLI's test runs each one as printed. */
export const wordCountExamples: readonly CommandExample[] = [
  { command: 'word-count docs', description: 'The words of the guides' },
  { command: 'word-count packages/core/src -R --top 5', description: 'With subfolders, top 5' },
  { command: 'word-count docs --top 0 --json', description: 'Every count, as JSON' },
];

interface WordCountArguments extends TransportArguments {
  directory: string;
  recursive: boolean;
  reducers: number;
  top: number;
}

export const wordCountCommand: CommandModule<object, WordCountArguments> = {
  command: 'word-count <directory>',
  describe: 'Count the words of the files in a directory (MapReduce; PyMW string_counter.py)',
  builder: (yargs) =>
    withTransportOptions(
      yargs
        .positional('directory', { type: 'string', demandOption: true, describe: 'Directory of text files, one task per file' })
        .option('recursive', { group: exampleGroup, alias: 'R', type: 'boolean', default: false, describe: 'Count the files of subdirectories too' })
        .option('reducers', { group: exampleGroup, type: 'number', default: 2, describe: 'Reduce tasks that add up the counts (PyMW red_worker)' })
        .option('top', { group: exampleGroup, type: 'number', default: 10, describe: 'Most frequent words to list; 0 lists all' }),
    ).epilogue(formatExamples(wordCountExamples)),
  handler: async (argv) => {
    const report = await runWordCount({
      ...transportSettingsFrom(argv),
      directory: resolveUserPath(argv.directory),
      recursive: argv.recursive,
      reducers: argv.reducers,
      top: argv.top,
      progress: !argv.json,
    });
    printReport(report, argv.json, (report) => {
      const number = new Intl.NumberFormat('en-US');
      const width = Math.max(0, ...report.top.map(([word]) => word.length));
      return (
        `${number.format(report.words)} words (${number.format(report.distinct)} different) in ${report.files} files of ${report.directory}\n` +
        report.top.map(([word, count]) => `  ${word.padEnd(width)}  ${number.format(count)}\n`).join('') +
        `${report.tasks} tasks on ${describeWorkers(report)}: ${report.seconds.toFixed(2)} s\n`
      );
    });
  },
};
