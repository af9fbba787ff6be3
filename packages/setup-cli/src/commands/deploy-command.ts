import type { Argv, CommandModule } from 'yargs';
import { runDeploy } from '../operations/deploy.js';
import { createProgressReporter } from '../progress.js';
import { appVersionOptions, projectOptions, splitList } from './common-options.js';
import { failWith, printReport } from './command-output.js';

interface DeployArguments {
  project: string;
  app: string;
  tasks: string;
  'dry-run': boolean;
  json: boolean;
  node: 'bundled' | 'host' | undefined;
  platforms: string | undefined;
  cache: string | undefined;
  registry: string | undefined;
}

function builder(yargs: Argv) {
  return appVersionOptions(projectOptions(yargs))
    .option('node', { choices: ['bundled', 'host'] as const, describe: 'as for init (default: as the app\'s newest version)' })
    .example('$0 deploy -p ~/projects/test -a pi -t ./tasks.ts', 'after changing tasks.ts: app version 1.01 carries the new module; 1.00 stays for workunits made for it')
    .example('$0 deploy -p ~/projects/test -a pi -t ./tasks.ts --dry-run --json', 'what would be deployed, as JSON')
    .epilog('An unchanged task module changes nothing. Needs an app set up by init. Exit status: 0 done, 1 failed, 2 bad usage.');
}

export const deployCommand: CommandModule<object, DeployArguments> = {
  command: 'deploy',
  describe: 'publish a new app version for a changed task module',
  builder: (yargs) => builder(yargs) as unknown as Argv<DeployArguments>,
  handler: async (argv) => {
    try {
      const report = await runDeploy({
        projectHome: argv.project,
        app: argv.app,
        tasks: argv.tasks,
        dryRun: argv['dry-run'],
        ...(argv.node === undefined ? {} : { node: argv.node }),
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
