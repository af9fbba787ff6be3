import type { Argv, CommandModule } from 'yargs';
import { runInit } from '../operations/init.js';
import { createProgressReporter } from '../progress.js';
import { appVersionOptions, projectOptions, splitList } from './common-options.js';
import { failWith, printReport } from './command-output.js';

interface InitArguments {
  project: string;
  app: string;
  tasks: string;
  'dry-run': boolean;
  json: boolean;
  node: 'bundled' | 'host';
  'min-quorum': number;
  'target-nresults': number | undefined;
  platforms: string | undefined;
  cache: string | undefined;
  registry: string | undefined;
}

function builder(yargs: Argv) {
  return appVersionOptions(projectOptions(yargs))
    .option('node', { choices: ['bundled', 'host'] as const, default: 'bundled' as const, describe: 'bundled: ship Node.js 24 in each app version (volunteers need nothing); host: use the volunteer\'s node (Linux and macOS only)' })
    .option('min-quorum', { type: 'number', default: 1, describe: 'results that must agree (1: sample_trivial_validator; more: script_validator with tsmw_compare)' })
    .option('target-nresults', { type: 'number', describe: 'results created per workunit (default: --min-quorum)' })
    .example('$0 init -p ~/projects/test -a pi -t ./tasks.ts', 'set up app "pi": daemons, app, templates, an app version for every platform with Node.js inside')
    .example('$0 init -p ~/projects/test -a pi -t ./tasks.ts --dry-run', 'show the diff of config.xml and project.xml and every file and command, change nothing')
    .example('$0 init -p ~/projects/test -a pi -t ./tasks.ts --platforms x86_64-pc-linux-gnu --node host', 'Linux only, using the volunteers\' own Node.js')
    .example('$0 init -p ~/projects/test -a pi -t ./tasks.ts --min-quorum 2', 'two results per task, compared by decoded output')
    .epilog(
      'Run it again with the same arguments and it changes nothing. Every edited project file is backed up in tsmw/setup/backups/; writes are atomic; a lock keeps two runs apart. Exit status: 0 done, 1 failed, 2 bad usage.',
    );
}

export const initCommand: CommandModule<object, InitArguments> = {
  command: 'init',
  describe: 'set up a BOINC project for an app\'s tsmw tasks (idempotent)',
  builder: (yargs) => builder(yargs) as unknown as Argv<InitArguments>,
  handler: async (argv) => {
    try {
      const report = await runInit({
        projectHome: argv.project,
        app: argv.app,
        tasks: argv.tasks,
        dryRun: argv['dry-run'],
        node: argv.node,
        minQuorum: argv['min-quorum'],
        ...(argv['target-nresults'] === undefined ? {} : { targetNresults: argv['target-nresults'] }),
        ...(argv.platforms === undefined ? {} : { platforms: splitList(argv.platforms) ?? [] }),
        ...(argv.cache === undefined ? {} : { cacheDirectory: argv.cache }),
        ...(argv.registry === undefined ? {} : { registry: argv.registry }),
        progress: createProgressReporter(),
      });
      printReport(report, { json: argv.json });
    } catch (error) {
      failWith(error, argv.json);
    }
  },
};
