import type { Argv, CommandModule } from 'yargs';
import { runRemove } from '../operations/remove.js';
import { projectOptions } from './common-options.js';
import { failWith, printReport } from './command-output.js';

interface RemoveArguments {
  project: string;
  app: string;
  'dry-run': boolean;
  json: boolean;
}

function builder(yargs: Argv) {
  return projectOptions(yargs)
    .example('$0 remove -p ~/projects/test -a pi --dry-run', 'show what would be taken out')
    .example('$0 remove -p ~/projects/test -a pi', 'take out what tsmw-setup added for "pi"; config.xml and project.xml get their original bytes back')
    .epilog("BOINC's database keeps the app and its versions, download/ keeps their files, and batches are never touched. Exit status: 0 done, 1 failed, 2 bad usage.");
}

export const removeCommand: CommandModule<object, RemoveArguments> = {
  command: 'remove',
  describe: 'take out only what tsmw-setup added for an app',
  builder: (yargs) => builder(yargs) as unknown as Argv<RemoveArguments>,
  handler: async (argv) => {
    try {
      printReport(await runRemove({ projectHome: argv.project, app: argv.app, dryRun: argv['dry-run'] }), { json: argv.json });
    } catch (error) {
      failWith(error, argv.json);
    }
  },
};
